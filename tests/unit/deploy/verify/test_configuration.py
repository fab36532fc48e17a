from deploy.records.ledger import FAILED, SUCCEEDED, Entry
from deploy.verify import configuration

BOT, WORKER = "b" * 64, "w" * 64


def entry(outcome: str, runtime: dict[str, str], image_id: str = "sha256:i") -> Entry:
    return Entry("deploy", "c1", image_id, "d", "t0", "t1", "me", outcome, runtime=runtime)


def test_config_hash_output_is_read_per_service() -> None:
    assert configuration.parse_hashes(f"bot {BOT}\nworker {WORKER}\n\n") == {"bot": BOT, "worker": WORKER}


def test_labels_equal_to_the_commits_hashes_pass() -> None:
    assert configuration.point({"bot": BOT, "worker": WORKER}, {"bot": BOT, "worker": WORKER}).ok


def test_a_drifted_service_is_named_with_both_hashes() -> None:
    found = configuration.point({"bot": BOT, "worker": WORKER}, {"bot": "x" * 64, "worker": WORKER})
    assert found.problems == ("bot's configuration drifted: config-hash xxxxxxxxxxxx, the commit's is bbbbbbbbbbbb",)


def test_a_missing_container_or_service_is_named() -> None:
    found = configuration.point({"bot": BOT}, {"bot": None, "worker": WORKER})
    assert found.problems == (
        "no running bot container with a config-hash label",
        "the commit's compose file has no service worker",
    )


def test_a_standalone_verify_uses_the_runtime_settings_the_release_was_deployed_with() -> None:
    entries = [entry(SUCCEEDED, {"TRADEBOT_TICK_SECONDS": "0.2"}), entry(FAILED, {"TRADEBOT_TICK_SECONDS": "9"})]
    shell = {"PATH": "/bin", "TRADEBOT_TICK_SECONDS": "5", "TRADEBOT_SYMBOLS": "X"}
    deployed = {"PATH": "/bin", "TRADEBOT_TICK_SECONDS": "0.2"}
    assert configuration.deployed_environ(shell, entries, "sha256:i") == deployed
    assert configuration.deployed_environ(shell, entries, "sha256:other") == shell  # nothing recorded: the shell's
