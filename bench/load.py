"""A busy host for the start benchmarks: CPU burners, engine churn and synced disk writes, removed afterwards.

    with Load(factor=30, engine=docker.from_env(), image="tradebot-base:bookworm") as load:
        ...                      # measure; load.loadavg() is the 1-minute load average now

- CPU: `factor` times the cores in burners: `stress-ng --cpu N` when installed, else busy Python processes;
- disk: two writers of 1 MiB blocks, each followed by fsync (`stress-ng --hdd 2 --hdd-opts sync`, else Python);
- engine churn (when an engine and an image are given): a project `bench-churn-<hex>` whose container is
  created, started, exec'd into and removed every `CHURN_SECONDS`, as other deployments and tests do.

Everything it starts or creates is stopped and removed on exit, also when the block fails.
`python -m bench.load FACTOR SECONDS` holds the load that long and prints the load average it reached.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from types import TracebackType

import docker
import docker.errors

from deploy.engine import execs
from deploy.errors import TradebotError

CHURN_SECONDS = 0.5
CHURN_LABEL = "com.docker.compose.project"
BURN = "while True: pass"
WRITE = """
import os, sys
block = os.urandom(1 << 20)
with open(sys.argv[1], "wb") as out:
    while True:
        out.seek(0)
        out.write(block)
        out.flush()
        os.fsync(out.fileno())
"""


class Load:
    def __init__(self, factor: int, engine: docker.DockerClient | None = None, image: str | None = None) -> None:
        self.factor, self.engine, self.image = factor, engine, image
        self.procs: list[subprocess.Popen[bytes]] = []
        self.project = f"bench-churn-{uuid.uuid4().hex[:8]}"
        self.stop = threading.Event()
        self.churner: threading.Thread | None = None
        self.scratch = tempfile.mkdtemp(prefix="bench-load-")
        self.churned = 0

    def burners(self) -> int:
        return self.factor * (os.cpu_count() or 1)

    def __enter__(self) -> Load:
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def start(self) -> None:
        stress = shutil.which("stress-ng")
        if stress:
            cmd = [
                stress,
                "--cpu",
                str(self.burners()),
                "--hdd",
                "2",
                "--hdd-opts",
                "sync",
                "--temp-path",
                self.scratch,
            ]
            self.procs.append(subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        else:
            self.procs += [self.spawn(["-c", BURN]) for _ in range(self.burners())]
            self.procs += [self.spawn(["-c", WRITE, os.path.join(self.scratch, f"w{n}")]) for n in range(2)]
        if self.engine is not None and self.image:
            self.churner = threading.Thread(target=self.churn, name="engine churn", daemon=True)
            self.churner.start()

    def spawn(self, args: list[str]) -> subprocess.Popen[bytes]:
        return subprocess.Popen([sys.executable, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def churn(self) -> None:
        """Create, start, exec into and remove one container every CHURN_SECONDS until stopped."""
        assert self.engine is not None and self.image
        while not self.stop.wait(CHURN_SECONDS):
            with contextlib.suppress(docker.errors.DockerException, TradebotError):
                container = self.engine.containers.create(
                    self.image, ["sleep", "30"], labels={CHURN_LABEL: self.project}, network_disabled=True
                )
                try:
                    container.start()
                    execs.run(container, ["true"])
                    self.churned += 1
                finally:
                    container.remove(force=True)

    def close(self) -> None:
        self.stop.set()
        if self.churner is not None:
            self.churner.join(timeout=60)
        for proc in self.procs:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
        if self.engine is not None:
            for left in self.engine.containers.list(all=True, filters={"label": f"{CHURN_LABEL}={self.project}"}):
                with contextlib.suppress(docker.errors.NotFound):
                    left.remove(force=True)
        shutil.rmtree(self.scratch, ignore_errors=True)

    @staticmethod
    def loadavg() -> float:
        return os.getloadavg()[0]


def main(factor: int, seconds: float) -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # `kill` of this command stops its burners too
    engine = docker.from_env()
    image = os.environ.get("TRADEBOT_BASE_IMAGE", "tradebot-base:bookworm")
    with Load(factor, engine, image) as load:
        time.sleep(seconds)
        print(
            f"factor {factor}: {load.burners()} burners, {load.churned} containers churned, "
            f"1-minute load average {load.loadavg():.1f} after {seconds:g} s"
        )


if __name__ == "__main__":
    main(int(sys.argv[1]), float(sys.argv[2]))
