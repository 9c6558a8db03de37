"""Every query on connection links and on the origins allowed to frame the connection page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, select, update

from lmsbridge.clock import utc_now
from lmsbridge.db.tables import connect_frame_origins, connection_links, events


@dataclass(frozen=True)
class ConnectionLink:
    id: str
    environment_id: str
    link_type: str
    tool: str | None
    language: str | None
    end_user: dict[str, Any]
    relink_integration_id: str | None
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None
    integration_id: str | None


def _link(row: Any) -> ConnectionLink:
    return ConnectionLink(
        row.id,
        row.environment_id,
        row.link_type,
        row.tool,
        row.language,
        dict(row.end_user),
        row.relink_integration_id,
        row.created_at,
        row.expires_at,
        row.used_at,
        row.integration_id,
    )


class ConnectionLinkRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def insert(self, link: ConnectionLink, token_hash: str) -> None:
        self.conn.execute(
            connection_links.insert().values(
                id=link.id,
                token_hash=token_hash,
                environment_id=link.environment_id,
                link_type=link.link_type,
                tool=link.tool,
                language=link.language,
                end_user=link.end_user,
                relink_integration_id=link.relink_integration_id,
                created_at=link.created_at,
                expires_at=link.expires_at,
            )
        )

    def by_token_hash(self, token_hash: str) -> ConnectionLink | None:
        row = self.conn.execute(
            select(connection_links).where(connection_links.c.token_hash == token_hash)
        ).first()
        return _link(row) if row else None

    def by_id(self, link_id: str) -> ConnectionLink | None:
        row = self.conn.execute(select(connection_links).where(connection_links.c.id == link_id)).first()
        return _link(row) if row else None

    def failures(self, link: ConnectionLink, limit: int = 200) -> list[tuple[datetime, dict[str, Any]]]:
        """The link's failed attempts: its `connection-flow-failed` events, newest first."""
        rows = self.conn.execute(
            select(events.c.created_at, events.c.payload)
            .where(
                events.c.environment_id == link.environment_id,
                events.c.type == "connection-flow-failed",
                events.c.created_at >= link.created_at,
            )
            .order_by(events.c.created_at.desc())
            .limit(limit)
        )
        mine = f"/logs/connect/{link.id}"
        return [
            (row.created_at, dict(row.payload["data"]))
            for row in rows
            if str(row.payload["data"].get("log_url", "")).endswith(mine)
        ]

    def by_activation_hash(self, activation_hash: str, environment_id: str) -> ConnectionLink | None:
        row = self.conn.execute(
            select(connection_links).where(
                connection_links.c.activation_token_hash == activation_hash,
                connection_links.c.environment_id == environment_id,
            )
        ).first()
        return _link(row) if row else None

    def claim(self, link_id: str, integration_id: str, activation_hash: str) -> bool:
        """Mark the link used by the integration; False when another request used it first."""
        result = self.conn.execute(
            update(connection_links)
            .where(connection_links.c.id == link_id, connection_links.c.used_at.is_(None))
            .values(used_at=utc_now(), integration_id=integration_id, activation_token_hash=activation_hash)
        )
        return bool(result.rowcount == 1)

    def recent(self, environment_id: str, limit: int = 50) -> list[ConnectionLink]:
        rows = self.conn.execute(
            select(connection_links)
            .where(connection_links.c.environment_id == environment_id)
            .order_by(connection_links.c.created_at.desc())
            .limit(limit)
        )
        return [_link(r) for r in rows]


class FrameOriginRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def origins(self, environment_id: str) -> list[str]:
        return list(
            self.conn.scalars(
                select(connect_frame_origins.c.origin)
                .where(connect_frame_origins.c.environment_id == environment_id)
                .order_by(connect_frame_origins.c.origin)
            )
        )

    def add(self, environment_id: str, origin: str) -> None:
        if origin in self.origins(environment_id):
            return
        self.conn.execute(
            connect_frame_origins.insert().values(
                environment_id=environment_id, origin=origin, created_at=utc_now()
            )
        )

    def remove(self, environment_id: str, origin: str) -> bool:
        result = self.conn.execute(
            delete(connect_frame_origins).where(
                connect_frame_origins.c.environment_id == environment_id,
                connect_frame_origins.c.origin == origin,
            )
        )
        return bool(result.rowcount == 1)
