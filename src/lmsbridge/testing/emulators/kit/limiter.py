"""A token-bucket rate limiter per caller (token, client id, key) that answers as the vendor
does when it throttles: the emulator gives the response to send, with the vendor's own body and
headers (Retry-After in seconds, an X-RateLimit-Reset epoch, a JSON error...)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from starlette.responses import PlainTextResponse, Response


def plain_429(wait: float) -> Response:
    return PlainTextResponse("Too Many Requests", 429, {"Retry-After": str(max(1, round(wait + 0.49)))})


class RateLimiter:
    def __init__(self, answer: Callable[[float], Response] = plain_429) -> None:
        self.answer = answer
        self.limit: tuple[float, float] | None = None
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()
        self.admitted = 0
        self.throttled = 0

    def set(self, per_second: float | None, burst: float | None = None) -> None:
        """`per_second` calls per caller, in bursts of up to `burst`; None lifts the limit."""
        with self._lock:
            self.limit = None if per_second is None else (per_second, burst or per_second)
            self._buckets.clear()
            self.admitted = self.throttled = 0

    def wait_for(self, caller: str) -> float | None:
        """None when the call may go on; otherwise the seconds the caller should wait."""
        with self._lock:
            if self.limit is None:
                self.admitted += 1
                return None
            rate, burst = self.limit
            now = time.monotonic()
            tokens, at = self._buckets.get(caller, (burst, now))
            tokens = min(burst, tokens + (now - at) * rate)
            if tokens >= 1.0:
                self._buckets[caller] = (tokens - 1.0, now)
                self.admitted += 1
                return None
            self._buckets[caller] = (tokens, now)
            self.throttled += 1
            return (1.0 - tokens) / rate

    def check(self, caller: str) -> Response | None:
        """The vendor's 429 answer when the caller is over its limit, else None."""
        wait = self.wait_for(caller)
        return None if wait is None else self.answer(wait)
