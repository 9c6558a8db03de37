"""Every query on integrations."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, delete, select, update

from lmsbridge.db import access_changes
from lmsbridge.db.tables import (
    environments,
    events,
    integrations,
    jobs,
    metadata,
    remote_pacing,
    sync_runs,
    task_callbacks,
    task_items,
    tasks,
    webhook_attempts,
    webhook_deliveries,
    webhook_fanouts,
)
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
    end_user: dict[str, Any] | None = None
    updated_at: datetime | None = None


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
        dict(row.end_user) if row.end_user else None,
        row.updated_at,
    )


def end_user_of(integration: Integration) -> dict[str, Any]:
    """The contract's end_user: the connection link's, or the integration's name as organisation."""
    given = integration.end_user or {}
    return {
        "organization_name": given.get("organization_name") or integration.name,
        "creator_email": given.get("creator_email"),
        "origin_id": given.get("origin_id"),
    }


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
                end_user=integration.end_user,
                updated_at=integration.updated_at,
            )
        )

    def save(self, integration_id: str, **values: Any) -> None:
        access_changes.changed(self.conn)  # the API's caller cache holds integrations
        self.conn.execute(update(integrations).where(integrations.c.id == integration_id).values(**values))

    def delete_everything_of(self, integration_id: str) -> dict[str, int]:
        """Every row of the integration in every table, children first; returns rows per table.
        Tables are found by their `integration_id` column, so one added later is covered too."""
        removed: dict[str, int] = {}
        access_changes.changed(self.conn)
        # The row first, exclusively: the Sandbox's writes hold it shared (sandbox/repository.py).
        self.conn.execute(
            select(integrations.c.id).where(integrations.c.id == integration_id).with_for_update()
        )
        task_ids = select(tasks.c.id).where(tasks.c.integration_id == integration_id)
        event_ids = select(events.c.id).where(events.c.integration_id == integration_id)
        # Jobs of its tasks, syncs and event deliveries, whatever their state: a queued one never
        # runs, a running one loses its lease and stops. Payloads are JSON, so they are matched here.
        delivery_ids = select(webhook_deliveries.c.id).where(webhook_deliveries.c.event_id.in_(event_ids))
        owned = {
            "task_id": set(self.conn.scalars(task_ids)),
            "sync_id": set(
                self.conn.scalars(select(sync_runs.c.id).where(sync_runs.c.integration_id == integration_id))
            ),
            "delivery_id": set(self.conn.scalars(delivery_ids)),
        }
        job_ids = [
            row.id
            for row in self.conn.execute(select(jobs.c.id, jobs.c.payload))
            if isinstance(row.payload, dict)
            and any(row.payload.get(name) in ids for name, ids in owned.items())
        ]
        if job_ids:
            removed["jobs"] = self.conn.execute(delete(jobs).where(jobs.c.id.in_(job_ids))).rowcount
        for table, where in (
            (webhook_attempts, webhook_attempts.c.delivery_id.in_(delivery_ids)),
            (task_items, task_items.c.task_id.in_(task_ids)),
            (task_callbacks, task_callbacks.c.task_id.in_(task_ids)),
            (webhook_deliveries, webhook_deliveries.c.event_id.in_(event_ids)),
            (webhook_fanouts, webhook_fanouts.c.event_id.in_(event_ids)),
            (remote_pacing, remote_pacing.c.pace_key == integration_id),
        ):
            removed[table.name] = self.conn.execute(delete(table).where(where)).rowcount
        for table in reversed(metadata.sorted_tables):
            if table.name != "integrations" and "integration_id" in table.c:
                where = table.c.integration_id == integration_id
                count = self.conn.execute(delete(table).where(where)).rowcount
                if count:
                    removed[table.name] = count
        removed["integrations"] = self.conn.execute(
            delete(integrations).where(integrations.c.id == integration_id)
        ).rowcount
        return removed

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
