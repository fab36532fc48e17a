from deploy.engine.compose import PROJECT_LABEL, SERVICE_LABEL
from deploy.engine.helpers import HELPER_OF, HOST, PID
from deploy.steps import writers
from deploy.steps.lock import LABEL as LOCK

SERVICES = ("bot", "worker")


def own(labels: dict[str, str]) -> bool:
    return writers.own(labels, "tb", SERVICES, "host-a", 4242)


def test_the_projects_bot_and_worker_are_its_own_writers() -> None:
    assert own({PROJECT_LABEL: "tb", SERVICE_LABEL: "bot"}) and own({PROJECT_LABEL: "tb", SERVICE_LABEL: "worker"})


def test_another_service_another_project_or_no_labels_are_foreign() -> None:
    assert not own({PROJECT_LABEL: "tb", SERVICE_LABEL: "evil"})
    assert not own({PROJECT_LABEL: "other", SERVICE_LABEL: "bot"})
    assert not own({SERVICE_LABEL: "bot"})
    assert not own({})


def test_only_a_helper_of_this_very_process_is_its_own() -> None:
    mine = {HELPER_OF: "tb", HOST: "host-a", PID: "4242"}
    assert own(mine)
    assert not own({**mine, PID: "4243"})  # another invoke's: a concurrent restore's copy would race
    assert not own({**mine, HOST: "host-b"})
    assert not own({**mine, HELPER_OF: "other"})


def test_on_the_meta_volume_any_helper_or_the_lock_container_of_the_project_is_the_pipelines() -> None:
    assert writers.pipeline({HELPER_OF: "tb", HOST: "host-b", PID: "1"}, "tb")  # another command's, or a dead one's
    assert writers.pipeline({LOCK: "tb", f"{LOCK}.pid": "77"}, "tb")
    assert not writers.pipeline({HELPER_OF: "other"}, "tb")
    assert not writers.pipeline({LOCK: "other"}, "tb")
    assert not writers.pipeline({PROJECT_LABEL: "tb", SERVICE_LABEL: "bot"}, "tb")  # the bot never writes the records
    assert not writers.pipeline({}, "tb")


def listed(*mounts: dict[str, object], name: str = "/evil", state: str = "running") -> dict[str, object]:
    return {"Names": [name], "ImageID": "sha256:" + "ab" * 32, "State": state, "Mounts": list(mounts)}


MOUNTPOINT = "/var/lib/docker/volumes/tb_state/_data"


def writes(mount: dict[str, object]) -> bool:
    return writers.mounts(listed(mount), "tb_state", MOUNTPOINT)


def test_a_writable_volume_mount_writes_a_read_only_one_or_another_volume_does_not() -> None:
    rw = {"Type": "volume", "Name": "tb_state", "Destination": "/s", "RW": True}
    assert writes(rw)
    assert not writes({**rw, "RW": False})
    assert not writes({**rw, "Name": "tb_meta"})


def test_binding_the_volumes_directory_one_above_or_in_it_writable_writes_it() -> None:
    bind = {"Type": "bind", "Destination": "/x", "RW": True}
    for source in (MOUNTPOINT, "/var/lib/docker/volumes/tb_state", "/var/lib/docker", "/", f"{MOUNTPOINT}/sub"):
        assert writes({**bind, "Source": source}), source
    assert not writes({**bind, "Source": MOUNTPOINT, "RW": False})
    for source in ("/srv", "/var/lib/docker/volumes/tb_state_other", "/var/lib/docker/volumes/tb_state_data"):
        assert not writes({**bind, "Source": source}), source


def test_without_writable_only_a_read_only_mount_counts_too() -> None:
    ro = {"Type": "volume", "Name": "tb_state", "Destination": "/s", "RW": False}
    assert writers.mounts(listed(ro), "tb_state", MOUNTPOINT, writable_only=False)
    assert not writers.mounts(listed({**ro, "Name": "tb_meta"}), "tb_state", MOUNTPOINT, writable_only=False)
    # a read-only bind of the host's / (or of the volume's directory) neither writes nor holds the volume
    for source in ("/", MOUNTPOINT):
        bind = {"Type": "bind", "Source": source, "Destination": "/host", "RW": False}
        assert not writers.mounts(listed(bind), "tb_state", MOUNTPOINT, writable_only=False), source


def test_mounters_names_per_watched_volume_every_container_the_rule_does_not_allow() -> None:
    rw = {"Type": "volume", "Destination": "/s", "RW": True}
    evil = {**listed({**rw, "Name": "tb_state"}, name="/evil"), "Labels": {}}
    old = {**listed({**rw, "Name": "legacy", "RW": False}, name="/old-bot", state="created"), "Labels": {}}
    bot = {
        **listed({**rw, "Name": "tb_state"}, name="/tb-bot-1"),
        "Labels": {PROJECT_LABEL: "tb", SERVICE_LABEL: "bot"},
    }
    watched = {"tb_state": MOUNTPOINT, "legacy": "/var/lib/docker/volumes/legacy/_data", "tb_meta": "/m"}
    allowed = writers.ours("tb", SERVICES)
    assert writers.mounters([evil, old, bot], watched, allowed) == {"tb_state": [f"evil (image {'ab' * 6}, running)"]}
    assert writers.mounters([evil, old, bot], watched, writers.ours("tb", ()), writable_only=False) == {
        "tb_state": [f"evil (image {'ab' * 6}, running)", f"tb-bot-1 (image {'ab' * 6}, running)"],
        "legacy": [f"old-bot (image {'ab' * 6}, created)"],
    }


def test_a_foreign_writer_is_described_by_name_image_and_state_per_volume() -> None:
    found = {"tb_state": [writers.describe(listed(name="/evil", state="exited"))], "legacy": ["old-bot (…)"]}
    assert writers.lines(found) == [
        f"evil (image {'ab' * 6}, exited) mounts tb_state",
        "old-bot (…) mounts legacy",
    ]


def test_a_writer_status_already_names_is_not_named_again() -> None:
    found = {"tb_state": ["evil (image abababababab, running)", "evil-2 (image abababababab, exited)"]}
    said = ["container evil, not of this deployment, mounts tb_state read-write: no part of this deployment"]
    assert writers.lines(found, already=said) == ["evil-2 (image abababababab, exited) mounts tb_state"]
