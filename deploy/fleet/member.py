"""One member's side of a fleet command: `python -m deploy.fleet.member ACTION …`, run by `deploy.fleet.children`
in the member's environment, so it acts on that one deployment, through the pipeline's public functions.

    status --projects P,Q                  its status, and which of the fleet's projects run on its engine
    verify                                 its verify, and the facts the fleet compares
    build --rev SHA                        build (or reuse) the commit's release image on its engine
    save --rev SHA --to FILE               write that image to a file on this machine
    load --rev SHA --from FILE --source M  load it from the file member M's engine saved, tag it for this project
    deploy --rev SHA                       deploy it (its own rollback on a failure): `invoke release --json`'s document
    move --source ADDRESS                  move the deployment from the engine at ADDRESS to this one

It prints one JSON document as the last line of stdout — what it found and `ok`; on a failure
`error`, `next`, `error_type` and `exit_code` (also the process's) — and its progress on stderr,
each line led by the project.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from deploy.config import Settings
from deploy.engine import client, helpers
from deploy.errors import TradebotError

if TYPE_CHECKING:
    import docker

    from deploy.engine.git import Repository

Action = Callable[[Settings, argparse.Namespace], dict[str, Any]]


def _status(settings: Settings, options: argparse.Namespace) -> dict[str, Any]:
    from deploy.fleet import status

    return status.of_member(settings, _engine(settings), [p for p in options.projects.split(",") if p])


def _verify(settings: Settings, options: argparse.Namespace) -> dict[str, Any]:
    from deploy.fleet import verify

    return verify.of_member(settings, _engine(settings), _repo(settings))


def _build(settings: Settings, options: argparse.Namespace) -> dict[str, Any]:
    from deploy.fleet import images

    return images.build(settings, _engine(settings), _repo(settings), options.rev, _say(settings))


def _save(settings: Settings, options: argparse.Namespace) -> dict[str, Any]:
    from deploy.fleet import images

    return images.save(settings, _engine(settings), options.rev, Path(options.to))


def _load(settings: Settings, options: argparse.Namespace) -> dict[str, Any]:
    from deploy.fleet import images

    return images.load(settings, _engine(settings), options.rev, Path(getattr(options, "from")), options.source)


def _deploy(settings: Settings, options: argparse.Namespace) -> dict[str, Any]:
    from deploy.fleet import release

    return release.deploy_member(settings, _engine(settings), _repo(settings), options.rev, _say(settings))


def _move(settings: Settings, options: argparse.Namespace) -> dict[str, Any]:
    from deploy.fleet import move

    target, source, to = _engine(settings), _engine(settings, options.source), os.environ["DOCKER_HOST"]
    return move.move_member(move.Move(settings, source, target, _repo(settings), options.source, to, _say(settings)))


def _engine(settings: Settings, address: str = "") -> docker.DockerClient:
    """The member's engine (its DOCKER_HOST, or `address`), the helpers a killed command of it left removed first."""
    engine = client.connect_to(address) if address else client.connect()
    helpers.sweep(settings, engine)
    return engine


def _repo(settings: Settings) -> Repository:
    from deploy.engine.git import Repository

    return Repository(settings.repo)


def _say(settings: Settings) -> Callable[[str], None]:
    return lambda line: print(f"{settings.project}: {line}", file=sys.stderr, flush=True)


ACTIONS: dict[str, tuple[Action, tuple[str, ...]]] = {
    "status": (_status, ("--projects",)),
    "verify": (_verify, ()),
    "build": (_build, ("--rev",)),
    "save": (_save, ("--rev", "--to")),
    "load": (_load, ("--rev", "--from", "--source")),
    "deploy": (_deploy, ("--rev",)),
    "move": (_move, ("--source",)),
}


def parser() -> argparse.ArgumentParser:
    found = argparse.ArgumentParser(prog="python -m deploy.fleet.member", description=__doc__)
    actions = found.add_subparsers(dest="action", required=True)
    for name, (_, options) in ACTIONS.items():
        action = actions.add_parser(name)
        for option in options:
            action.add_argument(option, required=option != "--projects", default="")
    return found


def main(argv: Sequence[str] | None = None) -> int:
    options = parser().parse_args(argv)
    try:
        document = ACTIONS[options.action][0](Settings.from_env(), options)
    except TradebotError as error:
        document = failure(error)
    print(json.dumps(document), flush=True)
    return int(document.get("exit_code") or 0)


def failure(error: TradebotError) -> dict[str, Any]:
    return {
        "ok": False,
        "error": error.message,
        "next": error.hint,
        "error_type": type(error).__name__,
        "exit_code": error.exit_code,
    }


if __name__ == "__main__":
    sys.exit(main())
