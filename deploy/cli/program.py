"""`tradebot`: the console command `pip install .` gives, invoke's own Program serving the operator's tasks.

It runs the installed code from any directory, against the checkout `--repo` names (default: the
current directory, or TRADEBOT_REPO). In a checkout, `invoke build deploy verify` serves the same tasks
(the checkout's tasks.py adds the developer's `test`).
"""

from __future__ import annotations

from importlib import metadata

from invoke import Argument, Program

from deploy.cli import namespace

REPO_HELP = "the git checkout whose commits are built (default: TRADEBOT_REPO, else the current directory)"


class Tradebot(Program):
    def core_args(self) -> list[Argument]:
        return [*super().core_args(), Argument(names=("repo",), help=REPO_HELP)]

    def update_config(self, merge: bool = True) -> None:
        super().update_config(merge=False)
        if self.args.repo.value:
            self.config["tradebot"] = {"repo": self.args.repo.value}  # a modification: every task's config keeps it
        if merge:
            self.config.merge()


def program() -> Tradebot:
    return Tradebot(name="tradebot", binary="tradebot", namespace=namespace(), version=_version())


def main() -> None:
    program().run()


def _version() -> str:
    try:
        return metadata.version("tradebot")
    except metadata.PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown"
