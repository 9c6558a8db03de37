"""Bulk writers: how a connector writes many items of one kind (courses, skills), declared as a
class. A writer checks each item before any remote call (`invalid`), may look things up once
(`prepare`), and writes batches; the base runs the loop, so the rule "once the remote is
unavailable, the remaining items fail as not attempted" lives in one place."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from lmsbridge.connectors.base import CourseUpsert, ItemOutcome, SkillUpsert, WriteAction

if TYPE_CHECKING:
    from lmsbridge.connectors.connector import BaseConnector

C = TypeVar("C", bound="BaseConnector[Any]")
Item = TypeVar("Item", CourseUpsert, SkillUpsert)


class BulkWriter(ABC, Generic[C, Item]):
    """Writes the items of one bulk action.

    Declare:
        action: the write action this writer performs (`WriteAction.UPSERT_COURSES`, ...).
        batch_size: items per `write_batch` call (override `batch_size_for` to size it from
            the connector's settings).
    """

    action: ClassVar[WriteAction]
    batch_size: ClassVar[int] = 50

    def __init__(self, connector: C) -> None:
        self.connector = connector

    def batch_size_for(self) -> int:
        return self.batch_size

    def invalid(self, item: Item) -> str | None:
        """Why the remote would refuse this item (REMOTE.INPUT_INVALID without a call), or None."""
        return None

    def prepare(self, items: Sequence[Item]) -> None:
        """Once, before the first batch (an index of what exists, say). A `ConnectorError` here
        means nothing ran: the task fails as a whole."""

    @abstractmethod
    def write_batch(self, batch: Sequence[Item]) -> Iterator[ItemOutcome]:
        """One outcome per item of the batch. Raise `ItemError` to fail the whole batch; any other
        `ConnectorError` means the remote is unavailable and stops the write."""


class CourseWriter(BulkWriter[C, CourseUpsert]):
    action: ClassVar[WriteAction] = WriteAction.UPSERT_COURSES


class SkillWriter(BulkWriter[C, SkillUpsert]):
    action: ClassVar[WriteAction] = WriteAction.UPSERT_SKILLS
