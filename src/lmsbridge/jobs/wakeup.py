"""The wake-up of this process's workers: code that commits a job calls `wake_workers()` so an
idle worker in the same process claims it at once instead of at its next poll. Workers in other
processes find the job on their next poll (`LMSBRIDGE_JOB_POLL_SECONDS`)."""

from __future__ import annotations

import threading


class WakeUp:
    def __init__(self) -> None:
        self._event = threading.Event()

    def notify(self) -> None:
        self._event.set()

    def wait(self, timeout: float) -> bool:
        """Wait until notified or `timeout` passes; True when notified (and the notice is used up)."""
        if self._event.wait(timeout):
            self._event.clear()
            return True
        return False


# One per process: the API and the worker of `lmsbridge serve` share it.
WORKERS = WakeUp()


def wake_workers() -> None:
    """Call after the transaction that enqueued a job has committed."""
    WORKERS.notify()
