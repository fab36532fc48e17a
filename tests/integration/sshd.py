"""An sshd on loopback with key authentication, and an `ssh` client configured for it; started and removed by a test.

`DOCKER_HOST=ssh://root@tradebot-ssh:<port>` then reaches the engine the sshd session names
(`SetEnv DOCKER_HOST=…`): the SDK (`use_ssh_client`) and the compose and docker
binaries all run `ssh … docker system dial-stdio`. The client is an `ssh` wrapper first
on PATH that reads this test's config (keys, known host, port) and nothing of the
user's; the server accepts only this test's key, only on 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from testsupport.waiting import wait_for

ALIAS = "tradebot-ssh"
SSHD = Path("/usr/sbin/sshd")
PRIVSEP_DIR = Path("/run/sshd")


@dataclass(frozen=True)
class SshAccess:
    docker_host: str  # ssh://root@tradebot-ssh:<port>
    path: str  # PATH with the configured `ssh` first


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def keygen(path: Path) -> str:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)
    return path.with_suffix(".pub").read_text().strip()


def sshd_config(root: Path, port: int, engine_socket: str) -> str:
    return "\n".join(
        [
            f"ListenAddress 127.0.0.1:{port}",
            f"HostKey {root / 'host_key'}",
            f"PidFile {root / 'sshd.pid'}",
            f"AuthorizedKeysFile {root / 'authorized_keys'}",
            "AuthenticationMethods publickey",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "PermitRootLogin prohibit-password",
            "AllowUsers root",
            "UsePAM no",
            "StrictModes no",
            "X11Forwarding no",
            "AllowTcpForwarding no",
            # SHLVL=1: the login shell (bash) runs each session's command without sourcing this machine's
            # ~/.bashrc, which bash does for a session of sshd at level 1 (a pyenv init there costs 0.3 s
            # on every `ssh … docker system dial-stdio`, dozens per deploy)
            f"SetEnv DOCKER_HOST=unix://{engine_socket} SHLVL=1",
            "",
        ]
    )


def ssh_config(root: Path, port: int) -> str:
    return "\n".join(
        [
            f"Host {ALIAS}",
            "  HostName 127.0.0.1",
            f"  Port {port}",
            "  User root",
            f"  IdentityFile {root / 'id'}",
            "  IdentitiesOnly yes",
            "  BatchMode yes",
            "  StrictHostKeyChecking yes",
            f"  UserKnownHostsFile {root / 'known_hosts'}",
            # one ssh session serves every engine connection (each is an `ssh … docker system dial-stdio`)
            "  ControlMaster auto",
            f"  ControlPath {root / 'master-%C'}",
            "  ControlPersist 30",
            "",
        ]
    )


def answers(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1) as conn:
        return conn.recv(4).startswith(b"SSH-")
    return False


@contextlib.contextmanager
def sshd_to(engine_socket: str, path: str) -> Iterator[SshAccess]:
    """An sshd whose sessions reach `engine_socket`; removed (process, keys, config) afterwards."""
    root = Path(tempfile.mkdtemp(prefix="tbssh", dir="/tmp"))
    # sshd refuses to start without it; left in place afterwards (what the package makes at boot), as
    # another test's sshd may be using it
    PRIVSEP_DIR.mkdir(mode=0o755, exist_ok=True)
    proc = None
    try:
        port = free_port()
        (root / "authorized_keys").write_text(keygen(root / "id") + "\n")
        (root / "known_hosts").write_text(f"[127.0.0.1]:{port} {keygen(root / 'host_key')}\n")
        (root / "sshd_config").write_text(sshd_config(root, port, engine_socket))
        (root / "ssh_config").write_text(ssh_config(root, port))
        (root / "bin").mkdir()
        wrapper = root / "bin" / "ssh"
        wrapper.write_text(f'#!/bin/sh\nexec /usr/bin/ssh -F {root / "ssh_config"} "$@"\n')
        wrapper.chmod(0o755)
        with (root / "sshd.log").open("wb") as log:
            proc = subprocess.Popen([str(SSHD), "-D", "-e", "-f", str(root / "sshd_config")], stderr=log)
        wait_for(lambda: answers(port) or proc.poll() is not None, 20, "sshd on loopback")
        assert proc.poll() is None, (root / "sshd.log").read_text()
        yield SshAccess(f"ssh://root@{ALIAS}:{port}", f"{root / 'bin'}:{path}")  # the SDK says -p 22 without a port
    finally:
        subprocess.run(["/usr/bin/ssh", "-F", str(root / "ssh_config"), "-O", "exit", ALIAS], capture_output=True)
        if proc is not None and proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=10)
        shutil.rmtree(root, ignore_errors=True)
