"""A real worker changing or closing a position inside the bot's tick, its saves slowed by 50 ms.

Each attempt makes one tick decide to close two positions; while the save after the first close
waits, the operator moves the second one's stop out of reach or closes it
(``testsupport.races.tick_races``).  No level change may be lost and the bot must live through
every attempt; the attempts where the bot decided a close again on the merged state show that the
worker's save landed inside the tick.
"""

from __future__ import annotations

import pytest

from tests.process.conftest import env_for
from testsupport.races import check, tick_races
from trading.config import Settings

pytestmark = pytest.mark.slow
ATTEMPTS = 200


def test_no_level_change_lost_and_no_bot_death_when_the_worker_lands_inside_a_tick(state_dir, spawn):
    spawn("worker", TRADEBOT_WORKER_POLL_SECONDS="0.002")
    fast = env_for(state_dir, TRADEBOT_TICK_SECONDS="0.005", TRADEBOT_SAVE_SECONDS="1000")
    tally = tick_races(Settings(state_dir=state_dir), ATTEMPTS, delay=0.05, env=fast)
    assert tally.bot_exit == 0 and tally.attempts == ATTEMPTS, (state_dir / "bot.log").read_text()[-3000:]
    assert tally.lost == []
    assert tally.redecided >= ATTEMPTS // 2, "the worker's save never landed inside a tick: nothing was tested"
    assert check(Settings(state_dir=state_dir)) == []
