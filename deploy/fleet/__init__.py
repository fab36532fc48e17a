"""A fleet: several independent deployments (one engine and one project each), listed in `fleet.toml`.

roster   the fleet file: members, their engines, projects, settings and timeouts (pure)
"""
