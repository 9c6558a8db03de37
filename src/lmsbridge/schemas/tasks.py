"""Wire shapes of the bulk tasks: the submit's answer and the three states of a task's status.
Pydantic-free dataclasses, one definition for the server's response models and the client's tasks
(see schemas/records.py); the request bodies, which pydantic validates, are in schemas/bulk.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal

from lmsbridge.schemas.errors import ErrorBody
from lmsbridge.schemas.tagged import Tagged


@dataclass(frozen=True, kw_only=True)
class TaskCreated:
    task_id: str


@dataclass(frozen=True, kw_only=True)
class TaskProgress:
    """Extension: how far a task has come."""

    total: int
    succeeded: int
    failed: int
    percent: int

    @property
    def done(self) -> int:
        """Items with an outcome."""
        return self.succeeded + self.failed


@dataclass(frozen=True, kw_only=True)
class ItemWritten:
    # A plain dict (see schemas/syncs.py): the field docstring becomes the schema's description.
    __pydantic_config__: ClassVar[dict[str, Any]] = {"use_attribute_docstrings": True}

    id: str
    course_id: str | None = None
    """Course tasks: the id again (DESIGN.md section 5)."""


@dataclass(frozen=True, kw_only=True)
class ItemSucceeded:
    origin_id: str
    status: Literal["SUCCEEDED"]
    data: ItemWritten


@dataclass(frozen=True, kw_only=True)
class ItemFailed:
    origin_id: str
    status: Literal["FAILED"]
    error: ErrorBody


TaskItemResult = Annotated[ItemSucceeded | ItemFailed, Tagged("status")]


@dataclass(frozen=True, kw_only=True)
class _TaskBase:
    task_id: str
    created_at: datetime
    progress: TaskProgress


@dataclass(frozen=True, kw_only=True)
class TaskPending(_TaskBase):
    status: Literal["PENDING"]
    completed_at: None


@dataclass(frozen=True, kw_only=True)
class TaskCompleted(_TaskBase):
    """Every item has an outcome."""

    status: Literal["COMPLETED"]
    completed_at: datetime
    data: list[TaskItemResult]


@dataclass(frozen=True, kw_only=True)
class TaskFailed(_TaskBase):
    """Nothing ran (credentials invalid, integration inactive, timed out before start)."""

    status: Literal["FAILED"]
    completed_at: datetime
    error: ErrorBody


TaskStatus = Annotated[TaskPending | TaskCompleted | TaskFailed, Tagged("status")]
