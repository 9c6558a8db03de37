"""At most N write actions in flight per integration (DESIGN.md section 5). The count is kept per
API process; with several API processes each enforces its own N."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from lmsbridge.errors import ConcurrencyLimitError


class ActionLimiter:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._in_flight: dict[str, int] = {}
        self._lock = threading.Lock()

    @contextmanager
    def slot(self, integration_id: str) -> Iterator[int]:
        """Hold a slot while the action runs; yields how many remain."""
        with self._lock:
            used = self._in_flight.get(integration_id, 0)
            if used >= self.limit:
                raise ConcurrencyLimitError(
                    f"{self.limit} actions are already in flight for this integration; retry when one "
                    "finishes (back off, starting at about a second).",
                    headers={
                        "Concurrency-Limit": str(self.limit),
                        "Concurrency-Remaining": "0",
                        "Retry-After": "1",
                    },
                )
            self._in_flight[integration_id] = used + 1
            remaining = self.limit - used - 1
        try:
            yield remaining
        finally:
            with self._lock:
                self._in_flight[integration_id] -= 1
                if not self._in_flight[integration_id]:
                    del self._in_flight[integration_id]
