"""The operator's command line: the invoke tasks, and `tradebot`, the console command that runs them.

releasing    build, deploy, verify, release, rollback
inspecting   status, releases, report, backups, logs
maintaining  restore, remove, unlock, base-image, volume-rebuild, volume-retire
fleeting     fleet-status, fleet-verify, fleet-release, fleet-move: the members of the fleet file (`deploy.fleet`)
invocation   what every task reads first: its settings, and the flags it refuses
program      `tradebot`: invoke's own Program with these tasks, from any directory (`--repo`)

The top layer: it parses options, calls one procedure and prints. A task imports the parts of
`deploy` it uses when it runs, not when it is loaded: the Docker SDK, GitPython, testinfra and
jinja2 cost more to import than `tradebot status` may take, and invoke loads every task to list them.
"""

from __future__ import annotations

from invoke import Collection

from deploy.cli import fleeting, inspecting, maintaining, releasing


def namespace() -> Collection:
    """A new collection of every operator task, flat (`tradebot deploy`), as the checkout's tasks.py and `tradebot`
    serve them."""
    found = Collection()
    for module in (releasing, inspecting, maintaining, fleeting):
        for task in Collection.from_module(module).tasks.values():
            found.add_task(task)
    return found
