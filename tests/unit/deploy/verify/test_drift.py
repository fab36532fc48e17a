"""Drift by engine access: the fields `docker update` and `docker network connect` change, against the commit."""

from __future__ import annotations

from typing import Any

from deploy.verify import drift

DECLARED = {"default": {"name": "p_default"}, "extra": {"name": "p_extra"}}
PLAIN: dict[str, Any] = {"image": "p:live", "restart": "unless-stopped"}
# what the engine reports for PLAIN: nothing limited
HOST: dict[str, Any] = {
    "RestartPolicy": {"Name": "unless-stopped", "MaximumRetryCount": 0},
    "Memory": 0,
    "MemorySwap": 0,
    "MemoryReservation": 0,
    "NanoCpus": 0,
    "CpuShares": 0,
    "CpuQuota": 0,
    "CpuPeriod": 0,
    "CpusetCpus": "",
    "PidsLimit": None,
    "BlkioWeight": 0,
}


def attrs(networks: tuple[str, ...] = ("p_default",), **host: Any) -> dict[str, Any]:
    return {"HostConfig": {**HOST, **host}, "NetworkSettings": {"Networks": {name: {} for name in networks}}}


def failed(service: dict[str, Any], found: dict[str, Any]) -> dict[str, str]:
    return {c.name: c.detail for c in drift.checks("bot", service, DECLARED, found) if not c.ok}


def test_a_container_as_the_commit_made_it_has_not_drifted() -> None:
    assert [c.name for c in drift.checks("bot", PLAIN, DECLARED, attrs())] == list(drift.NAMES)
    assert failed(PLAIN, attrs()) == {}
    assert failed({"image": "p:live"}, attrs(RestartPolicy={"Name": "", "MaximumRetryCount": 0})) == {}
    assert failed(PLAIN, attrs(PidsLimit=-1)) == {}  # -1 and 0: no limit, as unset


def test_the_issue_s_docker_update_is_named_field_by_field() -> None:
    """`docker update --restart no --memory 256m --cpus .5 bot`."""
    updated = attrs(RestartPolicy={"Name": "no"}, Memory=268435456, MemorySwap=536870912, NanoCpus=500000000)
    assert failed(PLAIN, updated) == {
        drift.RESTART: "no, the commit's unless-stopped",
        drift.RESOURCES: "Memory 268435456, the commit's 0; NanoCpus 500000000, the commit's 0; "
        "MemorySwap 536870912, the commit's 0",
    }


def test_every_setting_translates_as_the_engine_applies_it() -> None:
    service = {
        "restart": "on-failure:3",
        "mem_limit": "268435456",
        "mem_reservation": "67108864",
        "cpus": 0.5,
        "cpu_shares": 512,
        "cpuset": "0",
        "pids_limit": 100,
        "blkio_config": {"weight": 300},
    }
    assert drift.restart_policy(service["restart"]) == ("on-failure", 3)
    assert drift.resources(service) == {
        "Memory": 268435456,
        "MemoryReservation": 67108864,
        "NanoCpus": 500000000,
        "CpuShares": 512,
        "CpuQuota": 0,
        "CpuPeriod": 0,
        "CpusetCpus": "0",
        "PidsLimit": 100,
        "BlkioWeight": 300,
        "MemorySwap": 2 * 268435456,  # the engine's default beside a memory limit
    }
    assert drift.resources({"memswap_limit": "536870912", "mem_limit": "1024"})["MemorySwap"] == 536870912


def test_deploy_resources_count_where_the_service_keys_are_unset() -> None:
    service = {"deploy": {"resources": {"limits": {"cpus": 0.25, "memory": "134217728", "pids": 50}}}}
    found = drift.resources(service)
    assert (found["NanoCpus"], found["Memory"], found["PidsLimit"]) == (250000000, 134217728, 50)
    assert drift.resources({**service, "mem_limit": "1024"})["Memory"] == 1024


def test_a_network_connected_by_hand_or_left_is_named() -> None:
    connected = attrs(("p_default", "elsewhere"))
    assert failed(PLAIN, connected) == {drift.NETWORKS: "connected to elsewhere"}
    two = {**PLAIN, "networks": {"default": None, "extra": None}}
    assert failed(two, attrs()) == {drift.NETWORKS: "not connected to p_extra"}
    assert failed(two, attrs(("p_default", "p_extra"))) == {}
