"""Price feeds: where the bot's prices come from, chosen by ``TRADEBOT_FEED`` (docs/interfaces.md).

A feed is any object with ``step() -> {symbol: price}``, called once a tick: the newest price of
each symbol it has one now (a symbol left out is not priced this tick).  ``open_feed`` builds the
one the settings name for ``symbols`` (the traded ones and those of every held position), given
``marks``, the last price the state knows of each symbol:

    random-walk   paper prices: a seeded geometric random walk per symbol, resuming from its mark
                  (a symbol the state never priced starts from ``START_PRICES``)
    file:PATH     prices another process writes to PATH as one JSON object ``{symbol: price}``,
                  replaced atomically; read every tick, anything but finite positive numbers ignored

A feed only reports prices; whether the bot may act on one is ``trading.marks``'s rule.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

START_PRICES = {"BTCUSDT": 60_000.0, "ETHUSDT": 3_000.0, "SOLUSDT": 150.0}
DEFAULT = "random-walk"
FILE = "file:"


class Feed(Protocol):
    def step(self) -> dict[str, float]: ...


class RandomWalkFeed:
    def __init__(
        self, symbols: tuple[str, ...], seed: int, volatility: float = 0.004, resume: Mapping[str, float] = {}
    ) -> None:
        self.volatility = volatility
        self.prices = {s: float(resume.get(s) or START_PRICES.get(s, 100.0)) for s in symbols}
        self.rngs = {s: random.Random(f"{seed}:{s}") for s in symbols}

    def step(self) -> dict[str, float]:
        """Advance every symbol one tick and return the new prices."""
        for sym, rng in self.rngs.items():
            self.prices[sym] = round(self.prices[sym] * math.exp(rng.gauss(0.0, self.volatility)), 8)
        return dict(self.prices)


class FileFeed:
    def __init__(self, path: Path, symbols: tuple[str, ...]) -> None:
        self.path, self.symbols = path, frozenset(symbols)

    def step(self) -> dict[str, float]:
        """The file's prices of our symbols now; none while it is missing or torn (a writer not atomic)."""
        try:
            found = json.loads(self.path.read_bytes())
        except (OSError, ValueError):
            return {}
        if not isinstance(found, dict):
            return {}
        return {s: float(p) for s, p in found.items() if s in self.symbols and usable(p)}


def usable(price: object) -> bool:
    return isinstance(price, int | float) and not isinstance(price, bool) and math.isfinite(price) and price > 0


def problem(spec: str) -> str | None:
    """Why ``spec`` names no feed (for the settings check), or None."""
    if spec == DEFAULT or (spec.startswith(FILE) and Path(spec[len(FILE) :]).is_absolute()):
        return None
    return f"TRADEBOT_FEED={spec!r} is neither {DEFAULT!r} nor 'file:' and an absolute path"


def open_feed(spec: str, symbols: tuple[str, ...], marks: Mapping[str, float], seed: int) -> Feed:
    if spec.startswith(FILE):
        return FileFeed(Path(spec[len(FILE) :]), symbols)
    return RandomWalkFeed(symbols, seed, resume=marks)
