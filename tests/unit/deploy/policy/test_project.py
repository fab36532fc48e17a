from deploy.policy import project, rules

POLICY = rules.load()


def test_only_the_declared_services() -> None:
    assert project.services_check(["bot", "worker"], POLICY).ok
    found = project.services_check(["bot", "worker", "evil", "evil"], POLICY)
    assert (found.target, found.name, found.ok, found.detail) == (
        "project",
        "policy: services",
        False,
        "evil is not a declared service",
    )


def test_only_variables_of_the_runtime_settings_are_interpolated() -> None:
    assert project.variables_check(["TRADEBOT_PROJECT", "TRADEBOT_SYMBOLS"], POLICY).ok
    found = project.variables_check(["TRADEBOT_SYMBOLS", "HOME", "PWD"], POLICY)
    assert found.detail == "interpolates ${HOME}, interpolates ${PWD}"


def test_the_default_network_is_the_projects_own() -> None:
    assert project.networks_check({"default": {"name": "p_default", "ipam": {}}}, "p").ok
    assert project.networks_check({}, "p").ok
    other = project.networks_check({"default": {"name": "theirs", "external": True}}, "p")
    assert other.detail == "the default network is external; the default network is theirs"
