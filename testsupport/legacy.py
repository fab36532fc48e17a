"""A legacy volume in the seed's layout (DEPLOYMENT-SOT-1: `clawbot-openclaw`, mounted at /home/node/.openclaw).

Code and state side by side, everything owned by uid 1000 (the legacy image's `node` user):
the live code under workspace/trading/ (one file equal to the repo's, one changed, the rest
only in the volume), an old operator copy trading-backup-pre-bugfix/, the state files of the
seeds (the unversioned live_portfolio.json with an open BTCUSDT position), logs/, `.env` and a
file no rule knows. `bulk` adds log and code files up to a realistic size (the bench).
"""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import docker

import trading

UID = 1000
POSITION = {"quantity": 0.3, "entry_price": 91464.0, "current_price": 92100.0, "opened_at": "2026-05-12T14:30:00"}
PORTFOLIO = {  # the seed's unversioned shape: no format, no version; emergency flags at the top level
    "cash": 5234.56,
    "positions": {"BTCUSDT": POSITION},
    "closed_trades": [{"symbol": "ETHUSDT", "qty": 1.0, "entry_price": 2900.0, "exit_price": 3010.0}],
    "emergency_stopped": False,
    "emergency_reason": None,
}
TAKEOVER = {  # a legacy state the bot takes over: stops set, and a position outside the traded symbols
    **PORTFOLIO,
    "positions": {
        "BTCUSDT": {**POSITION, "stop_loss": 89634.0, "take_profit": 96037.0},
        "ETHUSDT": {"quantity": 2.0, "entry_price": 3050.0, "current_price": 3100.0, "stop_loss": 2950.0},
        "DOGEUSDT": {"quantity": 20000.0, "entry_price": 0.15, "current_price": 0.162, "stop_loss": 0.12},
    },
}
STATE = {
    "workspace/live_portfolio.json": json.dumps(PORTFOLIO, indent=2),
    "workspace/runtime_config.json": json.dumps({"symbols": ["BTCUSDT"], "interval": 60}),
    "workspace/baseline_holdings.json": json.dumps({"BTCUSDT": 0.3}),
    "workspace/managed_state.json": json.dumps({"managed": ["BTCUSDT"]}),
    "workspace/logs/bot.log": "2026-05-12 14:21:38 decision BTCUSDT hold\n" * 50,
    "workspace/logs/2026-05-11.log": "2026-05-11 23:59:59 heartbeat\n" * 20,
    "workspace/data/trading_state/safe_multi_symbol_state.json": json.dumps({"version": "1.0", "traders": {}}),
    "workspace/data/trading_state/backups/safe_multi_symbol_state_20250120_143022.json": "{}",
}
STATE_TARGETS = {path.removeprefix("workspace/") for path in STATE} | {".env"}
UNKNOWN = "workspace/notes-from-operator.txt"


def secret_env(secret: str) -> str:
    return f"BINANCE_TESTNET=true\nBINANCE_API_KEY=key-{secret}\nBINANCE_API_SECRET={secret}\n"


def files(secret: str, bulk: int = 0, bulk_bytes: int = 0) -> dict[str, tuple[bytes, int]]:
    """`{path: (content, mode)}` of the legacy volume."""
    repo = Path(trading.__file__).parent
    code = {
        "workspace/trading/main.py": "import time\nwhile True:\n    time.sleep(60)\n",
        "workspace/trading/db_emitter.py": "def emit(row):\n    return row\n",
        "workspace/trading/dashboard.py": "print('dashboard')\n",
        "workspace/trading/execution/__init__.py": "",
        "workspace/trading/execution/paper_trade.py": "def trade():\n    return None\n",
        "workspace/trading/strategy.py": (repo / "strategy.py").read_text(),  # same as the repo
        "workspace/trading/bot.py": (repo / "bot.py").read_text() + "# hot-fixed in the volume\n",  # changed
        "workspace/trading-backup-pre-bugfix/main.py": "import time\n",
        "workspace/trading-backup-pre-bugfix/live_portfolio.json": "{}",  # an old copy: code, not state
    }
    found = {path: (text.encode(), 0o644) for path, text in {**code, **STATE}.items()}
    found["workspace/trading/__pycache__/main.cpython-311.pyc"] = (b"\x00pyc", 0o644)
    found[".env"] = (secret_env(secret).encode(), 0o640)
    found[UNKNOWN] = (b"remember to rotate the keys\n", 0o644)
    found.update(_bulk(bulk, bulk_bytes))
    return found


def _bulk(count: int, size: int) -> dict[str, tuple[bytes, int]]:
    """`count` files, half old log files and half code, `size` bytes in all."""
    each = size // max(count, 1)
    return {
        (f"workspace/logs/archive/{i:05d}.log" if i % 2 else f"workspace/trading/vendor/m{i:05d}.py"): (
            (f"{i:08d}".encode() * (each // 8 + 1))[:each],
            0o644,
        )
        for i in range(count)
    }


def archive(content: dict[str, tuple[bytes, int]]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        dirs = sorted({str(Path(path).parents[i]) for path in content for i in range(len(Path(path).parents))})
        for directory in dirs:
            info = tarfile.TarInfo(directory)
            info.type, info.mode, info.uid, info.gid = tarfile.DIRTYPE, 0o755, UID, UID
            tar.addfile(info)
        for path, (data, mode) in sorted(content.items()):
            info = tarfile.TarInfo(path)
            info.size, info.mode, info.uid, info.gid, info.mtime = len(data), mode, UID, UID, 1778596178
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def make(engine: docker.DockerClient, image: str, name: str, content: dict[str, tuple[bytes, int]]) -> None:
    """Create volume `name` holding `content`, through a container that is never started."""
    engine.volumes.create(name)
    container = engine.containers.create(image, ["true"], volumes={name: {"bind": "/v"}}, network_disabled=True)
    try:
        container.put_archive("/v", archive(content))
    finally:
        container.remove(force=True)
