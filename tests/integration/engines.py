"""A second Docker engine for a test: its own dockerd, data root, exec root, socket, bridge and containerd.

Started by the test and removed by it: stopped by its pid, its directories and its
bridge deleted. Never `--bridge=none` (that deletes docker0): it gets a bridge of
its own (`ip link add … type bridge`) and touches no iptables rules. Several at once
(a fleet's test, or tests on parallel workers) each take a free `pool`, held by a lock file while the
engine runs: the address pool its networks come from (`10.<214 + pool>.0.0/16`) and the range of its
bridge's address.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import docker
import docker.errors

from testsupport.waiting import wait_for

START_SECONDS = 60.0
POOLS = 16  # networks from 10.214.0.0/16 … 10.229.0.0/16, bridges in 10.213.0.0/16
SAVED: dict[tuple[str, str], bytes] = {}  # (ref, image id) → `docker save` archive, for `copy_image`


def dockerd_argv(root: Path, name: str, bridge: str, pool: int = 0) -> list[str]:
    return [
        "dockerd",
        "--data-root",
        str(root / "data"),
        "--exec-root",
        str(root / "exec"),
        "--pidfile",
        str(root / "dockerd.pid"),
        "-H",
        f"unix://{root / 'docker.sock'}",
        "--containerd-namespace",
        name,
        "--containerd-plugins-namespace",
        f"{name}-plugins",
        f"--bridge={bridge}",
        "--iptables=false",
        "--ip6tables=false",
        "--ip-masq=false",
        "--default-address-pool",
        f"base=10.{214 + pool}.0.0/16,size=24",
    ]


def ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True)


def connect(socket: Path) -> docker.DockerClient | None:
    """A client of the engine at `socket`, once it answers."""
    try:
        client = docker.DockerClient(base_url=f"unix://{socket}", timeout=120)
        client.ping()
    except docker.errors.DockerException:
        return None
    return client


@dataclass(frozen=True)
class Engine:
    client: docker.DockerClient
    socket: Path
    pid: int  # its dockerd's: `kill -STOP` freezes the engine

    @property
    def address(self) -> str:
        return f"unix://{self.socket}"


@contextlib.contextmanager
def free_pool() -> Iterator[int]:
    """The first of `POOLS` no other test's engine holds: each is held by binding an abstract unix socket
    of its name (no file to remove; the kernel frees it when the holder ends, however it ends)."""
    for pool in range(POOLS):
        with socket.socket(socket.AF_UNIX) as hold:
            try:
                hold.bind(f"\0tradebot-test-pool-{pool}")
            except OSError:  # EADDRINUSE: another engine of a test has it
                continue
            yield pool
            return
    raise RuntimeError(f"all {POOLS} address pools of private engines are in use: too many tests at once")


@contextlib.contextmanager
def second_engine() -> Iterator[Engine]:
    """A running, empty second engine (its addresses from a free pool); everything it made is removed afterwards."""
    with free_pool() as pool, _engine(pool) as engine:
        yield engine


@contextlib.contextmanager
def _engine(pool: int) -> Iterator[Engine]:
    suffix = secrets.token_hex(3)
    name, bridge = f"tradebot-t{suffix}", f"tbt{suffix}"
    root = Path(tempfile.mkdtemp(prefix="tbd", dir="/tmp"))  # short: the exec root holds unix sockets
    ip("link", "add", bridge, "type", "bridge")
    proc: subprocess.Popen[bytes] | None = None
    try:
        ip("addr", "add", f"10.213.{pool * 16 + int(suffix[:2], 16) % 16}.1/24", "dev", bridge)
        with (root / "dockerd.log").open("wb") as log:
            proc = subprocess.Popen(dockerd_argv(root, name, bridge, pool), stdout=log, stderr=subprocess.STDOUT)
        client = wait_for(lambda: connect(root / "docker.sock") or proc.poll(), START_SECONDS, "the second dockerd")
        assert isinstance(client, docker.DockerClient), (root / "dockerd.log").read_text()[-2000:]
        yield Engine(client, root / "docker.sock", proc.pid)
        client.close()
    finally:
        _stop(proc)
        shutil.rmtree(root, ignore_errors=True)
        ip("link", "delete", bridge)


def _stop(proc: subprocess.Popen[bytes] | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    os.kill(proc.pid, signal.SIGCONT)  # a test that froze it and failed before thawing it
    os.kill(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()


def copy_image(source: docker.DockerClient, target: docker.DockerClient, ref: str) -> None:
    """`ref` from one engine into another (save, then load, through the SDK)."""
    image = source.images.get(ref)
    key = (ref, image.id)
    if key not in SAVED:  # every private engine loads the base image: its archive is made once per test process
        SAVED[key] = b"".join(image.save(named=True))
    target.images.load(SAVED[key])
