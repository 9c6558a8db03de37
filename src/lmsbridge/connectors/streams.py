"""Streams: how a connector reads one unified model, declared as a class. A stream fetches raw
pages from its remote and maps each raw row to a unified record; the connector's `read` (final,
in the base) only drives it. A partitioned stream reads one partition at a time (enrolments per
course, for example) and the base never sees the difference."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar, final

from lmsbridge.connectors.base import Coverage, ModelCoverage
from lmsbridge.connectors.records import Record

if TYPE_CHECKING:
    from lmsbridge.connectors.connector import BaseConnector

C = TypeVar("C", bound="BaseConnector[Any]")
Raw = TypeVar("Raw")
Partition = TypeVar("Partition")


class Stream(ABC, Generic[C, Raw]):
    """One unified model read from the remote.

    Declare:
        model: the unified model id (`lms_users`, `lms_courses`, ...).
        fields: per-field coverage; a field left out counts as SUPPORTED.
        supports_since: True when `pages` honours `since` with a real remote change filter.
        covers: other models whose records travel inside this one's (course revisions inside
            courses), with their coverage.
    """

    model: ClassVar[str]
    fields: ClassVar[Mapping[str, Coverage]] = {}
    supports_since: ClassVar[bool] = False
    covers: ClassVar[Mapping[str, ModelCoverage]] = {}

    def __init__(self, connector: C) -> None:
        self.connector = connector

    @abstractmethod
    def pages(self, since: datetime | None) -> Iterator[Sequence[Raw]]:
        """Raw rows as the remote answers them, page by page. `since` is None on a full read."""

    @abstractmethod
    def to_record(self, raw: Raw) -> Record | None:
        """The unified record of one raw row; None leaves the row out (not a real record)."""

    @final
    def records(self, since: datetime | None) -> Iterator[list[Record]]:
        for page in self.pages(since if self.supports_since else None):
            records = [record for record in map(self.to_record, page) if record is not None]
            if records:
                yield records


class PartitionedStream(Stream[C, Raw], Generic[C, Partition, Raw]):
    """A stream read partition by partition: `partitions` lists them (course ids, say) and
    `partition_pages` reads one."""

    @abstractmethod
    def partitions(self) -> Iterator[Partition]: ...

    @abstractmethod
    def partition_pages(self, partition: Partition, since: datetime | None) -> Iterator[Sequence[Raw]]: ...

    @final
    def pages(self, since: datetime | None) -> Iterator[Sequence[Raw]]:
        for partition in self.partitions():
            yield from self.partition_pages(partition, since)
