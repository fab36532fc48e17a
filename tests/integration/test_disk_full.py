"""A full state volume (tmpfs-backed, a few MiB) under a running deployment: named, never a crash loop.

Bot and worker keep running on their last good state (the heartbeat and the command bus wait for
room), `python -m trading health` and a deploy's error say the volume is full and how full, and once
there is room again the same containers are healthy.
"""

from __future__ import annotations

import time

import pytest

from deploy.engine import execs
from deploy.steps import health
from testsupport.cli import invoke
from testsupport.sandbox import Sandbox
from testsupport.waiting import wait_for

pytestmark = pytest.mark.usefixtures("fast_ticks")
RUNTIME_USER = "10001"
# Fill the volume and keep it full: every page a bot or worker frees (a heartbeat renamed over the last) is taken.
FILL = (
    "mkdir -p /v/fill; dd if=/dev/zero of=/v/fill/big bs=64k 2>/dev/null; i=0; "
    "while :; do i=$((i+1)); head -c 4096 /dev/zero > /v/fill/$i 2>/dev/null || { rm -f /v/fill/$i; sleep 0.02; }; done"
)


def service(box: Sandbox, name: str):
    container = health.service_container(box.settings, box.engine, name)
    assert container is not None
    return container


@pytest.mark.timeout(360)  # a build, a deploy and a redeploy the full volume fails
def test_a_full_state_volume_is_named_and_nothing_crash_loops(sandbox: Sandbox) -> None:
    settings, engine = sandbox.settings, sandbox.engine
    options = {"type": "tmpfs", "device": "tmpfs", "o": f"size=4m,uid={RUNTIME_USER},gid={RUNTIME_USER},mode=0750"}
    engine.volumes.create(settings.state_volume, driver="local", driver_opts=options)
    assert invoke(sandbox, "build", "deploy").returncode == 0
    live = engine.images.get(settings.live_image).id

    filler = engine.containers.run(
        settings.base_image or "",
        ["sh", "-c", FILL],
        name=f"{settings.project}-filler",
        detach=True,
        volumes={settings.state_volume: {"bind": "/v"}},
        network_disabled=True,
    )
    time.sleep(3)  # a few ticks and polls on the full volume
    for name in ("bot", "worker"):
        container = service(sandbox, name)
        container.reload()
        assert (container.status, container.attrs["RestartCount"]) == ("running", 0), name
    probe = execs.run(service(sandbox, "bot"), ["python3", "-m", "trading", "health", "--role", "bot"])
    assert probe.exit_code == 5 and b"/var/lib/tradebot is full (4.0 of 4.0 MiB used)" in probe.stdout

    filler.remove(force=True)  # the volume stays full; a deploy refuses while another container mounts it
    redeploy = invoke(sandbox, "deploy")
    assert redeploy.returncode != 0
    assert "/var/lib/tradebot is full (4.0 of 4.0 MiB used)" in redeploy.stderr, redeploy.stderr

    sandbox.in_volume(settings.state_volume, "rm -rf /v/fill")
    for name in ("bot", "worker"):
        wait_for(lambda name=name: health.current_verdict(settings, engine, name, live).status == health.HEALTHY)
