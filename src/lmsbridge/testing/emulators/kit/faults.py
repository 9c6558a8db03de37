"""Faults an emulator injects before, instead of, or after answering, matched by target (the
emulator decides what a target is: Moodle's function name, "POST /courses"...).

kinds:
    status            an HTTP error (`status`, optional `retry_after`, `body`, `content_type`)
    error_body        the vendor's own error body with `status` (often 200, as Moodle does)
    latency           answer after `seconds`
    timeout           no answer for `seconds` (longer than the client waits)
    reset             headers, half a body, then the connection closes
    drop_after_write  the request is served (the write happens), then the answer is lost
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

KINDS = frozenset({"status", "error_body", "latency", "timeout", "reset", "drop_after_write"})


@dataclass
class Fault:
    kind: str
    target: str | None = None  # None: every call
    times: int | None = 1  # None: until cleared
    status: int = 503
    retry_after: str | None = None
    seconds: float = 0.0
    body: str | None = None
    content_type: str = "text/html"
    headers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; known: {', '.join(sorted(KINDS))}")

    def as_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


class FaultPlan:
    """The faults waiting to happen, taken in the order they were added."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def pending(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)

    def take(self, target: str | None) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.target is None or fault.target == target:
                    if fault.times is not None:
                        fault.times -= 1
                        if fault.times <= 0:
                            self._faults.remove(fault)
                    return fault
        return None
