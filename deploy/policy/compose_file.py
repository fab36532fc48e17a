"""A preflight step (`deploy.procedures.preflight`): does the commit's compose file meet the security policy?

The commit's `docker-compose.yml`, on the commit's tree, is resolved by Compose itself in three views
(`Views`, `deploy.procedures.preflight.views`): every service of every profile resolved, the same
without interpolation (it keeps `env_file`), and the variables it interpolates. Every service found,
declared or not, is read into a `Posture` and a `Shape` and judged by the same rules verify applies to
running containers (`deploy.policy.rules`, `deploy.policy.shape`); the project as a whole by
`deploy.policy.project`. Any violation raises `PolicyViolation` naming each service and setting.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from deploy.config import Settings
from deploy.errors import PolicyViolation, first_of
from deploy.ids import short
from deploy.policy import posture, project, rules, shape
from deploy.policy.check import Check


@dataclass(frozen=True)
class Views:
    resolved: Mapping[str, Any]  # `config --format json`, all profiles
    structure: Mapping[str, Any] = field(default_factory=dict)  # the same, `--no-interpolate`
    variables: Mapping[str, Any] = field(default_factory=dict)  # `config --variables --format json`


def judge(views: Views, settings: Settings, declared: rules.Policy) -> list[Check]:
    """Every policy check of the project and of every service the resolved compose file holds."""
    services, networks = views.resolved.get("services") or {}, views.resolved.get("networks") or {}
    found = project.checks(services, views.variables, networks, declared, settings.project)
    for name in services:
        found += service_checks(name, views, settings, declared)
    return found


def service_checks(name: str, views: Views, settings: Settings, declared: rules.Policy) -> list[Check]:
    service = views.resolved["services"][name]
    found = rules.judge(
        name, posture.from_compose(service, views.resolved.get("volumes") or {}), declared, settings.project
    )
    if declared.judges_services:
        written = (views.structure.get("services") or {}).get(name)
        found += shape.judge(name, shape.from_compose(service, written), declared, declared.image_ref(settings.project))
    return found


def violations(views: Views, settings: Settings) -> list[str]:
    """Each violation of the resolved compose file, `<service> <setting> (<what is wrong>)`."""
    bad = rules.violations(judge(views, settings, rules.load()))
    return [f"{c.target} {c.name.removeprefix('policy: ')} ({c.detail})" for c in bad]


def check(views: Views, settings: Settings, commit: str) -> None:
    """Raise `PolicyViolation` when the commit's resolved compose file breaks the policy."""
    bad = violations(views, settings)
    if bad:
        raise PolicyViolation(
            f"the compose file of {short(commit)} breaks the security policy: {first_of(bad, 6, '; ')}",
            "fix docker-compose.yml (deploy/policy/policy.toml says what is allowed), commit, build and deploy again",
            commit=commit,
            violations=bad,
        )
