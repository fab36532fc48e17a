"""Preflight: what must hold before a deploy or rollback stops anything that runs.

    compose file   the commit's docker-compose.yml, on the commit's tree, parses and names the services
                   bot and worker (`docker compose config`: every profile resolved, as written, its
                   variables; through the runner, with the environment the release gets)
    policy         every service of that file, declared or not, and the project meet the security policy
                   (`deploy.policy.compose_file`; `PolicyViolation` names each service and setting)
    settings       the release image accepts each service's runtime settings: `python -m trading
                   check-config` in a throw-away container of that image with the service's environment
                   as Compose resolves it (so `TRADEBOT_TICK_SECONDS=abc` never reaches a running service).
                   Not for a standby handover (`standby`): its new bot and worker check their settings
                   before they stand by (stage `configured`), and one that refuses them (exit 9) is
                   refused as here, `SettingsInvalid`, before anything stopped
                   (`deploy.procedures.handover.discard`)
    state volume   exists whenever the deployment has released before: a missing one is refused, naming
                   the newest backup and `invoke restore`; `fresh_state` starts a new state on purpose
    one writer     no container but the deployment's own bot and worker mounts the state volume
                   (`deploy.steps.writers`; `ForeignWriters` names each)

Each check raises a `PreflightFailed` (exit 10) and changes nothing. The throw-away container
is labelled with the project and its creator (`deploy.engine.helpers`) and removed when it ends.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from deploy import meanwhile
from deploy.config import SERVICES
from deploy.engine import compose, helpers
from deploy.errors import CommandFailed, ComposeFileInvalid, SettingsInvalid, StateVolumeMissing, UnknownRevision
from deploy.ids import short
from deploy.policy import compose_file, rules
from deploy.procedures.procedure import Deployment, Step
from deploy.records import ledger
from deploy.steps import backups, writers
from deploy.steps.images import ReleaseImage


def steps(
    d: Deployment,
    image: ReleaseImage,
    released_before: bool,
    fresh_state: bool,
    standby: bool = False,
    resolved: Callable[[], compose_file.Views] | None = None,
) -> list[Step]:
    """The preflight of making `image` live, as named steps of a procedure's prepare part (`standby`: its
    switch is a standby handover, whose standbys check the runtime settings; `resolved`: `resolving`'s, when
    the attempt asked it already)."""
    argv = tuple(compose.config(d.compose, d.settings, d.trees.path(image.commit)))
    seen = resolved or functools.cache(lambda: views(d, image))  # the compose file is resolved once
    checks = [
        Step(f"check the docker-compose.yml of {short(image.commit)}", seen, argv),
        Step(f"check {short(image.commit)} against the security policy", lambda: security_policy(d, image, seen())),
    ]
    if not standby:
        name = f"check the runtime settings with {short(image.image_id)}"
        checks.append(Step(name, lambda: check_settings(d, image, seen().resolved)))
    if not fresh_state:
        checks.append(Step(f"check that {d.settings.state_volume} exists", lambda: state_volume(d, released_before)))
    checks.append(writers_step(d))
    return checks


def writers_step(d: Deployment) -> Step:
    """Refuse while a container but the deployment's own bot and worker may write the state (`steps.writers`)."""
    services = tuple(rules.load().services)
    name = f"check that only {' and '.join(services)} mount {d.settings.state_volume}"
    return Step(name, lambda: writers.refuse(d.settings, d.engine, services))


def resolving(d: Deployment, image: ReleaseImage) -> Callable[[], compose_file.Views]:
    """`views` of `image`, asked now in a thread of its own; the call waits for them (and raises what they raised).

    An attempt asks once, for its preflight and for verify's read ahead (`verification.ahead`).
    """
    return meanwhile.start("compose-views", views, d, image)


def views(d: Deployment, image: ReleaseImage) -> compose_file.Views:
    """The commit's compose file as Compose resolves it, as written, and its variables (`compose_file.Views`),
    asked at the same time; `ComposeFileInvalid` when it is unusable."""
    try:
        tree = d.trees.export(d.repo, image.commit)
    except UnknownRevision as exc:
        raise compose_invalid(image.commit, "this clone lacks the commit") from exc
    if not (tree / compose.FILE).is_file():
        raise compose_invalid(image.commit, "the commit has no docker-compose.yml")
    argvs = (
        compose.config(d.compose, d.settings, tree),
        compose.config(d.compose, d.settings, tree, interpolate=False),
        compose.variables(d.compose, d.settings, tree),
    )
    with ThreadPoolExecutor(max_workers=len(argvs)) as pool:
        asked = [pool.submit(_resolved, d, image, argv) for argv in argvs]
        found = compose_file.Views(*(future.result() for future in asked))
    missing = [service for service in SERVICES if service not in (found.resolved.get("services") or {})]
    if missing:
        raise compose_invalid(image.commit, f"it names no service {', '.join(missing)}")
    return found


def _resolved(d: Deployment, image: ReleaseImage, argv: list[str]) -> dict[str, Any]:
    try:
        out = d.runner.run(argv, env=compose.env(d.settings, d.environ))
    except CommandFailed as exc:
        raise compose_invalid(image.commit, exc.stderr.strip().splitlines()[-1] if exc.stderr.strip() else "") from exc
    return json.loads(out.stdout)


def compose_invalid(commit: str, detail: str) -> ComposeFileInvalid:
    return ComposeFileInvalid(
        f"the docker-compose.yml of {short(commit)} cannot be used: {detail}; nothing was stopped",
        "fix docker-compose.yml (it must name the services bot and worker), commit, build and deploy that",
    )


def security_policy(d: Deployment, image: ReleaseImage, seen: compose_file.Views) -> None:
    """`seen`: the commit's compose file as Compose resolves it (`views`)."""
    compose_file.check(seen, d.settings, image.commit)


def policy_stop(d: Deployment, image: ReleaseImage) -> str:
    """`--plan`'s stop rule for the security policy, with the verdict on the commit's compose file now (read-only)."""
    rule = f"the compose file of {short(image.commit)} breaks the security policy (exit 10, nothing is changed)"
    try:
        bad = compose_file.violations(views(d, image), d.settings)
    except ComposeFileInvalid:
        return f"{rule}: not judged now, the compose file does not resolve (the check before stops it)"
    return f"{rule}: IT DOES — {'; '.join(bad)}" if bad else f"{rule}: checked now, it meets the policy"


def check_settings(d: Deployment, image: ReleaseImage, config: Mapping[str, Any]) -> None:
    """`python -m trading check-config` of `image` once per service, all at once.

    `config`: the compose file as Compose resolves it; each check runs with its service's environment.
    """
    resolved = config["services"]
    with ThreadPoolExecutor(max_workers=len(SERVICES)) as pool:
        ran = {s: pool.submit(run_check, d, image, resolved[s].get("environment") or {}) for s in SERVICES}
        for service, future in ran.items():
            code, lines = future.result()
            if code != 0:
                raise settings_invalid(service, lines[-1] if lines else f"exit code {code}")


def settings_invalid(service: str, detail: str) -> SettingsInvalid:
    """The release refuses the runtime settings of `service` (`detail`: what it said), before anything stopped."""
    return SettingsInvalid(
        f"the release refuses the settings of service {service}: {detail}; nothing was stopped",
        "fix or unset the TRADEBOT_* variables it names in the environment you deploy from",
        service=service,
    )


def run_check(d: Deployment, image: ReleaseImage, environment: Mapping[str, str | None]) -> tuple[int, list[str]]:
    """The exit code and output lines of one check container (a helper of the release image)."""
    values = {name: value or "" for name, value in environment.items()}
    ran = helpers.run(d.engine, image.image_id, d.settings.project, command=["check-config"], environment=values)
    return ran.exit_code, ran.stdout.decode(errors="replace").strip().splitlines()


def state_volume(d: Deployment, released_before: bool) -> None:
    if released_before and not backups.exists(d.engine, d.settings.state_volume):
        newest = backups.newest_first(backups.listed(d.settings, d.engine))
        raise state_volume_missing(d.settings.state_volume, newest[0].name if newest else None)


def state_volume_missing(volume: str, newest_backup: str | None) -> StateVolumeMissing:
    where = f"the newest backup is {newest_backup}" if newest_backup else "no backup of it exists"
    return StateVolumeMissing(
        f"state volume {volume} is missing although this deployment has released before ({where}); "
        "nothing was started on an empty state",
        "put the state back with `invoke restore`"
        + (f" (default: {newest_backup})" if newest_backup else "")
        + ", or deploy with --fresh-state to start a new portfolio on purpose",
        volume=volume,
        newest_backup=newest_backup,
    )


def released_before(d: Deployment, live: ReleaseImage | None) -> bool:
    """Whether this deployment ever ran a release: a live tag, or a success in the ledger."""
    return live is not None or ledger.last_success_before(d.records.entries(), "") is not None
