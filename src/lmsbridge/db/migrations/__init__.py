"""The store's schema history, as Alembic revisions (`versions/`), and the one way to apply it.

`migrate(store)` upgrades the store to the newest revision ("head") inside one write transaction
that first takes a lock (a PostgreSQL advisory lock; on SQLite the write transaction is the lock,
`BEGIN IMMEDIATE`), so many processes starting at once migrate exactly once and the others wait,
then find nothing to do. `lmsbridge migrate`, `serve`, `worker` and the test fixtures call it.

A store made by lmsbridge 0.1.0 has a `schema_migrations` table at version 4 and no
`alembic_version`: it is taken over, stamped at the baseline revision `0001` (which is exactly
0.1.0's schema) and upgraded from there in place; its `schema_migrations` table is dropped.

Adding a revision (one file per schema change):
  1. Change `db/tables.py` (the live metadata the code queries).
  2. Copy the newest file in `versions/` to `versions/rNNNN_what_changed.py` with the next number;
     set `revision = "NNNN"` and `down_revision` = the previous head's revision (exactly one head:
     `test_the_history_is_one_line` fails when two branches both chained onto the same parent; then
     renumber the later one onto the other). `alembic -c src/lmsbridge/db/migrations/alembic.ini
     heads` names the head.
  3. Write `upgrade()` with explicit operations (`op.create_table`, `op.add_column`,
     `op.create_index`, ...) and literal column types: never import `db/tables.py` or other live
     code, so the revision keeps meaning what it meant when later revisions change the tables.
     A new NOT NULL column on a table with rows needs a `server_default` (or add it nullable,
     fill it, then tighten it). Changing or dropping a column on SQLite needs
     `with op.batch_alter_table(name) as batch:` (SQLite rebuilds the table).
  4. `downgrade()` raises: migrations are forward-only (deployments roll forward).
  5. Run `pytest tests/migrations` on both stores: it upgrades a store from every earlier revision
     (and from 0.1.0) with rows in every table, compares the result with a fresh store, and checks
     that the head matches `db/tables.py` (a forgotten revision fails it).

Interim migrations that branches added to 0.1.0's old `MIGRATIONS` list (versions 11, 12, 19, 21)
become one revision file each, in that order, e.g. `versions/r0011_<what>.py` with `revision =
"0011"`; their DDL moves into `upgrade()` as is.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext, MigrationInfo
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, text

from lmsbridge.db.engine import Store
from lmsbridge.errors import StoreTooOldError

HERE = Path(__file__).parent
BASELINE = "0001"
# 0.1.0's versioned migrations, all of which the baseline revision holds.
_LEGACY_VERSIONS = 4
_ADVISORY_LOCK = 7250150
log = logging.getLogger("lmsbridge.migrations")
# Alembic announces its dialect ("Context impl SQLiteImpl", "Will assume non-transactional DDL")
# and every step at INFO each time it runs; `migrate` logs the revisions it applied instead.
logging.getLogger("alembic.runtime.migration").setLevel(logging.WARNING)


@cache
def scripts() -> ScriptDirectory:
    return ScriptDirectory(str(HERE))


def head() -> str:
    revision = scripts().get_current_head()
    assert revision is not None
    return revision


def alembic_config() -> Config:
    """Alembic's configuration for code (the revisions ship inside the package)."""
    config = Config()
    config.set_main_option("script_location", str(HERE))
    return config


def lock(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(text(f"SELECT pg_advisory_xact_lock({_ADVISORY_LOCK})"))
    # SQLite: the write transaction began with BEGIN IMMEDIATE, which holds the write lock.


def _take_over_legacy(conn: Connection) -> None:
    """Stamp a store made by 0.1.0's own migrations at the baseline, which is its schema."""
    tables = set(inspect(conn).get_table_names())
    if "schema_migrations" not in tables or "alembic_version" in tables:
        return
    version = int(conn.scalar(text("SELECT coalesce(max(version), 0) FROM schema_migrations")) or 0)
    if version < _LEGACY_VERSIONS:
        raise StoreTooOldError(
            f"The store is at 0.1.0 migration {version} of {_LEGACY_VERSIONS}; "
            "upgrade it with lmsbridge 0.1.0's `lmsbridge migrate` first."
        )
    context = MigrationContext.configure(conn)
    context.stamp(scripts(), BASELINE)
    conn.execute(text("DROP TABLE schema_migrations"))


def upgrade(conn: Connection, destination: str = "heads") -> list[str]:
    """Run every revision up to `destination` on `conn` (already in a transaction, already locked);
    returns the revisions applied, oldest first."""
    _take_over_legacy(conn)
    applied: list[str] = []

    def record(
        ctx: MigrationContext, step: MigrationInfo, heads: Collection[Any], run_args: Mapping[str, Any]
    ) -> None:
        applied.extend(step.up_revision_ids)

    config = alembic_config()
    # Alembic's way to share a connection: env.py runs the revisions on it.
    config.attributes["connection"] = conn
    config.attributes["on_version_apply"] = record
    command.upgrade(config, destination)
    return applied


def migrate(store: Store) -> list[str]:
    """Apply every pending revision; returns the revisions applied now (empty: up to date)."""
    with store.write() as conn:
        lock(conn)
        if current_revision_of(conn) == head():
            return []
        applied = upgrade(conn)
    log.info("store migrated: applied revisions %s", ", ".join(applied))
    return applied


def current_revision_of(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def current_revision(store: Store) -> str | None:
    """The store's revision; None for an empty store (or one only 0.1.0 has migrated)."""
    with store.read() as conn:
        return current_revision_of(conn)
