"""The call log: every request an emulator served, with its target and answer, and never its
credentials, so a test can assert what the connector asked for (and that it asked once)."""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    target: str | None
    status: int
    fault: str | None = None

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


class CallLog:
    def __init__(self) -> None:
        self._calls: list[Call] = []
        self._lock = threading.Lock()

    def record(self, call: Call) -> None:
        with self._lock:
            self._calls.append(call)

    def all(self) -> list[Call]:
        with self._lock:
            return list(self._calls)

    def of(self, target: str) -> list[Call]:
        return [call for call in self.all() if call.target == target]

    def clear(self) -> None:
        with self._lock:
            self._calls.clear()
