"""The one way tests wait for something that happens in another thread or process: poll a
predicate until it gives a true value, or fail with a message that says what never happened."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(
    predicate: Callable[[], T | None],
    *,
    timeout: float = 10.0,
    message: str | Callable[[], str] = "the condition never held",
    interval: float = 0.05,
) -> T:
    """Call `predicate` every `interval` seconds until it returns a true value, and return that
    value; after `timeout` seconds, fail with `message` (a callable is asked for it then, so it can
    describe the last state seen)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            text = message() if callable(message) else message
            raise AssertionError(f"after {timeout:g}s: {text}")
        time.sleep(interval)
