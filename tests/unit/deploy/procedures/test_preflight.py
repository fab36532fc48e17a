"""The preflight's judgements (`deploy.procedures.preflight`): each refusal's message, and what lets a release pass.

Compose is a stand-in that answers as `docker compose config` would (its real answers: tests/integration/
test_faults.py); the check-config containers are stand-ins that exit as the release would.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from deploy.engine.runner import Result
from deploy.engine.tree import Trees
from deploy.errors import CommandFailed, ComposeFileInvalid, ForeignWriters, SettingsInvalid, StateVolumeMissing
from deploy.ids import short
from deploy.policy.compose_file import Views
from deploy.procedures import preflight
from deploy.procedures.procedure import Deployment
from deploy.records import ledger
from deploy.steps.backups import Backup
from tests.unit.deploy.procedures.site import NEW, OLD, Recorder, Site, success

SERVICES = {"bot": {"environment": {"TRADEBOT_TICK_SECONDS": "abc"}}, "worker": {"image": "p:live"}}


@dataclass
class Compose:
    """`docker compose config` of a commit's compose file: its JSON, or Compose's complaint."""

    resolved: Mapping[str, object] = field(default_factory=lambda: {"services": SERVICES})
    complaint: str = ""
    files: dict[str, str] = field(default_factory=lambda: {NEW.commit: "services: …"})  # each commit's compose file
    ran: list[str] = field(default_factory=list)  # the compose files it was given

    def export(self, commit: str, into: Path) -> list[str]:
        """The commit's tree: its compose file, when it has one."""
        if commit in self.files:
            (into / "docker-compose.yml").write_text(self.files[commit])
        return []

    def run(self, argv: Sequence[str], *, env: Mapping[str, str] | None = None, input: str | None = None) -> Result:
        """The resolved file as JSON, as written (here: the same), or its variables (here: none)."""
        self.ran.append(Path(argv[list(argv).index("-f") + 1]).read_text())
        if self.complaint:
            raise CommandFailed(argv, 15, f"validating docker-compose.yml:\n{self.complaint}\n")
        return Result(0, json.dumps({} if "--variables" in argv else self.resolved), "")


def with_compose(d: Deployment, compose: Compose) -> Deployment:
    """`d` on the repository `compose` (its trees exported anew: a commit's tree is exported once per command)."""
    return dataclasses.replace(d, repo=compose, runner=compose, trees=Trees())


def refused(d: Deployment, compose: Compose) -> ComposeFileInvalid:
    with pytest.raises(ComposeFileInvalid) as raised:
        preflight.views(with_compose(d, compose), NEW)
    assert raised.value.exit_code == 10
    assert raised.value.hint == (
        "fix docker-compose.yml (it must name the services bot and worker), commit, build and deploy that"
    )
    return raised.value


def test_the_compose_file_is_resolved_from_the_commits_tree_in_three_views(d: Deployment) -> None:
    compose = Compose()
    assert preflight.views(with_compose(d, compose), NEW) == Views({"services": SERVICES}, {"services": SERVICES}, {})
    assert compose.ran == ["services: …"] * 3


@pytest.mark.parametrize(
    ("compose", "detail"),
    [
        (Compose(files={}), "the commit has no docker-compose.yml"),
        (Compose(complaint="services.bot.ports must be a list"), "services.bot.ports must be a list"),
        (Compose(resolved={"services": {"bot": {}}}), "it names no service worker"),
        (Compose(resolved={}), "it names no service bot, worker"),
    ],
    ids=["no compose file", "compose refuses it", "no worker", "no services"],
)
def test_an_unusable_compose_file_is_refused_naming_why(d: Deployment, compose: Compose, detail: str) -> None:
    error = refused(d, compose)
    assert (
        error.message == f"the docker-compose.yml of {short(NEW.commit)} cannot be used: {detail}; nothing was stopped"
    )


def checks(d: Deployment, monkeypatch: pytest.MonkeyPatch, answers: dict[str, tuple[int, list[str]]]) -> list[dict]:
    """Run `check_settings` with check containers answering per TRADEBOT_TICK_SECONDS; the environments seen."""
    seen: list[dict] = []

    def run_check(_d: Deployment, _image: object, environment: Mapping[str, str | None]) -> tuple[int, list[str]]:
        seen.append(dict(environment))
        return answers.get(str(environment.get("TRADEBOT_TICK_SECONDS")), (0, ["ok"]))

    monkeypatch.setattr(preflight, "run_check", run_check)
    preflight.check_settings(d, NEW, {"services": SERVICES})
    return seen


def test_each_service_is_checked_with_its_own_environment(d: Deployment, monkeypatch: pytest.MonkeyPatch) -> None:
    seen = checks(d, monkeypatch, {})
    assert sorted(seen, key=len) == [{}, {"TRADEBOT_TICK_SECONDS": "abc"}]


@pytest.mark.parametrize(
    ("answer", "detail"),
    [
        ((2, ["", "TRADEBOT_TICK_SECONDS='abc' is not a number"]), "TRADEBOT_TICK_SECONDS='abc' is not a number"),
        ((137, []), "exit code 137"),
    ],
    ids=["its last line", "no output: its exit code"],
)
def test_settings_the_release_refuses_are_named_with_the_service(
    d: Deployment, monkeypatch: pytest.MonkeyPatch, answer: tuple[int, list[str]], detail: str
) -> None:
    with pytest.raises(SettingsInvalid) as raised:
        checks(d, monkeypatch, {"abc": answer})
    assert raised.value.message == f"the release refuses the settings of service bot: {detail}; nothing was stopped"
    assert raised.value.hint == "fix or unset the TRADEBOT_* variables it names in the environment you deploy from"


def test_a_missing_state_volume_is_refused_naming_the_newest_backup(d: Deployment, site: Site) -> None:
    site.backups += [Backup("p_state-backup-1", "2026-01-01T00:00:00"), Backup("p_state-backup-2", "2026-02-01")]
    with pytest.raises(StateVolumeMissing) as raised:
        preflight.state_volume(d, released_before=True)
    assert raised.value.message == (
        "state volume p_state is missing although this deployment has released before (the newest backup is "
        "p_state-backup-2); nothing was started on an empty state"
    )
    assert raised.value.hint == (
        "put the state back with `invoke restore` (default: p_state-backup-2), or deploy with --fresh-state to "
        "start a new portfolio on purpose"
    )
    assert raised.value.data == {"volume": "p_state", "newest_backup": "p_state-backup-2"}


def test_a_missing_state_volume_without_backups_says_none_exists(d: Deployment) -> None:
    with pytest.raises(StateVolumeMissing) as raised:
        preflight.state_volume(d, released_before=True)
    assert "(no backup of it exists)" in raised.value.message
    assert raised.value.hint.startswith("put the state back with `invoke restore`, or deploy with --fresh-state")


def test_a_state_volume_is_needed_only_once_the_deployment_released(d: Deployment, site: Site) -> None:
    preflight.state_volume(d, released_before=False)  # a first deploy creates it
    site.volumes.add("p_state")
    preflight.state_volume(d, released_before=True)


def test_released_before_is_a_live_tag_or_a_success_in_the_ledger(d: Deployment, seen: Recorder) -> None:
    assert preflight.released_before(d, OLD)
    assert not preflight.released_before(d, None)
    seen.records.ledger.append(dataclasses.replace(success(NEW), outcome=ledger.FAILED))
    assert not preflight.released_before(d, None)  # only ever failed: nothing ran on the state
    seen.records.ledger.append(success(OLD))
    assert preflight.released_before(d, None)


def test_the_steps_check_the_state_volume_unless_a_fresh_state_is_asked_for(d: Deployment) -> None:
    names = [step.name for step in preflight.steps(d, NEW, released_before=True, fresh_state=False)]
    new = short(NEW.commit)
    assert names == [
        f"check the docker-compose.yml of {new}",
        f"check {new} against the security policy",
        f"check the runtime settings with {short(NEW.image_id)}",
        "check that p_state exists",
        "check that only bot and worker mount p_state",
    ]
    fresh = [step.name for step in preflight.steps(d, NEW, True, fresh_state=True)]
    assert fresh == [*names[:3], names[4]]
    by_standby = [step.name for step in preflight.steps(d, NEW, True, fresh_state=False, standby=True)]
    assert by_standby == [*names[:2], *names[3:]]  # a handover's standbys check the settings


def test_a_plan_says_the_policy_verdict_on_the_compose_file_now(d: Deployment) -> None:
    rule = f"the compose file of {short(NEW.commit)} breaks the security policy (exit 10, nothing is changed)"
    assert preflight.policy_stop(with_compose(d, Compose(files={})), NEW) == (
        f"{rule}: not judged now, the compose file does not resolve (the check before stops it)"
    )
    privileged = {"services": {"bot": {"privileged": True}, "worker": {}}}
    verdict = preflight.policy_stop(with_compose(d, Compose(resolved=privileged)), NEW)
    assert verdict.startswith(f"{rule}: IT DOES — bot ")


def test_a_foreign_writer_of_the_state_is_refused_naming_each(d: Deployment, site: Site) -> None:
    preflight.writers_step(d).action()  # none: it passes
    site.writers = {
        "p_state": ["evil (image abababababab, running)"],
        "legacy": ["old-bot (image cdcdcdcdcdcd, exited)"],
    }
    with pytest.raises(ForeignWriters) as raised:
        preflight.writers_step(d).action()
    assert raised.value.message == (
        "evil (image abababababab, running) mounts p_state; old-bot (image cdcdcdcdcdcd, exited) mounts legacy: "
        "another writer of the state; nothing was stopped"
    )
    assert raised.value.exit_code == 10
    assert raised.value.data == {
        "writers": [
            "evil (image abababababab, running) mounts p_state",
            "old-bot (image cdcdcdcdcdcd, exited) mounts legacy",
        ]
    }
