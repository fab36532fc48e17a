"""Drift by engine access: what `docker update` and `docker network connect` change, against the commit. Pure.

Those commands change a running container without recreating it, so its config-hash label (the
configuration point) stays the commit's. Each such field of the container's inspect data is compared
with what the commit's compose file, resolved with the recorded settings (`docker compose config`),
makes of it; a field the service leaves unset is the engine's default.

- drift: restart     `HostConfig.RestartPolicy` against `restart`
- drift: resources   memory (limit, swap, reservation), CPUs (count, shares, quota, period, set), pids,
                     block-I/O weight against `mem_limit`, `memswap_limit`, `mem_reservation`, `cpus`,
                     `cpu_shares`, `cpu_quota`, `cpu_period`, `cpuset`, `pids_limit`, `blkio_config.weight`
                     (or `deploy.resources`)
- drift: networks    the networks the container is connected to against the service's
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from deploy.policy.check import Check

RESTART, RESOURCES, NETWORKS = "drift: restart", "drift: resources", "drift: networks"
NAMES = (RESTART, RESOURCES, NETWORKS)
# HostConfig field: (service key, `deploy.resources` path): `docker update` can change each
RESOURCE_KEYS = {
    "Memory": ("mem_limit", ("limits", "memory")),
    "MemoryReservation": ("mem_reservation", ("reservations", "memory")),
    "NanoCpus": ("cpus", ("limits", "cpus")),
    "CpuShares": ("cpu_shares", None),
    "CpuQuota": ("cpu_quota", None),
    "CpuPeriod": ("cpu_period", None),
    "CpusetCpus": ("cpuset", None),
    "PidsLimit": ("pids_limit", ("limits", "pids")),
}


def restart_policy(restart: str | None) -> tuple[str, int]:
    """`(name, maximum retries)` of a compose `restart:` value; unset is the engine's `no`."""
    name, _, retries = (restart or "no").partition(":")
    return name, int(retries or 0)


def live_restart(host: Mapping[str, Any]) -> tuple[str, int]:
    policy = host.get("RestartPolicy") or {}
    return policy.get("Name") or "no", int(policy.get("MaximumRetryCount") or 0)


def number(value: Any, scale: float = 1) -> int:
    return round(float(value) * scale) if value not in (None, "") else 0


def resources(service: Mapping[str, Any]) -> dict[str, int | str]:
    """The resource fields of HostConfig the service makes (0 or '': unlimited, the engine's default)."""
    deployed = (service.get("deploy") or {}).get("resources") or {}
    found: dict[str, int | str] = {}
    for field, (key, path) in RESOURCE_KEYS.items():
        value = service.get(key)
        if value is None and path is not None:
            value = (deployed.get(path[0]) or {}).get(path[1])
        found[field] = str(value or "") if field == "CpusetCpus" else number(value, 1e9 if field == "NanoCpus" else 1)
    found["BlkioWeight"] = number((service.get("blkio_config") or {}).get("weight"))
    memory, swap = int(found["Memory"]), number(service.get("memswap_limit"))
    found["MemorySwap"] = swap or (2 * memory if memory else 0)  # the engine's default: twice the memory limit
    return found


def live_resources(host: Mapping[str, Any]) -> dict[str, int | str]:
    found: dict[str, int | str] = {field: number(host.get(field)) for field in RESOURCE_KEYS if field != "CpusetCpus"}
    found["CpusetCpus"] = str(host.get("CpusetCpus") or "")
    found["PidsLimit"] = max(int(found["PidsLimit"]), 0)  # -1 and 0: unlimited
    found["BlkioWeight"] = number(host.get("BlkioWeight"))
    found["MemorySwap"] = max(number(host.get("MemorySwap")), 0)
    return found


def networks(service: Mapping[str, Any], declared: Mapping[str, Any]) -> set[str]:
    """The engine's names of the service's networks (`declared`: the resolved file's top-level `networks`)."""
    keys = service.get("networks") or {"default": None}
    return {str((declared.get(key) or {}).get("name") or key) for key in keys}


def checks(
    target: str, service: Mapping[str, Any], declared: Mapping[str, Any], attrs: Mapping[str, Any]
) -> list[Check]:
    """The drift checks of one container (`attrs`) against its resolved `service` and the file's `declared` networks."""
    host = attrs.get("HostConfig") or {}
    restart, now = restart_policy(service.get("restart")), live_restart(host)
    want, have = resources(service), live_resources(host)
    changed = [f"{field} {have[field]}, the commit's {want[field]}" for field in want if want[field] != have[field]]
    expected, connected = networks(service, declared), set((attrs.get("NetworkSettings") or {}).get("Networks") or {})
    moved = "" if restart == now else f"{policy(now)}, the commit's {policy(restart)}"
    return [
        Check(target, RESTART, restart == now, moved),
        Check(target, RESOURCES, not changed, "; ".join(changed)),
        Check(target, NETWORKS, expected == connected, network_change(expected, connected)),
    ]


def policy(found: tuple[str, int]) -> str:
    return f"{found[0]}:{found[1]}" if found[1] else found[0]


def network_change(expected: set[str], connected: set[str]) -> str:
    more = [f"connected to {name}" for name in sorted(connected - expected)]
    return "; ".join(more + [f"not connected to {name}" for name in sorted(expected - connected)])
