"""The bot's scan loop: paper trading over the price feed, saving through a ``StateHolder``.

Each tick: fold in what the worker saved, step the feed (``trading.feed``: it prices the traded
symbols and every held one, resuming from the state's marks), mark the positions and act on the
strategy's decisions (a save after every trade) with the prices ``trading.marks`` admits, check the
drawdown (a persisted emergency stop), save periodically, write the heartbeat.  SIGTERM/SIGINT end
the loop with a final save.  A ``flock`` on ``bot.lock`` (``trading.rolelock``, taken before the bot is made,
let go after the final save) keeps a second bot off the same state.
"""

from __future__ import annotations

import copy
import logging
import time
import uuid

from trading import heartbeat
from trading.codedigest import imported_code
from trading.config import Settings
from trading.errors import StateError
from trading.feed import open_feed
from trading.marks import Gate, last_marks, priced_symbols
from trading.portfolio import close_position, drawdown, open_position, set_emergency_stop
from trading.signals import StopSignal
from trading.store.document import State, utcnow
from trading.store.holder import StateHolder
from trading.strategy import Close, Open, Params, decide, recheck, update_averages
from trading.volume import Volume

log = logging.getLogger("trading.bot")


def apply_action(state: State, action: Open | Close, params: Params, now: str) -> str:
    """Carry out one decision on ``state``: an open, or a close with its cooldown and loss count; what was done."""
    if isinstance(action, Open):
        pos = {
            "symbol": action.symbol,
            "qty": action.qty,
            "entry_price": action.price,
            "stop_loss": action.stop_loss,
            "take_profit": action.take_profit,
            "current_price": action.price,
            "position_id": f"{action.symbol}-{uuid.uuid4().hex[:12]}",
            "opened_at": now,
            "pending": False,
        }
        open_position(state, pos)
        return f"opened {action.symbol} ({pos['position_id']}) qty={action.qty:.6f} at {action.price:.4f}"
    trade = close_position(state, action.symbol, action.price, action.reason, now)
    losing = trade["pnl"] < 0
    state["repeat_loss_count"] = int(state.get("repeat_loss_count") or 0) + 1 if losing else 0
    if action.reason == "stop_loss":
        state["sl_cooldowns"][action.symbol] = state["ticks"] + params.cooldown_ticks
    pnl = trade["pnl"]
    return f"closed {action.symbol} ({trade['position_id']}) at {action.price:.4f} ({action.reason}) pnl={pnl:.2f}"


class Bot:
    def __init__(self, settings: Settings, holder: StateHolder, params: Params | None = None) -> None:
        self.settings, self.holder, self.params = settings, holder, params or Params()
        state = holder.state
        state.setdefault("ticks", 0)
        marks, symbols = last_marks(state), priced_symbols(settings.symbols, state)
        self.feed = open_feed(settings.feed, symbols, marks, settings.seed)
        self.gate = Gate({s: marks[s] for s in symbols if s in marks}, settings.max_price_gap)
        self.told: set[str] = set()  # symbols whose wait for their mark was logged
        self.started_at, self.ticks, self.save_errors = utcnow(), 0, 0
        self.last_save = time.monotonic()
        self.volume = Volume(settings.state_file, "bot", "makes no trade")
        self.beater = heartbeat.Beater(settings.heartbeat_file("bot"), self.volume.failed)

    def run(self, stop: StopSignal) -> None:
        start = time.monotonic()
        while not stop.stopping:
            self.tick()
            next_tick = start + self.ticks * self.settings.tick_seconds
            stop.wait(next_tick - time.monotonic())
        log.info("stop requested (signal %s); final save", stop.received)
        self.save("shutdown")

    def tick(self) -> None:
        """One tick; while the volume is full only the heartbeat: no trade is made that could not be saved."""
        if not self.volume.wait():
            self.trade_tick()
        self.ticks += 1
        self.beat()

    def trade_tick(self) -> None:
        self.refresh()
        state = self.holder.state
        prices = self.admit(self.feed.step())
        for sym, pos in state["positions"].items():
            pos["current_price"] = prices.get(sym, pos.get("current_price"))
        averages = state.setdefault("averages", {})
        for planned in decide(state, prices, averages, state["ticks"], self.params, self.settings.symbols):
            if not self.trade(planned):
                break  # a trade that could not be saved was taken back; the next tick decides again
        state["averages"] = update_averages(averages, prices, self.params.ema_alpha)
        state["last_prices"] = {**(state.get("last_prices") or {}), **prices}
        state["ticks"] += 1
        self.check_drawdown()
        if time.monotonic() - self.last_save >= self.settings.save_seconds:
            self.save("periodic", allow_abort=True)

    def admit(self, prices: dict[str, float]) -> dict[str, float]:
        """The feed's prices the bot may act on; a symbol's wait for its mark is logged when it starts and ends."""
        admitted = self.gate.admit(prices)
        for sym in sorted(self.gate.held.keys() - self.told):
            self.say_wait(sym, prices[sym], self.gate.waiting[sym])
        self.told |= self.gate.held.keys()
        for sym in sorted(self.told - self.gate.waiting.keys()):
            log.warning("%s: the feed's price %s meets the state's last mark; trading it again", sym, admitted[sym])
        self.told &= self.gate.waiting.keys()
        return admitted

    def say_wait(self, sym: str, price: float, mark: float) -> None:
        off, limit = abs(price / mark - 1), self.settings.max_price_gap
        log.warning(
            "%s",
            f"{sym}: the feed's price {price} is {off:.1%} from the state's last mark {mark}; no decision on {sym} "
            f"until a price comes within {limit:.1%} of it (TRADEBOT_MAX_PRICE_GAP)",
        )

    def trade(self, planned: Open | Close) -> bool:
        """Carry out a decision of this tick as it stands now (a save since may have merged the worker's).

        False when its save failed: then the trade is taken back, memory as before it.
        """
        action = recheck(planned, self.holder.state)
        if action != planned:
            log.info("%s: the tick decided %s; the state as saved since says %s", planned.symbol, planned, action)
        if action is None:
            return True
        before = copy.deepcopy(self.holder.state)
        done = apply_action(self.holder.state, action, self.params, utcnow())
        if not self.save("trade"):
            self.holder.restore(before)
            log.warning("not made, as it could not be saved: %s", done)
            return False
        log.info("%s (generation %d)", done, self.holder.generation)
        return True

    def check_drawdown(self) -> None:
        state = self.holder.state
        dd = drawdown(state)
        if dd >= self.settings.max_drawdown and not state["emergency_stop"]["active"]:
            reason = f"max drawdown reached: {dd:.2%} >= {self.settings.max_drawdown:.2%}"
            set_emergency_stop(state, reason, utcnow())
            log.error("EMERGENCY STOP: %s; trading halted until cleared (bot --clear-emergency-stop)", reason)
            self.save("emergency_stop")

    def refresh(self) -> None:
        """Fold in the worker's saves; on a failure trade on from memory (the next save retries)."""
        try:
            self.holder.refresh()
        except StateError as exc:
            self.save_errors += 1
            if not self.volume.failed(exc):
                log.error("refresh failed: %s", exc)

    def save(self, source: str, *, allow_abort: bool = False) -> bool:
        """Whether the state was saved; a failure is counted and said (a full volume once, by ``volume``)."""
        try:
            saved = self.holder.save(source, allow_abort=allow_abort)
        except StateError as exc:
            self.save_errors += 1
            if not self.volume.failed(exc):
                log.error("save failed, source=%s: %s", source, exc)
            return False
        if saved:
            self.last_save = time.monotonic()
        return saved

    def beat(self) -> None:
        coherence = {**self.holder.counters(), "save_error_count": self.save_errors}
        beat = heartbeat.document(
            "bot", self.started_at, self.ticks, self.holder.generation, coherence, imported_code()
        )
        self.beater.beat(beat)
