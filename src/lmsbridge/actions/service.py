"""Runs a direct action through the integration's connector and writes the result through to the
store, so the next read shows it without waiting for a sync."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Table, select

from lmsbridge.clock import parse_moment
from lmsbridge.connectors.base import Connector, WriteAction
from lmsbridge.connectors.errors import ConnectorError
from lmsbridge.connectors.records import Record
from lmsbridge.connectors.registry import connector_class
from lmsbridge.db import Store
from lmsbridge.db import tables as t
from lmsbridge.errors import (
    ActionNotAvailableError,
    ErrorCode,
    InputInvalidError,
    IntegrationNotFoundError,
    RemoteActionError,
    not_found,
    require_active,
)
from lmsbridge.integrations.repository import Integration, IntegrationRepository
from lmsbridge.reads.repository import courses, hris_skills, progression, progressions_query
from lmsbridge.syncs.stamps import take_stamp
from lmsbridge.syncs.writer import RecordWriter

_T = TypeVar("_T")

REMOTE_PREFIX = "remote:"
_RECORD_NAMES = {
    "lms_course_progressions": "course progression",
    "lms_courses": "course",
    "hris_skills": "skill",
    "lms_users": "user",
    "lms_course_revisions": "course revision",
}
ACTION_LABELS = {
    WriteAction.ENROL: "Enroll user",
    WriteAction.COMPLETE: "Complete course progression",
    WriteAction.DEACTIVATE_COURSE: "Deactivate course",
    WriteAction.CREATE_SKILL: "Create skill",
    WriteAction.UPDATE_SKILL: "Update skill",
    WriteAction.DELETE_SKILL: "Delete skill",
}


def require(integration: Integration, action: WriteAction) -> None:
    require_active(integration.status, integration.id)
    cls = connector_class(integration.tool)
    if not cls.capabilities.can(action):
        raise ActionNotAvailableError(
            f'The "{ACTION_LABELS[action]}" action is not available for {cls.label} integrations.'
        )


def remote_id_of(
    store: Store, table: Table, integration_id: str, value: str, what: str, *, in_body: bool
) -> str:
    """The remote id behind a lmsbridge id or a `remote:<id>` reference."""
    if value.startswith(REMOTE_PREFIX):
        remote = value[len(REMOTE_PREFIX) :]
        if not remote:
            raise InputInvalidError(f"{what}: 'remote:' must be followed by the remote id.")
        return remote
    with store.read() as conn:
        found = conn.scalar(
            select(table.c.remote_id).where(table.c.id == value, table.c.integration_id == integration_id)
        )
    if found is None:
        if in_body:
            raise InputInvalidError(
                f"{what}: no record with id {value!r} in this integration (use remote:<id> for a remote id)."
            )
        raise not_found(_RECORD_NAMES.get(table.name, "record"), value)
    return str(found)


def call(action: Callable[[], _T]) -> _T:
    try:
        return action()
    except ConnectorError as error:
        raise RemoteActionError(ErrorCode(error.code), error.message) from error


def write_through(store: Store, integration_id: str, model: str, record: Record) -> None:
    with store.write() as conn:
        stamp = take_stamp(conn, integration_id)
        if IntegrationRepository(conn).get(integration_id) is None:
            raise IntegrationNotFoundError(f"The integration {integration_id} was deleted meanwhile.")
        RecordWriter(conn, integration_id, stamp).write(model, [record])


def progression_view(store: Store, integration_id: str, remote_id: str) -> dict[str, Any]:
    table = t.lms_course_progressions
    with store.read() as conn:
        row = conn.execute(
            progressions_query(table).where(
                table.c.integration_id == integration_id, table.c.remote_id == remote_id
            )
        ).first()
    assert row is not None
    return progression(row)


def course_view(store: Store, integration_id: str, remote_id: str) -> dict[str, Any]:
    table = t.lms_courses
    with store.read() as conn:
        row = conn.execute(
            select(table).where(table.c.integration_id == integration_id, table.c.remote_id == remote_id)
        ).first()
        assert row is not None
        return courses(conn, [row], False)[0]


def skill_view(store: Store, integration_id: str, remote_id: str) -> dict[str, Any]:
    table = t.hris_skills
    with store.read() as conn:
        row = conn.execute(
            select(table).where(table.c.integration_id == integration_id, table.c.remote_id == remote_id)
        ).first()
    assert row is not None
    return hris_skills(conn, [row], True)[0]


def mark_skill_deleted(store: Store, integration_id: str, remote_id: str) -> None:
    """The remote deleted the skill: the store shows it with `remote_deleted_at` at once."""
    table = t.hris_skills
    with store.write() as conn:
        stamp = take_stamp(conn, integration_id)
        ids = list(
            conn.scalars(
                select(table.c.id).where(
                    table.c.integration_id == integration_id, table.c.remote_id == remote_id
                )
            )
        )
        RecordWriter(conn, integration_id, stamp).mark_deleted("hris_skills", ids, stamp + timedelta(days=1))


def parse_completed_at(value: str | None) -> datetime:
    if value is None:
        return datetime.now(UTC)
    try:
        return parse_moment(value)
    except ValueError as error:
        raise InputInvalidError(f"completed_at: {error}.") from error


def connector_of(store: Store, box: Any, integration: Integration) -> Connector:
    from lmsbridge.syncs.runner import connector_for

    connector: Connector = connector_for(store, box, integration)  # type: ignore[assignment]
    return connector
