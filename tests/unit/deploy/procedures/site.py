"""A deployment without an engine, for the procedures' decisions: what they walk, record, say and raise.

The records are `testsupport.records.MemoryRecords` (the `Records` port). What a procedure asks the engine
(`Site`: its images and tags, volumes, each service's health, the helpers a killed command left) is kept in
memory, and the steps that would run Compose, wait for health and verify are stand-ins that note what they
would start or remove. What those do on the real engine is the integration tests' (tests/integration/).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from deploy import verify as verification
from deploy.config import SERVICES, Settings, runtime
from deploy.engine import baseimage, helpers
from deploy.engine.runner import Runner
from deploy.errors import StartFailed, TradebotError
from deploy.ids import short
from deploy.procedures import handover, services, switch
from deploy.procedures.procedure import Deployment, Step
from deploy.records import builds, ledger
from deploy.steps import backups, evidence, health, roles, snapshot, tags, writers
from deploy.steps.images import ReleaseImage
from deploy.steps.status import Status
from deploy.steps.tags import LiveTags
from testsupport.records import MemoryRecords

NO_STATE = snapshot.Snapshot("t", Status("p", None, "", (), None), None, None, "")
OLD = ReleaseImage("sha256:" + "1" * 64, "a" * 40, "d1", dirty=False)
NEW = ReleaseImage("sha256:" + "2" * 64, "b" * 40, "d2", dirty=True)
OLDER = ReleaseImage("sha256:" + "0" * 64, "c" * 40, "d0", dirty=False)


@dataclass
class Recorder:
    """What a procedure did: the steps it walked, what it said, what it recorded."""

    done: list[str] = field(default_factory=list)
    said: list[str] = field(default_factory=list)
    records: MemoryRecords = field(default_factory=MemoryRecords)

    @property
    def recorded(self) -> list[ledger.Entry]:
        return self.records.ledger

    @property
    def started(self) -> list[ledger.Entry]:
        return self.records.journal

    def step(self, name: str, fails: bool = False, error: Exception | None = None) -> Step:
        def action() -> None:
            self.done.append(name)
            if fails or error:
                raise error or TradebotError(f"{name} broke")

        return Step(name, action)


@dataclass
class Site:
    """The engine as the procedures find it, in memory; `install` puts it behind the functions they call."""

    seen: Recorder
    images: dict[str, ReleaseImage] = field(default_factory=dict)  # by id and by tag
    volumes: set[str] = field(default_factory=set)
    backups: list[backups.Backup] = field(default_factory=list)  # the state volume's backups
    healthy: set[str] = field(default_factory=set)  # services running healthy (any release)
    fails_to_start: set[str] = field(default_factory=set)  # commits whose start fails (not healthy)
    leftovers: list[str] = field(default_factory=list)  # helpers a killed command left
    tagged: list[LiveTags] = field(default_factory=list)  # every tags.restore, in order
    started_with: list[dict[str, str]] = field(default_factory=list)  # each start's runtime settings
    foreign: set[str] = field(default_factory=set)  # ids of images the pipeline did not build (no build record)
    recorded_builds: list[builds.Build] = field(default_factory=list)  # build records beside the site's own images
    writers: dict[str, list[str]] = field(default_factory=dict)  # foreign writers of a volume (`steps.writers`)

    def add(self, image: ReleaseImage, *tag_names: str) -> None:
        for ref in (image.image_id, *tag_names):
            self.images[ref] = image

    def start_steps(
        self, d: Deployment, image: ReleaseImage, stop_timeout: int | None = None, expected: object = None
    ) -> list[Step]:
        """`services.start_steps`: recreate, wait until healthy and verify, as one step."""
        self.started_with.append(runtime(d.environ))
        name = f"start {short(image.commit)}" + (f" ({stop_timeout} s to stop the old)" if stop_timeout else "")
        why = StartFailed(f"service bot is not healthy: {short(image.commit)} never beat")
        return [self.seen.step(name, error=why if image.commit in self.fails_to_start else None)]

    def remove_step(self, d: Deployment, image: ReleaseImage, check: bool = False, stop_timeout: int | None = None):
        return self.seen.step(f"remove {short(image.commit)}" + (f" ({stop_timeout} s)" if stop_timeout else ""))

    def restore_tags(self, _settings: Settings, _engine: object, before: LiveTags) -> None:
        self.tagged.append(before)

    def put_back(self, _settings: Settings, _engine: object, _helper: str, backup: str) -> None:
        self.seen.done.append(f"copy {backup} into the state volume")

    def install(self, monkeypatch: pytest.MonkeyPatch) -> Site:
        monkeypatch.setattr(snapshot, "capture", lambda _settings, _engine, _records=None: NO_STATE)
        monkeypatch.setattr(verification, "ahead", lambda *_args: None)  # the site's start steps verify nothing
        for module in (services, switch):
            monkeypatch.setattr(module, "start_steps", self.start_steps)
            monkeypatch.setattr(module, "remove_step", self.remove_step)
        monkeypatch.setattr(evidence, "of_image", lambda _settings, _engine, _image_id: [])
        monkeypatch.setattr(roles, "of_project", lambda _settings, _engine: {service: [] for service in SERVICES})
        monkeypatch.setattr(handover, "possible", lambda _d, _target, _live: None)  # these judge the stop-first way
        monkeypatch.setattr(tags, "restore", self.restore_tags)
        monkeypatch.setattr(tags, "get", lambda _engine, ref: self.images.get(ref))
        monkeypatch.setattr(tags, "known", self.recorded)
        monkeypatch.setattr(writers, "foreign", lambda _settings, _engine, _services: dict(self.writers))
        monkeypatch.setattr(backups, "exists", lambda _engine, name: name in self.volumes)
        monkeypatch.setattr(backups, "restorable", lambda _settings, _engine, name: name in self.volumes)
        monkeypatch.setattr(backups, "restore_state", self.put_back)
        monkeypatch.setattr(backups, "listed", lambda _settings, _engine: list(self.backups))
        monkeypatch.setattr(baseimage, "resolve", lambda _settings, _engine: "base")
        monkeypatch.setattr(helpers, "sweep", lambda _settings, _engine, everyone=False: list(self.leftovers))
        monkeypatch.setattr(health, "current_verdict", self.verdict)
        return self

    def recorded(self, _settings: Settings, _engine: object, _records: object = None) -> list[builds.Build]:
        """The build records: every image of the site but the foreign ones."""
        ours = {image.image_id: image for image in self.images.values() if image.image_id not in self.foreign}
        return [*(builds.Build(i.commit, i.image_id, i.layers) for i in ours.values()), *self.recorded_builds]

    def verdict(self, _settings: Settings, _engine: object, service: str, _image_id: str) -> health.Verdict:
        return health.Verdict(health.HEALTHY if service in self.healthy else health.FAILED)


def deployment(tmp_path: Path, seen: Recorder, environ: Mapping[str, str] | None = None) -> Deployment:
    """A deployment of project `p` acting on nothing: its records in memory, the shell's settings `environ`."""
    settings = Settings(project="p", repo=tmp_path, home=tmp_path / "home")
    shell = dict(environ or {})
    return Deployment(settings, None, None, Runner(), seen.said.append, (), seen.records, shell)  # type: ignore[arg-type]


def success(image: ReleaseImage, **fields: object) -> ledger.Entry:
    """A ledger entry of a deploy of `image` that succeeded."""
    found = ledger.Entry("deploy", image.commit, image.image_id, image.code_digest, "t0", "t1", "me", ledger.SUCCEEDED)
    return dataclasses.replace(found, **fields)
