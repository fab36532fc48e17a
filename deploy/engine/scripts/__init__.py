"""Programs run inside containers by their image's python3: standard library only, no import of `deploy`.

    inside      verify's one look inside a service container (processes, a root write, the heartbeat)
    probe       the volume rebuild's inventory and copy
    statecopy   a consistent copy of a live state directory (backups)

They run one way, `argv`: `python3 -I -c <source> ARGS`, so nothing needs to be copied in first, and
isolated (`-I`), so nothing in the working directory, a PYTHON* variable or a user site is imported.
"""

from __future__ import annotations

from importlib import resources


def source(name: str) -> str:
    """The text of the script `name` (package data of this package)."""
    return resources.files(__package__).joinpath(f"{name}.py").read_text()


def argv(name: str, *args: str) -> list[str]:
    """The command that runs the script `name` with `args` in a container with python3."""
    return ["python3", "-I", "-c", source(name), *args]
