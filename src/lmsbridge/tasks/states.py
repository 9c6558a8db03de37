"""The states of a bulk task and of its items (the wire values of `GET /v1/.../tasks/{id}`) and
the moves allowed between them."""

from __future__ import annotations

from enum import StrEnum


class TaskStatus(StrEnum):
    PENDING = "PENDING"
    COMPLETED = "COMPLETED"  # every item has an outcome (each SUCCEEDED or FAILED)
    FAILED = "FAILED"  # stopped as a whole: deadline, inactive integration, rejected credentials

    def can_become(self, new: TaskStatus) -> bool:
        return new in TASK_TRANSITIONS[self]


class ItemStatus(StrEnum):
    """An item's outcome; an item without one yet has none (NULL)."""

    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


TASK_TRANSITIONS: dict[TaskStatus, frozenset[TaskStatus]] = {
    TaskStatus.PENDING: frozenset({TaskStatus.COMPLETED, TaskStatus.FAILED}),
    TaskStatus.COMPLETED: frozenset(),
    TaskStatus.FAILED: frozenset(),
}
