"""Every query on integrations."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, select

from lmsbridge.db.tables import environments, integrations
from lmsbridge.errors import IntegrationNotFoundError


@dataclass(frozen=True)
class Integration:
    id: str
    environment_id: str
    tool: str
    name: str
    settings: dict[str, Any]
    credentials: str
    status: str
    created_at: datetime


def _integration(row: Any) -> Integration:
    return Integration(
        row.id,
        row.environment_id,
        row.tool,
        row.name,
        dict(row.settings),
        row.credentials,
        row.status,
        row.created_at,
    )


# Built once: every integration-scoped request looks its integration up.
_BY_ID = select(integrations).where(integrations.c.id == bindparam("integration_id"))
_BY_ID_IN_ENVIRONMENT = _BY_ID.where(integrations.c.environment_id == bindparam("environment_id"))


class IntegrationRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def insert(self, integration: Integration) -> None:
        self.conn.execute(
            integrations.insert().values(
                id=integration.id,
                environment_id=integration.environment_id,
                tool=integration.tool,
                name=integration.name,
                settings=integration.settings,
                credentials=integration.credentials,
                status=integration.status,
                created_at=integration.created_at,
            )
        )

    def get(self, integration_id: str, *, environment_id: str | None = None) -> Integration | None:
        if environment_id is None:
            row = self.conn.execute(_BY_ID, {"integration_id": integration_id}).first()
        else:
            row = self.conn.execute(
                _BY_ID_IN_ENVIRONMENT, {"integration_id": integration_id, "environment_id": environment_id}
            ).first()
        return _integration(row) if row else None

    def list_all(self) -> list[tuple[Integration, str]]:
        rows = self.conn.execute(
            select(integrations, environments.c.name.label("environment_name"))
            .join(environments, environments.c.id == integrations.c.environment_id)
            .order_by(integrations.c.created_at)
        )
        return [(_integration(row), row.environment_name) for row in rows]

    def active_tools(self) -> list[tuple[str, str]]:
        """(id, tool) of every ACTIVE integration, for the sync schedule."""
        rows = self.conn.execute(
            select(integrations.c.id, integrations.c.tool).where(integrations.c.status == "ACTIVE")
        )
        return [(row.id, row.tool) for row in rows]


def get_integration(conn: Connection, integration_id: str, environment_id: str) -> Integration:
    """The integration, seen from one environment: another environment's answers 404 as a missing one."""
    integration = IntegrationRepository(conn).get(integration_id, environment_id=environment_id)
    if integration is None:
        raise IntegrationNotFoundError(f"No integration with id {integration_id!r} in this environment.")
    return integration
