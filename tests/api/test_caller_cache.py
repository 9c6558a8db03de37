"""The API's caller cache (api/callers.py): what it remembers, for how long, and what makes it
forget at once."""

from __future__ import annotations

from lmsbridge.api.callers import MAX_ENTRIES, ShortMemory
from lmsbridge.db import access_changes


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_an_entry_is_forgotten_when_its_time_is_up() -> None:
    clock = Clock()
    memory: ShortMemory[str, int] = ShortMemory(1.0, clock)
    memory.keep("key", 7, access_changes.generation())
    clock.now += 0.9
    assert memory.get("key") == 7
    clock.now += 0.2
    assert memory.get("key") is None


def test_a_change_in_this_process_makes_every_entry_stale_at_once() -> None:
    memory: ShortMemory[str, int] = ShortMemory(60.0, Clock())
    memory.keep("key", 7, access_changes.generation())
    access_changes.move_on()
    assert memory.get("key") is None


def test_a_value_read_while_a_change_was_in_flight_is_not_served() -> None:
    # The generation is taken before the read; a change that commits during the read moves it on.
    memory: ShortMemory[str, int] = ShortMemory(60.0, Clock())
    before_the_read = access_changes.generation()
    access_changes.move_on()
    memory.keep("key", 7, before_the_read)
    assert memory.get("key") is None


def test_zero_seconds_remembers_nothing() -> None:
    memory: ShortMemory[str, int] = ShortMemory(0.0, Clock())
    memory.keep("key", 7, access_changes.generation())
    assert memory.get("key") is None


def test_a_flood_of_distinct_keys_cannot_grow_it_past_its_bound() -> None:
    memory: ShortMemory[int, int] = ShortMemory(60.0, Clock())
    generation = access_changes.generation()
    for n in range(3 * MAX_ENTRIES):
        memory.keep(n, n, generation)
    assert len(memory._entries) <= MAX_ENTRIES
