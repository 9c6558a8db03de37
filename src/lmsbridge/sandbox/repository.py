"""The Sandbox's records, matched by (integration, origin_id): writing an origin_id again
updates the record and keeps its remote id, so a re-run item never creates a duplicate."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, func, select

from lmsbridge.clock import utc_now
from lmsbridge.db import Store
from lmsbridge.db import tables as t
from lmsbridge.db.upsert import upsert_returning
from lmsbridge.ids import new_id


class SandboxStateRepository:
    """Implements the Sandbox connector's `SandboxState` on the store; each call is a short
    transaction of its own, as a remote system's write would be."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def upsert_courses(self, integration_id: str, rows: list[tuple[str, dict[str, Any]]]) -> dict[str, str]:
        return self._upsert(t.sandbox_courses, integration_id, rows, {"active": True})

    def upsert_skills(self, integration_id: str, rows: list[tuple[str, dict[str, Any]]]) -> dict[str, str]:
        return self._upsert(t.sandbox_skills, integration_id, rows, {})

    def _upsert(
        self,
        table: Table,
        integration_id: str,
        rows: list[tuple[str, dict[str, Any]]],
        extra: dict[str, Any],
    ) -> dict[str, str]:
        if not rows:
            return {}
        now = utc_now()
        values = [
            {
                "integration_id": integration_id,
                "origin_id": origin_id,
                "remote_id": new_id(),
                "data": data,
                "created_at": now,
                "updated_at": now,
                **extra,
            }
            for origin_id, data in rows
        ]
        with self.store.write() as conn:
            returned = upsert_returning(
                conn,
                table,
                values,
                keys=["integration_id", "origin_id"],
                update=["data", "updated_at", *extra],
                returning=["origin_id", "remote_id"],
            )
        return {row.origin_id: row.remote_id for row in returned}

    def count_courses(self, integration_id: str) -> dict[str, int]:
        """origin_id -> number of records (always 1 when nothing was duplicated)."""
        with self.store.read() as conn:
            rows = conn.execute(
                select(t.sandbox_courses.c.origin_id, func.count())
                .where(t.sandbox_courses.c.integration_id == integration_id)
                .group_by(t.sandbox_courses.c.origin_id)
            )
            return {row[0]: row[1] for row in rows}
