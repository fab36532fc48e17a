"""A release meant to fail, and what must hold once one was rolled back.

hung_bot        commits a release whose bot starts, loads its state and hangs before its first tick
rolled_back_to  the release from before runs live, healthy and verified, and the ledger says so
"""

from __future__ import annotations

from deploy.engine.git import Repository
from deploy.records import ledger
from deploy.steps import startup
from deploy.verify import verify
from testsupport.sandbox import Sandbox

HANG = "    def run(self, stop: StopSignal) -> None:\n"


def hung_bot(box: Sandbox) -> str:
    """Commit a release whose bot sleeps at the top of `Bot.run`: it starts, loads state and never ticks.

    Its SIGTERM handler is set by then and only asks the loop it never reaches to stop: it ignores SIGTERM.
    """
    source = (box.repo / "trading/bot.py").read_text()
    assert HANG in source
    hung = source.replace(HANG, HANG + "        time.sleep(3600)\n")
    return box.commit("bot hangs before its first tick", {"trading/bot.py": hung})


def rolled_back_to(box: Sandbox, image_id: str, commit: str, failed: str) -> ledger.Entry:
    """Check the release `commit` runs live, healthy and verified after `failed` was rolled back; its ledger entry."""
    settings, engine = box.settings, box.engine
    assert engine.images.get(settings.live_image).id == image_id
    startup.wait_release(settings, engine, image_id, ran_before=True)
    report = verify(settings, engine, Repository(box.repo))
    assert report.ok and report.release == commit
    last = ledger.read(settings, engine)[-1]
    assert (last.commit, last.outcome, last.previous) == (failed, ledger.ROLLED_BACK, commit)
    return last
