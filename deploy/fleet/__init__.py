"""A fleet: several independent deployments (one engine and one project each), listed in `fleet.toml`.

roster     the fleet file: members, their engines, projects, settings and timeouts (pure)
children   each member asked in a process of its own, in its environment, bounded by its timeout
member     that process: one member's side of every fleet command, through the pipeline's public functions
status     `invoke fleet-status`: every member at once, and where the fleet disagrees
verify     `invoke fleet-verify`: every member's verify, and one release everywhere
images     a member's release image: built on its engine, or loaded from a file another member saved
release    `invoke fleet-release`: the commit everywhere, one member at a time, stopping at the first failure
carry      a volume from one engine to another through their archive APIs, proven identical
move       `invoke fleet-move`: one deployment to another engine, by hand

A move reaches two engines from one process, either over ssh whatever DOCKER_HOST says, so the
Docker SDK's ssh transport must be importable: `deploy/__init__` keeps paramiko (which that
transport imports) away from a process whose DOCKER_HOST is local, and the fleet lets it back.
"""

import sys

if "paramiko" in sys.modules and sys.modules["paramiko"] is None:
    del sys.modules["paramiko"]
