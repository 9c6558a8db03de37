"""The dashboard's queries: signed-in sessions, and live records per integration and model (a
read across the record tables)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, delete, func, select

from lmsbridge.clock import utc_now
from lmsbridge.db.tables import api_keys, dashboard_sessions, environments
from lmsbridge.records.registry import TABLES


class DashboardRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def record_counts(self, integration_ids: Sequence[str]) -> dict[str, dict[str, int]]:
        """Live (not deleted) records per integration and model."""
        found: dict[str, dict[str, int]] = defaultdict(dict)
        if not integration_ids:
            return found
        for model, table in TABLES.items():
            rows = self.conn.execute(
                select(table.c.integration_id, func.count())
                .where(table.c.integration_id.in_(integration_ids), table.c.remote_deleted_at.is_(None))
                .group_by(table.c.integration_id)
            )
            for integration_id, count in rows:
                found[integration_id][model] = int(count)
        return found


@dataclass(frozen=True)
class SessionRow:
    key_id: str
    environment_id: str
    environment_name: str
    csrf_token: str


class SessionRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def insert(self, id_hash: str, key_id: str, csrf_token: str, expires_at: datetime) -> None:
        self.conn.execute(
            dashboard_sessions.insert().values(
                id_hash=id_hash,
                key_id=key_id,
                csrf_token=csrf_token,
                created_at=utc_now(),
                expires_at=expires_at,
            )
        )

    def live(self, id_hash: str) -> SessionRow | None:
        """The session, while it has not expired and its API key is not revoked."""
        row = self.conn.execute(
            select(
                dashboard_sessions.c.key_id,
                dashboard_sessions.c.csrf_token,
                api_keys.c.environment_id,
                environments.c.name,
            )
            .join(api_keys, api_keys.c.id == dashboard_sessions.c.key_id)
            .join(environments, environments.c.id == api_keys.c.environment_id)
            .where(
                dashboard_sessions.c.id_hash == id_hash,
                dashboard_sessions.c.expires_at > utc_now(),
                api_keys.c.revoked_at.is_(None),
            )
        ).first()
        return SessionRow(row.key_id, row.environment_id, row.name, row.csrf_token) if row else None

    def delete(self, id_hash: str) -> None:
        self.conn.execute(delete(dashboard_sessions).where(dashboard_sessions.c.id_hash == id_hash))

    def delete_expired(self) -> None:
        self.conn.execute(delete(dashboard_sessions).where(dashboard_sessions.c.expires_at <= utc_now()))
