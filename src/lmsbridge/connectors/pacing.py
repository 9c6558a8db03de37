"""Pacing of remote calls, as connectors see it: an integration's declared `Pace` and the `Pacer`
the shared HTTP client asks before each call. The store-backed implementation, shared by every
worker process, is `lmsbridge.remote_pacing.StorePacer` (connectors import no store)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class PacingDeferred(Exception):
    """The integration's next free slot is too far away to wait for in a worker thread. The
    store's pacer raises it as a job deferral too, so the worker requeues the job for then."""

    def __init__(self, delay_seconds: float, reason: str = "") -> None:
        super().__init__(reason or f"deferred for {delay_seconds:.2f}s")
        self.delay_seconds = delay_seconds


@dataclass(frozen=True)
class Pace:
    """An integration's limit: `rate` calls per second (None: no declared limit, only 429s slow
    it down) with bursts of up to `burst` calls."""

    rate: float | None
    burst: float = 1.0


class Pacer(Protocol):
    def acquire(self, key: str, pace: Pace) -> None:
        """Wait for the right to make one call; raises `PacingDeferred` rather than wait long."""

    def throttled(self, key: str, pace: Pace, retry_after: float | None) -> None:
        """The remote answered 429: every caller of `key` waits `retry_after` (or a default),
        and the rate slows down for a while."""
