"""The Sandbox's bulk writers: items are written to its state in batches, with the latency and
failures its settings inject."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import fields
from typing import TYPE_CHECKING, Any

from lmsbridge.connectors.base import CourseUpsert, ItemOutcome, SkillUpsert
from lmsbridge.connectors.errors import ItemError
from lmsbridge.connectors.records import Record
from lmsbridge.connectors.sandbox import mapping
from lmsbridge.connectors.writers import CourseWriter, Item, SkillWriter
from lmsbridge.errors import ErrorCode

if TYPE_CHECKING:
    from lmsbridge.connectors.sandbox.connector import SandboxConnector


def _batch_size(connector: SandboxConnector) -> int:
    # With latency, small batches, so outcomes reach the store about four times a second.
    latency = connector.settings.latency_ms
    return 500 if not latency else max(1, 250 // latency)


def _injected_failure(connector: SandboxConnector, origin_id: str) -> ItemError | None:
    s = connector.settings
    if origin_id in s.fail_origin_ids:
        return ItemError(
            f"The Sandbox rejected item {origin_id!r} (it is listed in fail_origin_ids).",
            code=ErrorCode.REMOTE_INPUT_INVALID,
        )
    if s.failure_rate:
        digest = hashlib.sha256(f"{connector.integration_id}/{origin_id}".encode()).digest()
        if int.from_bytes(digest[:8], "big") / 2**64 < s.failure_rate:
            return ItemError(
                "The Sandbox answered with an unexpected error (setting failure_rate).",
                code=ErrorCode.REMOTE_UNKNOWN_HTTP_ERROR,
            )
    return None


def _fields(item: Item) -> dict[str, Any]:
    """The item's fields as a dict: `dataclasses.asdict` without its deep copy (an item's values
    are strings, numbers and tuples of strings), which cost a third of a bulk task's CPU."""
    return {field.name: getattr(item, field.name) for field in fields(item)}


def _write(
    connector: SandboxConnector,
    batch: Sequence[Item],
    write: Callable[[str, list[tuple[str, dict[str, Any]]]], dict[str, Any]],
    record: Callable[[Item, dict[str, Any], Any], Record],
) -> Iterator[ItemOutcome]:
    if connector.settings.latency_ms:
        time.sleep(connector.settings.latency_ms * len(batch) / 1000)
    accepted = []
    for item in batch:
        error = _injected_failure(connector, item.origin_id)
        if error is not None:
            yield ItemOutcome(item.origin_id, error=error)
        else:
            accepted.append((item, _fields(item)))
    written = write(connector.integration_id, [(item.origin_id, data) for item, data in accepted])
    for item, data in accepted:
        row = written[item.origin_id]
        yield ItemOutcome(item.origin_id, remote_id=row[0], record=record(item, data, row))


class SandboxCourses(CourseWriter["SandboxConnector"]):
    def batch_size_for(self) -> int:
        return _batch_size(self.connector)

    def write_batch(self, batch: Sequence[CourseUpsert]) -> Iterator[ItemOutcome]:
        def record(item: CourseUpsert, data: dict[str, Any], written: Any) -> Record:
            return mapping.written_course(written[0], item.origin_id, data, True, written[1])

        return _write(self.connector, batch, self.connector.state.upsert_courses, record)


class SandboxSkills(SkillWriter["SandboxConnector"]):
    def batch_size_for(self) -> int:
        return _batch_size(self.connector)

    def write_batch(self, batch: Sequence[SkillUpsert]) -> Iterator[ItemOutcome]:
        def record(item: SkillUpsert, data: dict[str, Any], written: Any) -> Record:
            return mapping.written_hris_skill(written[0], {"name": item.name, "status": item.status})

        return _write(self.connector, batch, self.connector.state.upsert_skills, record)
