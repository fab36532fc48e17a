"""Issue 18's attacks from inside the container and by engine access, on a real deployment.

Each test attacks the live release as the runtime user or an engine user would, then names the
exact set of checks verify must trip (or proves the attack has no effect at all).
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from datetime import datetime

import docker
import pytest
from docker.models.containers import Container

from deploy.config import SERVICES, STATE_PATH
from deploy.engine import execs
from deploy.ids import short
from deploy.steps import health, status
from deploy.verify import drift
from deploy.verify.processes import ACCOUNTED, CONFINED, IMPORTS, NON_ROOT
from tests.integration.verifying import (
    Deployed,
    compose_run,
    deploy_two_releases,
    detail,
    failed_checks,
    point,
    put_back,
    run_verify,
    service,
)
from testsupport.sandbox import Sandbox
from testsupport.waiting import wait_for

# Code that leaves a file `imported-<what>-<pid>` in the state directory when it runs.
MARK = "import os, sys; open({state!r} + '/imported-{what}-%d' % os.getpid(), 'w').write(' '.join(sys.argv))"
# Run as the runtime user in the bot: a working copy of the standard library's json that marks each importer,
# and the other files an interpreter may run at its start (site and user customisation, a .pth file).
PLANT = f"""
import json, os, shutil, sys
state = sys.argv[1]
shutil.copytree(os.path.dirname(json.__file__), state + "/json", ignore=shutil.ignore_patterns("__pycache__"))
with open(state + "/json/__init__.py", "a") as module:
    module.write("\\n" + {MARK!r}.format(state=state, what="json") + "\\n")
for name in ("sitecustomize", "usercustomize"):
    with open(state + "/" + name + ".py", "w") as module:
        module.write({MARK!r}.format(state=state, what=name) + "\\n")
with open(state + "/x.pth", "w") as pth:
    pth.write({MARK!r}.format(state=state, what="pth") + "\\n")
"""
PLANTED = ("json", "sitecustomize.py", "usercustomize.py", "x.pth", "imported-*")


@pytest.fixture(scope="module")
def deployed(module_sandbox: Sandbox, docker_client: docker.DockerClient) -> Deployed:
    return deploy_two_releases(module_sandbox, docker_client)


@pytest.fixture(autouse=True)
def restored(deployed: Deployed) -> Iterator[None]:
    yield
    put_back(deployed)


def instant(text: str) -> datetime:
    """An engine timestamp (RFC 3339, nanoseconds) as a datetime (microseconds)."""
    return datetime.fromisoformat(re.sub(r"(\.\d{6})\d*", r"\1", text).replace("Z", "+00:00"))


def checked_since_start(container: Container) -> bool:
    """Whether the engine ran a health check that passed since the container last started."""
    container.reload()
    state = container.attrs["State"]
    started = instant(state["StartedAt"])
    log = (state.get("Health") or {}).get("Log") or []
    return any(instant(run["Start"]) > started and run["ExitCode"] == 0 for run in log)


def state_files(d: Deployed) -> list[str]:
    return d.box.volume_files(d.box.settings.state_volume)


def plant(d: Deployed) -> None:
    planted = execs.run(service(d, "bot"), ["python3", "-I", "-c", PLANT, STATE_PATH])
    assert planted.exit_code == 0, planted.stderr


def clear(d: Deployed) -> None:
    d.box.in_volume(d.box.settings.state_volume, "cd /v && rm -rf " + " ".join(PLANTED))


def test_code_written_into_the_state_volume_is_never_imported(deployed: Deployed) -> None:
    """Attack 1: the runtime user plants modules in the state volume; no process of the image ever imports them."""
    plant(deployed)
    try:
        assert {"json", "sitecustomize.py", "usercustomize.py", "x.pth"} <= set(state_files(deployed))
        for name in SERVICES:  # the bot and the worker start again, now with the planted files beside them
            service(deployed, name).restart()
        for name in SERVICES:
            wait_for(lambda n=name: checked_since_start(service(deployed, n)), timeout=90, what=f"{name}'s check")
        report = run_verify(deployed)  # verify's own look inside runs in the containers too
        assert report.ok, report.summary()
        assert [name for name in state_files(deployed) if name.startswith("imported-")] == []
    finally:
        clear(deployed)


def test_a_bot_started_without_isolation_is_named(deployed: Deployed) -> None:
    """Attack 1 by engine access: the bot recreated as before issue 18 (no -I, the state volume its working
    directory) imports the planted json; its own report names it, and the path that let it in."""
    plant(deployed)
    try:
        override = "services:\n  bot:\n    entrypoint: [python3, -m, trading]\n    working_dir: /var/lib/tradebot\n"
        compose_run(deployed, "up", "-d", "--no-deps", "bot", override=override)
        wait_for(lambda: health.probe(service(deployed, "bot")), timeout=60, what="the bot's first heartbeat")
        report = run_verify(deployed)
        assert "imported-json-" in " ".join(state_files(deployed))  # the attack worked
        failed = failed_checks(report)
        assert {check for check in failed if not check[1].startswith("policy: ")} == {("bot", IMPORTS)}
        assert {check for check in failed if check[1].startswith("policy: ")} <= {
            ("bot", "policy: entrypoint"),
            ("bot", "policy: working_dir"),
        }
        imports = detail(report, "bot", IMPORTS)
        assert imports.startswith("not isolated (python3 without -I); /var/lib/tradebot on sys.path; ")
        assert "json from /var/lib/tradebot/json/__init__.py" in imports
        (drift,) = point(report, "configuration")
        assert drift.startswith("bot's configuration drifted")
    finally:
        clear(deployed)


def docker_exec(container: Container, argv: list[str], options: tuple[str, ...] = ()) -> None:
    """`docker exec -d …` as an engine user types it: a process started beside the service, left running."""
    done = subprocess.run(["docker", "exec", "-d", *options, container.id or "", *argv], capture_output=True)
    assert done.returncode == 0, done.stderr


def test_a_python_exec_d_beside_the_bot_is_named(deployed: Deployed) -> None:
    """Attack 6: a second Python beside the bot, as the runtime user, confined like it: only accounting sees it."""
    docker_exec(service(deployed, "bot"), ["python3", "-I", "-c", "import time; time.sleep(600)"])
    report = run_verify(deployed)
    assert failed_checks(report) == {("bot", ACCOUNTED)}
    pattern = r"pid \d+ python3 -I -c import time; time.sleep\(600\) \(exec'd, \d+s old, uid 10001, exe /usr/\S+\)"
    assert re.fullmatch(pattern, detail(report, "bot", ACCOUNTED))


def test_a_root_process_exec_d_beside_the_bot_is_named(deployed: Deployed) -> None:
    """Attack 6 as root (`--privileged` is refused beside no-new-privileges: the runtime cannot apply its caps)."""
    docker_exec(service(deployed, "bot"), ["sleep", "600"], ("-u", "0"))
    report = run_verify(deployed)
    assert failed_checks(report) == {("bot", ACCOUNTED), ("bot", CONFINED), ("bot", NON_ROOT)}
    confined = detail(report, "bot", CONFINED)
    assert re.fullmatch(r"pid \d+ sleep 600: uid 0/0/0/0 gid 0/0/0/0(, groups [0-9 ]+)?", confined)


def test_an_entrypoint_that_starts_code_beside_the_bot_is_named(deployed: Deployed) -> None:
    """Attack 6: `python3 -c "$X"` started by the entrypoint beside an isolated bot that passes every other check."""
    override = (
        "services:\n  bot:\n"
        '    entrypoint: [sh, -c, \'python3 -c "$$X" & exec python3 -I -m trading "$$@"\', --]\n'
        "    environment:\n      X: import time; time.sleep(600)\n"
    )
    compose_run(deployed, "up", "-d", "--no-deps", "bot", override=override)
    wait_for(lambda: health.probe(service(deployed, "bot")), timeout=60, what="the bot's first heartbeat")
    report = run_verify(deployed)
    failed = failed_checks(report)
    assert {check for check in failed if not check[1].startswith("policy: ")} == {("bot", ACCOUNTED)}
    assert {check for check in failed if check[1].startswith("policy: ")} <= {
        ("bot", "policy: entrypoint"),
        ("bot", "policy: environment"),
    }
    accounted = detail(report, "bot", ACCOUNTED)
    assert accounted.startswith("0 processes run `sh -c ")  # the service process is not what the engine started
    assert "python3 -c import time; time.sleep(600) (child of pid " in accounted
    assert "python3 -I -m trading bot (child of pid 1, " in accounted


def test_docker_update_of_the_restart_policy_and_resources_is_named(deployed: Deployed) -> None:
    """Attack 6: `docker update` changes a running container; its config-hash label stays the commit's."""
    bot = service(deployed, "bot").id or ""
    done = subprocess.run(
        ["docker", "update", "--restart", "no", "--memory", "256m", "--memory-swap", "512m", "--cpus", ".5", bot],
        capture_output=True,
    )
    assert done.returncode == 0, done.stderr
    report = run_verify(deployed)
    assert failed_checks(report) == {("bot", drift.RESTART), ("bot", drift.RESOURCES)}
    assert detail(report, "bot", drift.RESTART) == "no, the commit's unless-stopped"
    assert detail(report, "bot", drift.RESOURCES).startswith("Memory 268435456, the commit's 0; NanoCpus 500000000,")
    assert point(report, "configuration") == ()  # the label alone would not tell


def test_a_network_connected_by_hand_is_named(deployed: Deployed) -> None:
    engine, name = deployed.box.engine, f"{deployed.box.settings.project}-elsewhere"
    network = engine.networks.create(name)
    try:
        network.connect(service(deployed, "bot"))
        report = run_verify(deployed)
        assert failed_checks(report) == {("bot", drift.NETWORKS)}
        assert detail(report, "bot", drift.NETWORKS) == f"connected to {name}"
    finally:
        put_back(deployed)  # the bot is recreated off the network, which can then go
        network.remove()


def test_a_container_run_by_hand_on_the_meta_volume_is_named_by_verify_and_status(deployed: Deployed) -> None:
    """One writer of the records: the ledger, journal and lock records are the pipeline's alone."""
    box = deployed.box
    name = f"{box.settings.project}-records-by-hand"
    intruder = box.engine.containers.run(
        box.settings.base_image or "",
        ["sleep", "600"],
        name=name,
        volumes={box.settings.meta_volume: {"bind": "/m", "mode": "rw"}},
        network_disabled=True,
        detach=True,
    )
    try:
        report = run_verify(deployed)
        assert failed_checks(report) == {("meta volume", "one writer")}
        named = f"{name} (image {short(intruder.image.id or '')}, running) mounts {box.settings.meta_volume}"
        assert detail(report, "meta volume", "one writer") == named
        assert [line for line in status.status(box.settings, box.engine).disagreements if name in line] == [named]
    finally:
        intruder.remove(force=True)
    assert run_verify(deployed).ok
