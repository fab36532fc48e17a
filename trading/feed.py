"""A deterministic price feed: a seeded geometric random walk per symbol."""

from __future__ import annotations

import math
import random
from collections.abc import Mapping

START_PRICES = {"BTCUSDT": 60_000.0, "ETHUSDT": 3_000.0, "SOLUSDT": 150.0}


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
