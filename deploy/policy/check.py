"""A check: one property of one target (a service, a container) judged ok or not, and why not.

The policy's rules yield them (`deploy.policy.rules`), and so do verify's checks of running containers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Check:
    target: str
    name: str
    ok: bool
    detail: str = ""

    def failure(self) -> str:
        return f"{self.target} fails '{self.name}'" + (f" ({self.detail})" if self.detail else "")

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Check:
        return cls(str(data["target"]), str(data["name"]), bool(data["ok"]), str(data.get("detail") or ""))

    def to_json(self) -> dict[str, object]:
        return {"target": self.target, "name": self.name, "ok": self.ok, "detail": self.detail}
