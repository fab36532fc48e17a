"""Settings from the environment (names and defaults in docs/interfaces.md), in one place, checked as read."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from trading import feed
from trading.errors import SettingsError
from trading.store.document import canonical

DEFAULT_SYMBOLS = "BTCUSDT,ETHUSDT,SOLUSDT"
ROLES = ("bot", "worker")


@dataclass(frozen=True)
class Settings:
    state_dir: Path
    tick_seconds: float = 1.0
    worker_poll_seconds: float = 0.5
    command_lease_seconds: float = 120.0
    command_retention_seconds: float = 7 * 86400.0
    symbols: tuple[str, ...] = tuple(DEFAULT_SYMBOLS.split(","))
    health_max_age: float | None = None
    starting_capital: float = 10_000.0
    max_drawdown: float = 0.2
    seed: int = 42
    save_seconds: float = 5.0
    role: str = "bot"
    feed: str = feed.DEFAULT
    max_price_gap: float = 0.05

    @property
    def state_file(self) -> Path:
        return self.state_dir / "live_portfolio.json"

    @property
    def commands_db(self) -> Path:
        return self.state_dir / "commands.sqlite3"

    @property
    def bot_lock(self) -> Path:
        return self.role_lock("bot")

    @property
    def worker_lock(self) -> Path:
        return self.role_lock("worker")

    def role_lock(self, role: str) -> Path:
        """The lock of a role (held until the final save): one process at a time trades (bot) or applies commands."""
        return self.state_dir / f"{role}.lock"

    def heartbeat_file(self, role: str) -> Path:
        """The heartbeat of the role's lock holder."""
        return self.state_dir / "heartbeat" / f"{role}.json"

    def own_heartbeat(self, role: str, host: str) -> Path:
        """The heartbeat of the process of `role` in the container (host) `host`."""
        return self.state_dir / "heartbeat" / role / f"{host}.json"

    def max_age(self) -> float:
        return self.health_max_age if self.health_max_age is not None else max(15.0, 5 * self.tick_seconds)

    def settings_hash(self) -> str:
        """What the state was written under: what changes trading decisions, not timing."""
        relevant = {
            "symbols": self.symbols,
            "starting_capital": self.starting_capital,
            "max_drawdown": self.max_drawdown,
            "seed": self.seed,
        }
        if self.feed != feed.DEFAULT:  # so a state written before the setting existed keeps its hash
            relevant["feed"] = self.feed
        return hashlib.sha256(canonical(relevant).encode()).hexdigest()[:16]


def from_env(env: Mapping[str, str]) -> Settings:
    """The settings; `SettingsError` names every malformed one (a number that is none, or out of its range)."""
    problems: list[str] = []

    def number(name: str, default: float, low: float = 0.0, high: float = float("inf")) -> float:
        raw = env.get(name)
        if not raw:
            return default
        try:
            value = float(raw)
        except ValueError:
            value = float("nan")
        if not low < value <= high:  # NaN fails too
            problems.append(f"{name}={raw!r} is not a number in ({low:g}, {high:g}]")
            return default
        return value

    def integer(name: str, default: int) -> int:
        raw = (env.get(name) or str(default)).strip()
        if not raw.lstrip("-").isdigit():
            problems.append(f"{name}={raw!r} is not a whole number")
            return default
        return int(raw)

    settings = Settings(
        state_dir=Path(env.get("TRADEBOT_STATE_DIR") or "/var/lib/tradebot"),
        tick_seconds=number("TRADEBOT_TICK_SECONDS", 1.0),
        worker_poll_seconds=number("TRADEBOT_WORKER_POLL_SECONDS", 0.5),
        command_lease_seconds=number("TRADEBOT_COMMAND_LEASE_SECONDS", 120.0),
        command_retention_seconds=number("TRADEBOT_COMMAND_RETENTION_SECONDS", 7 * 86400.0),
        symbols=tuple(s.strip() for s in (env.get("TRADEBOT_SYMBOLS") or DEFAULT_SYMBOLS).split(",") if s.strip()),
        health_max_age=number("TRADEBOT_HEALTH_MAX_AGE", 0.0) or None,
        starting_capital=number("TRADEBOT_STARTING_CAPITAL", 10_000.0),
        max_drawdown=number("TRADEBOT_MAX_DRAWDOWN", 0.2, high=1.0),
        seed=integer("TRADEBOT_SEED", 42),
        save_seconds=number("TRADEBOT_SAVE_SECONDS", 5.0),
        role=env.get("TRADEBOT_ROLE") or "bot",
        feed=env.get("TRADEBOT_FEED") or feed.DEFAULT,
        max_price_gap=number("TRADEBOT_MAX_PRICE_GAP", 0.05),
    )
    if not settings.symbols:
        problems.append(f"TRADEBOT_SYMBOLS={env.get('TRADEBOT_SYMBOLS')!r} names no symbol")
    if settings.role not in ROLES:
        problems.append(f"TRADEBOT_ROLE={settings.role!r} is not one of {', '.join(ROLES)}")
    if (wrong := feed.problem(settings.feed)) is not None:
        problems.append(wrong)
    if problems:
        raise SettingsError(problems)
    return settings
