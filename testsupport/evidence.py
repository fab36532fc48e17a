"""What the evidence tests read: a deployment's state on the engine, and the HTML of a report page."""

from __future__ import annotations

import html.parser
from typing import Any

import docker

from deploy.records import ledger
from deploy.steps import images, snapshot
from testsupport.sandbox import Sandbox


def engine_state(box: Sandbox) -> dict[str, Any]:
    """Everything a plan must leave as it was: containers, volumes, the ledger and the state file."""
    engine: docker.DockerClient = box.engine
    ours, repo = box.settings.project, box.settings.image_repo  # other tests share the engine
    found = engine.containers.list(all=True, filters={"name": ours}, ignore_removed=True)  # others' helpers come and go
    containers = {(c.name, c.id, c.status, c.image.id) for c in found if c.name.startswith(ours)}
    labelled = {(v.name, tuple(sorted((v.attrs.get("Labels") or {}).items()))) for v in engine.volumes.list()}
    volumes = {volume for volume in labelled if volume[0].startswith(ours)}
    return {
        "containers": containers,
        "volumes": volumes,
        "ledger": ledger.read(box.settings, engine),
        "state": snapshot.read_state(box.settings, engine),
        "tags": sorted(tag for image in engine.images.list(name=repo) for tag in images.own_tags(image.tags, repo)),
    }


class Parsed(html.parser.HTMLParser):
    """An HTML page as the tags it opens, the URLs it names (src, href) and its text."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.urls: list[str] = []
        self.data = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.urls += [value or "" for name, value in attrs if name in ("src", "href")]

    def handle_data(self, data: str) -> None:
        self.data += data
