"""Versioned, forward-only migrations. Each runs once, in order, inside one transaction that holds
a lock, so many processes starting at once migrate exactly once."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Connection, inspect, select, text

from lmsbridge.clock import utc_now
from lmsbridge.db.engine import Store
from tests.migrations.release_0_1_0 import tables as t


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    apply: Callable[[Connection], None]


def _create(*tables: object) -> Callable[[Connection], None]:
    def apply(conn: Connection) -> None:
        t.metadata.create_all(conn, tables=list(tables))  # type: ignore[arg-type]

    return apply


def _records_and_syncs(conn: Connection) -> None:
    _create(
        t.lms_users,
        t.lms_course_providers,
        t.lms_courses,
        t.lms_course_revisions,
        t.lms_skills,
        t.lms_course_progressions,
        t.hris_skills,
        t.sync_runs,
        t.events,
        t.integration_sync_state,
        t.sandbox_records,
        t.instance_settings,
    )(conn)
    # Signs list cursors; one per store, so every API process accepts every other's cursors.
    conn.execute(t.instance_settings.insert().values(name="cursor_key", value=secrets.token_hex(32)))


MIGRATIONS: list[Migration] = [
    Migration(
        1,
        "foundation: environments, keys, integrations, tasks, jobs, interactions, sandbox",
        _create(
            t.environments,
            t.api_keys,
            t.integrations,
            t.tasks,
            t.task_items,
            t.task_idempotency,
            t.jobs,
            t.interactions,
            t.sandbox_courses,
            t.sandbox_skills,
        ),
    ),
    Migration(
        2, "synced records, sync runs, events outbox, sandbox records, instance settings", _records_and_syncs
    ),
    Migration(3, "remote pacing: a token bucket per integration", _create(t.remote_pacing)),
    Migration(
        4,
        "webhooks: endpoints, callback secrets, task callbacks, fan-outs, deliveries, attempts",
        _create(
            t.webhook_endpoints,
            t.webhook_callback_secrets,
            t.task_callbacks,
            t.webhook_fanouts,
            t.webhook_deliveries,
            t.webhook_attempts,
        ),
    ),
]


def migrate(store: Store) -> list[int]:
    """Apply every pending migration; returns the versions applied now."""
    with store.write() as conn:
        if store.dialect == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(7250150)"))
        t.metadata.create_all(conn, tables=[t.schema_migrations])
        done = set(conn.scalars(select(t.schema_migrations.c.version)))
        applied = []
        for migration in MIGRATIONS:
            if migration.version in done:
                continue
            migration.apply(conn)
            conn.execute(
                t.schema_migrations.insert().values(
                    version=migration.version, name=migration.name, applied_at=utc_now()
                )
            )
            applied.append(migration.version)
    return applied


def current_version(store: Store) -> int:
    with store.read() as conn:
        if not inspect(conn).has_table("schema_migrations"):
            return 0
        return int(
            conn.scalar(select(text("coalesce(max(version), 0)")).select_from(t.schema_migrations)) or 0
        )
