"""`logs`, `remove` and what `deploy` says as operators run them, on a deployment of its own."""

from __future__ import annotations

import re
import subprocess
import sys

from deploy.ids import short
from deploy.records import ledger
from deploy.steps import backups, lock
from testsupport.cli import ROOT, cli_env, invoke
from testsupport.sandbox import Sandbox, git
from testsupport.waiting import wait_for


def volumes(box: Sandbox) -> set[str]:
    return {v.name for v in box.engine.volumes.list() if v.name.startswith(box.settings.project)}


def test_logs_show_each_services_lines_and_remove_keeps_the_state_until_asked(
    sandbox: Sandbox, fast_ticks: None
) -> None:
    assert invoke(sandbox, "build", "deploy").returncode == 0
    settings, engine = sandbox.settings, sandbox.engine
    wait_for(lambda: "bot    | " in invoke(sandbox, "logs").stdout, 30, "the bot's first log line", every=1)
    both = invoke(sandbox, "logs", "--since", "10m")
    services = {line.split(" | ")[0].strip() for line in both.stdout.splitlines()}
    assert both.returncode == 0 and "bot" in services <= {"bot", "worker"}, both.stdout + both.stderr  # a quiet worker
    assert invoke(sandbox, "logs", "--service", "worker").returncode == 0
    bot = invoke(sandbox, "logs", "--service", "bot")
    assert bot.stdout and all(re.match(r"bot    \| \d{4}-\d\d-\d\dT", line) for line in bot.stdout.splitlines())
    assert invoke(sandbox, "logs", "--since", "a while").returncode == 2

    before = volumes(sandbox)
    planned = invoke(sandbox, "remove", "--state", "--plan")
    assert planned.returncode == 0 and "would back up" in planned.stdout and volumes(sandbox) == before
    assert engine.containers.list(filters={"label": f"com.docker.compose.project={settings.project}"})

    # another project on this engine deployed the same commit: the same image id, that project's tag
    other = f"{settings.project}x:live"
    engine.images.get(settings.live_image).tag(other)
    try:
        removed = invoke(sandbox, "remove")
        assert removed.returncode == 0, removed.stdout + removed.stderr
        assert other in engine.images.get(other).tags  # never another project's to untag
    finally:
        engine.images.remove(other)
    assert not engine.containers.list(all=True, filters={"label": f"com.docker.compose.project={settings.project}"})
    assert not engine.images.list(name=settings.image_repo) and volumes(sandbox) == before  # the state stays

    kept = backups.listed(settings, engine)
    gone = invoke(sandbox, "remove", "--state", "--backups")
    assert gone.returncode == 0, gone.stdout + gone.stderr
    [final] = backups.listed(settings, engine)  # the older backups went; the final one stays
    assert final.name not in {b.name for b in kept} and settings.state_volume not in volumes(sandbox)
    assert settings.meta_volume in volumes(sandbox)  # the ledger outlives the deployment
    assert sandbox.volume_files(final.name)  # it holds the state


def test_deploy_says_what_it_leaves_out_and_the_settings_it_passes(sandbox: Sandbox, fast_ticks: None) -> None:
    assert invoke(sandbox, "build").returncode == 0
    sandbox.write("trading/unsaved.py", "X = 1\n")  # not committed: not in the image
    planned = invoke(sandbox, "deploy", "--plan")
    used = "TRADEBOT_TICK_SECONDS=0.2, TRADEBOT_WORKER_POLL_SECONDS=0.2 (every other setting at its default)"
    assert planned.stdout.splitlines()[-1] == f"settings the containers would get: {used}", planned.stdout
    done = invoke(sandbox, "deploy")
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    release = short(git(sandbox.repo, "rev-parse", "HEAD"))
    assert lines[0] == f"deploy: uncommitted changes in trading/unsaved.py are not deployed (the release is {release})"
    assert lines[1] == f"deploy: with {used}"
    assert lines[-1].endswith("is live, healthy and verified"), lines


def test_status_names_a_deploy_in_progress_and_a_closed_stdout_is_one_line(sandbox: Sandbox) -> None:
    with lock.held(sandbox.settings, sandbox.engine, "deploy abc1234"):
        during = invoke(sandbox, "status")
    assert during.returncode == 0, during.stderr
    assert f"IN PROGRESS: deploy abc1234 in progress: held by {ledger.operator()} on " in during.stdout
    assert "IN PROGRESS" not in invoke(sandbox, "status").stdout
    argv = [sys.executable, "-m", "invoke", "status"]
    with subprocess.Popen(argv, cwd=ROOT, env=cli_env(sandbox), stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()  # the reader is gone before the first line: `tradebot status | true`
        err = proc.stderr.read().decode()
    assert proc.returncode == 13, err
    assert err.startswith("error: stdout was closed before the task ended: ") and "Traceback" not in err
