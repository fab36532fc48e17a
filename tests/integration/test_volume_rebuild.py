"""The volume-rebuild path against the real engine: a legacy volume in the seed's layout becomes a
proven state-only volume the live release runs on; every refusal; a killed run finished by the next.

The proofs here are the test's own (`sha256sum` and `stat` in a container), not the code's.
"""

from __future__ import annotations

import hashlib
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime

import docker.errors
import pytest

from deploy.engine import execs, helpers
from deploy.engine.git import Repository
from deploy.engine.runner import Result, Runner
from deploy.errors import RebuildUnfinished
from deploy.ids import short
from deploy.procedures import build
from deploy.procedures import deploy as deploying
from deploy.rebuild import labels
from deploy.records import ledger
from deploy.steps import backups
from testsupport import legacy
from testsupport.cli import ROOT, cli_env, invoke, refused
from testsupport.sandbox import Sandbox, quiet

pytestmark = pytest.mark.usefixtures("fast_ticks")
SECRET = "s3cr3t-" + hashlib.sha256(os.urandom(8)).hexdigest()[:16]
AT = datetime(2026, 1, 1, tzinfo=UTC)
ENV_HASH = hashlib.sha256(legacy.secret_env(SECRET).encode()).hexdigest()


@pytest.fixture
def legacy_volume(sandbox: Sandbox) -> Iterator[str]:
    """`<project>-legacy` in the seed's layout, owned by uid 1000 (removed with the sandbox)."""
    name = f"{sandbox.settings.project}-legacy"
    legacy.make(sandbox.engine, sandbox.settings.base_image or "", name, legacy.files(SECRET))
    yield name


def files_of(box: Sandbox, volume: str) -> dict[str, str]:
    """`{path: "<sha256> <uid>:<gid> <mode>"}` of every file in `volume`, measured by coreutils."""
    script = 'for f; do echo "$(sha256sum "$f" | cut -c1-64) $(stat -c "%u:%g %a" "$f") $f"; done'
    out = box.in_volume(volume, f"cd /v && find . -type f -exec sh -c '{script}' _ {{}} +")
    rows = (line.split(" ", 3) for line in out.splitlines())
    return {path.removeprefix("./"): f"{sha} {owner} {mode}" for sha, owner, mode, path in rows}


def volume_names(box: Sandbox) -> set[str]:
    return {v.name for v in box.engine.volumes.list() if v.name.startswith(box.settings.project)}


def legacy_backups(box: Sandbox, name: str) -> list[str]:
    return [v.name for v in box.engine.volumes.list(filters={"label": f"{backups.BACKUP_OF}={name}"})]


def leaked(result: subprocess.CompletedProcess[str]) -> bool:
    output = result.stdout + result.stderr
    return SECRET in output or ENV_HASH[:10] in output


class Recording(Runner):
    """Runs for real and keeps every result (compose's warnings go to its stderr)."""

    def __init__(self) -> None:
        self.results: list[Result] = []

    def run(self, argv: Sequence[str], **kwargs: object) -> Result:  # type: ignore[override]
        result = super().run(argv, **kwargs)  # type: ignore[arg-type]
        self.results.append(result)
        return result


def test_plan_rebuild_deploy_and_retire_a_legacy_volume(sandbox: Sandbox, legacy_volume: str) -> None:
    box, name = sandbox, legacy_volume
    settings, state = box.settings, box.settings.state_volume
    before, names = files_of(box, name), volume_names(box)

    planned = invoke(box, "volume-rebuild", "--legacy", name, "--plan")
    assert planned.returncode == 0, planned.stderr
    assert "secret   0640  1000:1000" in planned.stdout and "unknown  0644" in planned.stdout
    assert "1 same, 1 changed, 5 only in volume" in planned.stdout and not leaked(planned)
    assert f"a run would back up {name} and make {state}; nothing was changed" in planned.stdout
    assert volume_names(box) == names  # --plan changed nothing
    refused(invoke(box, "volume-retire", "--legacy", name), 9, f"{state} was not rebuilt from it")

    done = invoke(box, "volume-rebuild", "--legacy", name)
    assert done.returncode == 0, done.stderr
    for number, step in enumerate(("inventory", "backup", "state", "drift", "record"), start=1):
        assert re.search(rf"^volume-rebuild \[{number}/5\] {step} … ok \d+\.\d s", done.stdout, re.M), done.stdout
    assert ".env → .env  (secret: content not shown)" in done.stdout and not leaked(done)

    assert files_of(box, name) == before  # the legacy volume is never modified
    [backup] = legacy_backups(box, name)
    assert backup.startswith(f"{name}-backup-") and files_of(box, backup) == before
    carried = files_of(box, state)
    assert set(carried) == legacy.STATE_TARGETS  # no code, no unknown file
    for target in carried:
        source = ".env" if target == ".env" else f"workspace/{target}"
        assert carried[target].split()[0] == before[source].split()[0]  # byte-identical
        assert carried[target].split()[1] == "10001:10001"
    assert carried[".env"].split()[2] == "600"
    made = box.engine.volumes.get(state).attrs["Labels"]
    assert (made["com.docker.compose.project"], made["com.docker.compose.volume"]) == (settings.project, "state")

    again = invoke(box, "volume-rebuild", "--legacy", name)
    assert again.returncode == 0 and "nothing to do" in again.stdout
    assert len(legacy_backups(box, name)) == 1 and files_of(box, state) == carried
    assert "a run would do nothing" in invoke(box, "volume-rebuild", "--legacy", name, "--plan").stdout
    refused(invoke(box, "volume-retire", "--legacy", name), 9, "no live release runs verified")

    runner = Recording()
    repo = Repository(box.repo)
    built = build.build(settings, box.engine, repo, say=quiet)
    deploying.deploy(settings, box.engine, repo, rev=built.commit, runner=runner, say=quiet)
    assert not any("already exists" in r.stderr for r in runner.results)  # compose adopted the volume
    bot = box.engine.containers.list(filters={"label": f"com.docker.compose.project={settings.project}"})[0]
    status = execs.run(bot, ["python3", "-m", "trading", "status", "--json"])
    assert status.exit_code == 0, status.stderr
    position = __import__("json").loads(status.stdout)["state"]["positions"]["BTCUSDT"]
    assert (position["qty"], position["entry_price"]) == (0.3, 91464.0)  # the legacy position, migrated
    assert any(".legacy." in path for path in box.volume_files(state) + box.in_volume(state, "ls /v/backups").split())

    box.in_volume(backup, "touch /v/stray")
    refused(invoke(box, "volume-retire", "--legacy", name), 9, "no backup proven identical")
    box.in_volume(backup, "rm /v/stray")
    retired = invoke(box, "volume-retire", "--legacy", name)
    assert retired.returncode == 0, retired.stderr
    with pytest.raises(docker.errors.NotFound):
        box.engine.volumes.get(name)
    assert files_of(box, backup) == before
    events = [(e.event, e.outcome) for e in ledger.read(settings, box.engine)]
    assert events == [("volume-rebuild", "succeeded"), ("deploy", "succeeded"), ("volume-retire", "succeeded")]


def run_until(box: Sandbox, line_part: str, *args: str) -> int:
    """Start `invoke volume-rebuild`, SIGKILL it when it prints a line containing `line_part`; its exit code.

    Its stdout is a pipe, as in a CI log: each progress line must arrive when it is said, not at the end."""
    argv = [sys.executable, "-m", "invoke", "volume-rebuild", "--verbose", *args]  # verbose: a step said as it starts
    with subprocess.Popen(argv, cwd=ROOT, env=cli_env(box), stdout=subprocess.PIPE, text=True) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line_part in line:
                proc.send_signal(signal.SIGKILL)
                break
        return proc.wait(timeout=60)


@pytest.mark.parametrize("step", ["[2/5] backup", "[3/5] state", "[4/5] drift", "[5/5] record"])
def test_a_run_killed_at_a_step_is_finished_by_the_next(sandbox: Sandbox, legacy_volume: str, step: str) -> None:
    box, name = sandbox, legacy_volume
    before = files_of(box, name)
    assert run_until(box, step, "--legacy", name) == -signal.SIGKILL
    if step != "[2/5] backup":  # from step 2 on the journal is open: nothing may use the state volume
        with pytest.raises(RebuildUnfinished, match=f"volume-rebuild --legacy {name}"):
            backups.backup_state(box.settings, box.engine, box.settings.base_image or "")
        other = f"{name}-other"
        legacy.make(box.engine, box.settings.base_image or "", other, legacy.files(SECRET))
        refused(invoke(box, "volume-rebuild", "--legacy", other), 9, "was interrupted", f"--legacy {name}`")

    finished = invoke(box, "volume-rebuild", "--legacy", name)
    assert finished.returncode == 0, finished.stderr
    assert backups.rebuild_marker(box.settings.state_volume) not in volume_names(box)
    [backup] = legacy_backups(box, name)
    assert files_of(box, backup) == before == files_of(box, name)
    assert set(files_of(box, box.settings.state_volume)) == legacy.STATE_TARGETS
    assert not box.engine.containers.list(all=True, filters={"label": f"{helpers.HELPER_OF}={box.settings.project}"})
    assert "nothing to do" in invoke(box, "volume-rebuild", "--legacy", name).stdout


def test_what_is_refused_changes_nothing(sandbox: Sandbox, legacy_volume: str) -> None:
    box, name = sandbox, legacy_volume
    names = volume_names(box)
    refused(invoke(box, "volume-rebuild", "--legacy", f"{name}-missing"), 9, "no volume named")
    refused(invoke(box, "volume-rebuild", "--legacy", name, "--keep", "workspace/nope"), 9, "--keep workspace/nope")
    code_only = f"{box.settings.project}-codeonly"
    legacy.make(box.engine, box.settings.base_image or "", code_only, {"workspace/trading/main.py": (b"x", 0o644)})
    refused(
        invoke(box, "volume-rebuild", "--legacy", code_only), 9, "does not look like a legacy", "live_portfolio.json"
    )
    user = box.engine.containers.create(  # a legacy bot stopped, which dockerd restarts for `restart: always`
        box.settings.base_image or "",
        ["sleep", "60"],
        volumes={name: {"bind": "/v"}},
        name=f"{box.settings.project}-legacy-bot",
    )
    try:
        refused(invoke(box, "volume-rebuild", "--legacy", name), 9, f"{user.name} (image", f"created) mounts {name}")
        refused(invoke(box, "volume-retire", "--legacy", name), 9, "the legacy bot's containers", user.name)
    finally:
        user.remove(force=True)
    assert volume_names(box) == names | {code_only}


def test_a_container_mounting_the_state_or_the_legacy_volume_refuses_the_rebuild_before_any_change(
    sandbox: Sandbox, legacy_volume: str
) -> None:
    """One writer (issue 18): a hand-run container writing the state volume a forced rebuild would replace, and a
    stopped one mounting the legacy volume read-only: exit 9 naming both, and nothing changed."""
    box, name, state = sandbox, legacy_volume, sandbox.settings.state_volume
    box.engine.volumes.create(state)
    box.in_volume(state, "echo newer > /v/live_portfolio.json")
    names = volume_names(box)
    image, project = box.settings.base_image or "", box.settings.project
    writer = box.engine.containers.run(
        image, ["sleep", "600"], name=f"{project}-by-hand", volumes={state: {"bind": "/s"}}, detach=True
    )
    reader = box.engine.containers.create(
        image, ["sleep", "60"], name=f"{project}-legacy-reader", volumes={name: {"bind": "/v", "mode": "ro"}}
    )
    try:
        line = refused(
            invoke(box, "volume-rebuild", "--legacy", name, "--force"), 9, "docker rm -f", "nothing was changed"
        )
    finally:
        writer.remove(force=True)
        reader.remove(force=True)
    assert f"{writer.name} (image {short(writer.image.id)}, running) mounts {state}" in line
    assert f"{reader.name} (image {short(reader.image.id)}, created) mounts {name}" in line
    assert volume_names(box) == names  # no backup, no journal, the state volume kept
    assert box.in_volume(state, "cat /v/live_portfolio.json") == "newer\n"


def test_the_drift_is_against_the_commit_rev_names(sandbox: Sandbox, legacy_volume: str) -> None:
    """The legacy strategy.py is the first commit's: after a later commit changes it, only `--rev` of the
    first commit still finds it the same. An unknown `--rev` is a named error."""
    box, name = sandbox, legacy_volume
    first = Repository(box.repo).commit().sha
    source = (box.repo / "trading" / "strategy.py").read_text()
    later = box.commit("strategy changed after the legacy copy", {"trading/strategy.py": source + "# later\n"})
    head, then = (invoke(box, "volume-rebuild", "--legacy", name, "--plan", *rev) for rev in ((), ("--rev", first)))
    assert head.returncode == 0 and then.returncode == 0, head.stderr + then.stderr
    assert f"against trading/ at {short(later)}: 0 same, 2 changed, " in head.stdout
    assert f"against trading/ at {short(first)}: 1 same, 1 changed, " in then.stdout
    refused(invoke(box, "volume-rebuild", "--legacy", name, "--rev", "no-such-rev"), 4, "unknown revision")


def test_a_state_volume_holding_state_is_replaced_only_with_force_after_a_backup(
    sandbox: Sandbox, legacy_volume: str
) -> None:
    box, name = sandbox, legacy_volume
    state = box.settings.state_volume
    box.engine.volumes.create(state)
    box.in_volume(state, "echo newer > /v/live_portfolio.json")
    refused(invoke(box, "volume-rebuild", "--legacy", name), 9, "already holds state", "--force")
    assert "a run would refuse (the state volume" in invoke(box, "volume-rebuild", "--legacy", name, "--plan").stdout
    assert legacy_backups(box, name) == []

    unknown = legacy.UNKNOWN
    forced = invoke(box, "volume-rebuild", "--legacy", name, "--force", "--keep", unknown)
    assert forced.returncode == 0, forced.stderr
    [kept] = legacy_backups(box, state)
    assert box.in_volume(kept, "cat /v/live_portfolio.json") == "newer\n"
    assert set(files_of(box, state)) == legacy.STATE_TARGETS | {unknown.removeprefix("workspace/")}


def test_a_half_copied_backup_and_state_volume_left_by_a_crash_are_made_again(
    sandbox: Sandbox, legacy_volume: str
) -> None:
    """What a kill in the middle of a copy leaves: the journal, a partial backup, a partial state volume."""
    box, name = sandbox, legacy_volume
    settings, state = box.settings, box.settings.state_volume
    backup = f"{name}-backup-20260101T000000.000Z"
    box.engine.volumes.create(backups.rebuild_marker(state), labels=labels.journal_labels(name, backup, AT))
    box.engine.volumes.create(backup, labels=labels.backup_labels(name, AT))
    box.in_volume(backup, "mkdir -p /v/workspace && echo partial > /v/workspace/live_portfolio.json")
    ours = labels.state_labels(settings.project, "state", "2.40.3", name, backup)
    box.engine.volumes.create(state, labels=ours)
    box.in_volume(state, "echo partial > /v/live_portfolio.json")

    finished = invoke(box, "volume-rebuild", "--legacy", name)
    assert finished.returncode == 0, finished.stderr
    assert legacy_backups(box, name) == [backup]  # the name the interrupted run chose, now a proven copy
    assert files_of(box, backup) == files_of(box, name)
    carried = files_of(box, state)
    assert carried["live_portfolio.json"].split()[0] == files_of(box, name)["workspace/live_portfolio.json"].split()[0]
    assert backups.rebuild_marker(state) not in volume_names(box)


def test_a_rebuild_killed_before_it_made_the_state_volume_refuses_deploy_rollback_and_restore(
    sandbox: Sandbox, legacy_volume: str
) -> None:
    """The issue's case: the journal volume exists, the state volume does not; a deploy went ahead, made an empty
    state volume and traded a fresh portfolio on it. Then the legacy bot's container, once the rebuild finished."""
    box, name = sandbox, legacy_volume
    state, project = box.settings.state_volume, box.settings.project
    build.build(box.settings, box.engine, Repository(box.repo), say=quiet)  # a deploy would have an image to run
    backup = f"{name}-backup-20260101T000000.000Z"
    box.engine.volumes.create(backups.rebuild_marker(state), labels=labels.journal_labels(name, backup, AT))
    for command in (("deploy",), ("rollback",), ("restore",)):
        refused(invoke(box, *command), 9, "did not finish", f"`invoke volume-rebuild --legacy {name}` again")
    assert state not in volume_names(box)
    assert not box.engine.containers.list(all=True, filters={"label": f"com.docker.compose.project={project}"})

    assert invoke(box, "volume-rebuild", "--legacy", name).returncode == 0
    user = box.engine.containers.create(  # a legacy bot stopped, which dockerd restarts for `restart: always`
        box.settings.base_image or "", ["sleep", "60"], volumes={name: {"bind": "/v"}}, name=f"{project}-legacy-bot"
    )
    try:
        refused(invoke(box, "deploy"), 9, "the legacy bot's containers", user.name)
    finally:
        user.remove(force=True)
    assert not box.engine.containers.list(all=True, filters={"label": f"com.docker.compose.project={project}"})
