"""Who is calling and which integration they name, remembered briefly: every integration-scoped
request needs both, and a status poll would otherwise spend more on them than on its task.

An entry lives `seconds` (LMSBRIDGE_CALLER_CACHE_SECONDS, 1 s by default; 0 remembers nothing)
and only while no API key or integration has changed in this process since it was read
(`db/access_changes.py`). So a key revoked, or an integration paused, updated or deleted, through
this process is seen by its next request; one changed by another process (the CLI, another API
process, a worker marking an integration INVALID) within `seconds`. Unknown keys and integrations
are never remembered: they are looked up again on every request, so a new key works at once."""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

from lmsbridge.auth.repository import Principal
from lmsbridge.db import access_changes
from lmsbridge.integration_store.repository import Integration

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

# Past this many entries the expired ones are dropped, and if none were, all of them: a flood
# of distinct keys cannot grow the process's memory.
MAX_ENTRIES = 10_000


@dataclass(frozen=True, slots=True)
class _Entry(Generic[V]):
    value: V
    generation: int
    expires_at: float


class ShortMemory(Generic[K, V]):
    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self.clock = clock
        self._entries: dict[K, _Entry[V]] = {}

    def get(self, key: K) -> V | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry.generation != access_changes.generation() or entry.expires_at <= self.clock():
            self._entries.pop(key, None)
            return None
        return entry.value

    def keep(self, key: K, value: V, generation: int) -> None:
        """Remember `value`, read from the store under `generation` (taken BEFORE the read, so a
        change committed while the read ran makes the entry stale at once)."""
        if self.seconds <= 0:
            return
        now = self.clock()
        if len(self._entries) >= MAX_ENTRIES:
            live = {k: e for k, e in self._entries.items() if e.expires_at > now}
            self._entries = live if len(live) < MAX_ENTRIES else {}
        self._entries[key] = _Entry(value, generation, now + self.seconds)


@dataclass
class CallerCache:
    principals: ShortMemory[str, Principal]  # by the SHA-256 of the API key
    integrations: ShortMemory[tuple[str, str], Integration]  # by (integration id, environment id)

    @classmethod
    def lasting(cls, seconds: float) -> CallerCache:
        return cls(ShortMemory(seconds), ShortMemory(seconds))
