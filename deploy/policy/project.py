"""The policy's checks of a deployment as a whole (target `project`). Pure; no I/O.

- `policy: services`: every service the compose file would start (all profiles; those brought in by
  `depends_on`, `include` or `extends` included) is one the policy declares. At verify: every running
  container of the project belongs to one. An undeclared service is still judged by every other rule.
- `policy: variables`: every variable the compose file interpolates has a prefix of `environment`, so
  only the recorded runtime settings change what runs (a `${HOME}` differs between clones).
- `policy: networks`: the project's default network is its own: not `external` (another stack's), of
  the bridge driver.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from deploy.policy.check import Check
from deploy.policy.rules import Policy

TARGET = "project"


def services_check(names: Iterable[str], policy: Policy) -> Check:
    """`names`: the services (or, at verify, the services of the running containers) found."""
    extra = sorted({name for name in names if name not in policy.services})
    return Check(
        TARGET, "policy: services", not extra, ", ".join(f"{name} is not a declared service" for name in extra)
    )


def variables_check(variables: Iterable[str], policy: Policy) -> Check:
    bad = sorted(name for name in variables if not name.startswith(tuple(policy.environment)))
    return Check(TARGET, "policy: variables", not bad, ", ".join(f"interpolates ${{{name}}}" for name in bad))


def networks_check(networks: Mapping[str, Any], project: str) -> Check:
    """`networks`: the compose file's top-level `networks`, resolved."""
    default = networks.get("default") or {}
    problems = [
        *(["the default network is external"] if default.get("external") else []),
        *(
            [f"the default network's driver is {default['driver']}"]
            if default.get("driver") not in (None, "bridge")
            else []
        ),
        *(
            [f"the default network is {default['name']}"]
            if default.get("name") not in (None, f"{project}_default")
            else []
        ),
    ]
    return Check(TARGET, "policy: networks", not problems, "; ".join(problems))


def checks(
    services: Iterable[str], variables: Iterable[str], networks: Mapping[str, Any], policy: Policy, project: str
) -> list[Check]:
    if not policy.judges_services:
        return []
    return [services_check(services, policy), variables_check(variables, policy), networks_check(networks, project)]
