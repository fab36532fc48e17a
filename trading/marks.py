"""The state's last price of each symbol, and the rule that keeps a start from acting on a made-up price.

``last_marks``: for each symbol, the price the bot last acted on (``last_prices``), else a held
position's ``current_price``, else its entry price (all a legacy state knows).

After a start, every symbol with a mark waits until the feed gives a price within ``max_gap``
(relative) of that mark.  A waiting symbol is neither marked nor decided on: its positions keep
their last mark, no stop fires and nothing opens on a price that may be the feed's invention.
Once a price meets the mark the symbol trades on every price (markets gap; only a start is
suspect).  A symbol the state never priced has nothing to contradict and trades at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from trading.feed import usable
from trading.store.document import State


def last_marks(state: State) -> dict[str, float]:
    held = {sym: pos.get("current_price") or pos.get("entry_price") for sym, pos in state["positions"].items()}
    found = {**held, **(state.get("last_prices") or {})}
    return {sym: float(price) for sym, price in found.items() if usable(price)}


def priced_symbols(traded: tuple[str, ...], state: State) -> tuple[str, ...]:
    """What the feed must price: the traded symbols, then those of positions held outside them."""
    return traded + tuple(sorted(set(state["positions"]) - set(traded)))


def continuous(price: float, mark: float, max_gap: float) -> bool:
    return abs(price / mark - 1.0) <= max_gap


@dataclass
class Gate:
    """The symbols still waiting for a price that meets their mark (``waiting``: symbol -> mark)."""

    waiting: dict[str, float]
    max_gap: float
    held: dict[str, float] = field(default_factory=dict)

    def admit(self, prices: Mapping[str, float]) -> dict[str, float]:
        """The prices to act on; ``held`` becomes those held back.  A price that meets its mark ends the wait."""
        admitted, self.held = {}, {}
        for sym, price in prices.items():
            mark = self.waiting.get(sym)
            if mark is None or continuous(price, mark, self.max_gap):
                self.waiting.pop(sym, None)
                admitted[sym] = price
            else:
                self.held[sym] = price
        return admitted
