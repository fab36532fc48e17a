from __future__ import annotations


def position(symbol: str, pid: str, **fields: object) -> dict:
    return {
        "symbol": symbol,
        "qty": 1.0,
        "entry_price": 100.0,
        "stop_loss": 90.0,
        "take_profit": 110.0,
        "current_price": 100.0,
        "position_id": pid,
        "opened_at": "t0",
        "pending": False,
        **fields,
    }
