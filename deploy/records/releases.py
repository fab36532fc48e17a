"""What a rollback needs of a release, kept with it on the engine: `<project>_meta:/releases/<attempt>.json`.

Written once, in the archive of the attempt's `succeeded` ledger entry (`deploy.procedures.procedure`):
no round trip of its own. A rollback or a verify on a clone that lacks the release's commit (or with
no clone at all) reads it instead of git (`deploy.verify.reference`):

    compose     the commit's compose file as Compose resolved it, variables kept (`config
                --no-interpolate`: include and extends folded in); run as the `docker-compose.yml` of a
                tree of its own, Compose computes the same config hashes from it as from the commit
    code        `{relpath: sha256}` of `trading/` at the commit, and the diff_id of its code layer
    by, at      who deployed it, and when: without the commit, verify's commit point is "as recorded"

The runtime settings are the ledger entry's (`ledger.runtime_of`). A release deployed before this
record existed has none: its rollback needs a clone with the commit, as before.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass

from deploy.records.ledger import SUCCEEDED, Entry

FOLDER = "releases"
FORMAT = 1


@dataclass(frozen=True)
class Release:
    commit: str
    image_id: str
    compose: str  # a compose file (JSON), variables kept
    code: dict[str, str]  # `{relpath: sha256}` of trading/
    code_layer: str  # `sha256:…`, computed from the commit
    by: str
    at: str

    def to_json(self) -> str:
        return json.dumps({"format": FORMAT, **asdict(self)}, indent=1, sort_keys=True)

    @classmethod
    def parse(cls, data: bytes) -> Release:
        doc = json.loads(data)
        return cls(*(doc[name] for name in cls.__dataclass_fields__))


def path(attempt: str) -> str:
    return f"{FOLDER}/{attempt}.json"


def files(release: Release, attempt: str) -> dict[str, bytes]:
    """The record as a meta volume file, to go in the archive of the attempt's ledger entry."""
    return {path(attempt): release.to_json().encode()}


def newest_success(entries: Iterable[Entry], image_id: str) -> Entry | None:
    """The newest succeeded attempt that made `image_id` live and has an id (a record can be under it)."""
    found = [e for e in entries if e.image_id == image_id and e.outcome == SUCCEEDED and e.attempt and e.is_release]
    return found[-1] if found else None
