"""The build records: which image the pipeline built for which commit, every layer included.

    <project>_meta/builds/<commit>-<image id, 12 hex>.json    one per image built, written once

A release image's labels and its code layer can be copied onto any image: re-built from the
commit's own context with lines added before `COPY rootfs/ /`, it carries the same code layer and
labels. What cannot be copied is its id, a digest over its configuration and every layer's
diff_id. So the build records the id and all layers (the base's included), and only a recorded
image is ever deployed, tagged `:previous`, rolled back to or counted by retention
(`deploy.steps.tags`); verify compares the live image with the record (`release image`).

A release image built before records existed has none; it is recorded once when the ledger shows
that the pipeline released that very image for that commit (`adoptable`), never otherwise.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import docker

from deploy.config import Settings
from deploy.ids import short
from deploy.records import meta
from deploy.records.ledger import Entry

FOLDER = "builds"


@dataclass(frozen=True)
class Build:
    commit: str
    image_id: str
    layers: tuple[str, ...]  # `RootFS.Layers`: every layer's diff_id, the base's first, the code layer last
    base_ref: str = ""  # the base image as the build named it
    base_id: str = ""
    code_layer: str = ""
    dirty: bool = False
    built_at: str = ""
    by: str = ""
    adopted: bool = False  # recorded after the fact from the ledger (an image built before records existed)

    @property
    def path(self) -> str:
        return f"{FOLDER}/{self.commit}-{short(self.image_id)}.json"

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Build:
        names = {f.name for f in dataclasses.fields(cls)}
        found = {key: value for key, value in data.items() if key in names}
        return cls(**{**found, "layers": tuple(found.get("layers") or ())})


def parse_files(found: Mapping[str, bytes]) -> list[Build]:
    """The records among a builds folder's files; a file that is none is skipped."""
    records = []
    for name in sorted(found):
        try:
            records.append(Build.from_dict(json.loads(found[name])))
        except (ValueError, TypeError):
            continue
    return records


def read(settings: Settings, engine: docker.DockerClient) -> list[Build]:
    return parse_files(meta.read_folder(settings, engine, FOLDER))


def write(settings: Settings, engine: docker.DockerClient, build: Build) -> None:
    meta.write(settings, engine, {build.path: build.to_json().encode()})


def of_image(records: Iterable[Build], image_id: str) -> Build | None:
    """The record of image `image_id`; None: the pipeline never built it."""
    return next((record for record in records if record.image_id == image_id), None)


def of_commit(records: Iterable[Build], commit: str) -> list[Build]:
    return [record for record in records if record.commit == commit]


def adoptable(entries: Iterable[Entry], commit: str, image_id: str) -> bool:
    """Whether the ledger shows the pipeline released image `image_id` as commit `commit` (pure)."""
    return any(entry.is_release and entry.commit == commit and entry.image_id == image_id for entry in entries)


def first_difference(layers: Sequence[str], recorded: Sequence[str]) -> int | None:
    """The index of the first layer that differs from the record (a shorter list differs at its end); None: equal."""
    for index, (layer, expected) in enumerate(zip(layers, recorded, strict=False)):
        if layer != expected:
            return index
    return None if len(layers) == len(recorded) else min(len(layers), len(recorded))
