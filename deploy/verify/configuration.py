"""The configuration point: each running container's configuration is the commit's.

Compose labels every container it makes with `com.docker.compose.config-hash`, a
hash of the service's resolved configuration (image, command, environment, mounts,
…). `docker compose config --hash bot,worker` on the release commit's tree (`deploy.engine.tree`),
with the deployment's settings, computes the same hashes without the engine, on any clone. A
container recreated by hand with another environment, command or mount, but the
same image, carries another hash: the point names that service.

The environment the hashes are computed in: the one a deploy (or rollback,
restore) just ran `compose up` with; for a standalone `invoke verify`, the shell's
with the runtime settings the ledger recorded for the live release
(`config.with_runtime`), so the deployment's settings count, not the verifying
shell's.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from deploy.config import SERVICES, Settings, with_runtime
from deploy.engine import compose
from deploy.engine.runner import Runner
from deploy.ids import short
from deploy.records.ledger import Entry, runtime_of
from deploy.verify.codecompare import PointResult

NAME = "configuration"


def parse_hashes(output: str) -> dict[str, str]:
    """`{service: hash}` from `config --hash` output (`<service> <hash>` per line)."""
    pairs = (line.split() for line in output.splitlines() if line.strip())
    return {pair[0]: pair[1] for pair in pairs if len(pair) == 2}


def computed(
    runner: Runner, prefix: Sequence[str], settings: Settings, tree: Path, environ: Mapping[str, str]
) -> dict[str, str]:
    """The hashes of bot and worker in the release commit's tree `tree`, resolved with `environ` for this deployment."""
    argv = compose.config_hash(prefix, settings, tree, SERVICES)
    return parse_hashes(runner.run(argv, env=compose.env(settings, environ)).stdout)


def deployed_environ(environ: Mapping[str, str], entries: Iterable[Entry], image_id: str) -> dict[str, str]:
    """`environ` with the runtime settings the live release was deployed with, when the ledger has them."""
    recorded = runtime_of(entries, image_id)
    return with_runtime(environ, recorded) if recorded is not None else dict(environ)


def point(expected: Mapping[str, str], running: Mapping[str, str | None]) -> PointResult:
    """`running`: each service's container label (None: no running container)."""
    problems = [_problem(service, expected.get(service), running.get(service)) for service in SERVICES]
    combined = hashlib.sha256("".join(f"{s}={expected.get(s)}\n" for s in SERVICES).encode()).hexdigest()
    return PointResult(NAME, combined, problems=tuple(p for p in problems if p))


def _problem(service: str, expected: str | None, label: str | None) -> str:
    if expected is None:
        return f"the commit's compose file has no service {service}"
    if label is None:
        return f"no running {service} container with a config-hash label"
    if label != expected:
        return f"{service}'s configuration drifted: config-hash {short(label)}, the commit's is {short(expected)}"
    return ""
