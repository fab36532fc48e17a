"""A preflight step (`deploy.procedures.preflight`): does the commit's compose file meet the security policy?

The commit's `docker-compose.yml`, resolved by Compose itself (`config --format json`
with the deployment's project and environment, `deploy.procedures.preflight.resolve`), is read into a
`Posture` per service and judged by the same rules verify applies to running
containers. Any violation raises `PolicyViolation` naming each service and setting.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from deploy.config import SERVICES, Settings
from deploy.errors import PolicyViolation, first_of
from deploy.ids import short
from deploy.policy import posture, rules
from deploy.policy.check import Check


def judge(config: Mapping[str, Any], settings: Settings, declared: rules.Policy) -> list[Check]:
    """Every policy check of bot and worker as the resolved compose file declares them."""
    services, volumes = config.get("services") or {}, config.get("volumes") or {}
    return [
        check
        for service in SERVICES
        for check in rules.judge(
            service, posture.from_compose(services.get(service) or {}, volumes), declared, settings.project
        )
    ]


def violations(config: Mapping[str, Any], settings: Settings) -> list[str]:
    """Each violation of the resolved compose file, `<service> <setting> (<what is wrong>)`."""
    bad = rules.violations(judge(config, settings, rules.load()))
    return [f"{c.target} {c.name.removeprefix('policy: ')} ({c.detail})" for c in bad]


def check(config: Mapping[str, Any], settings: Settings, commit: str) -> None:
    """Raise `PolicyViolation` when the commit's resolved compose file breaks the policy."""
    bad = violations(config, settings)
    if bad:
        raise PolicyViolation(
            f"the compose file of {short(commit)} breaks the security policy: {first_of(bad, 6, '; ')}",
            "fix docker-compose.yml (deploy/policy/policy.toml says what is allowed), commit, build and deploy again",
            commit=commit,
            violations=bad,
        )
