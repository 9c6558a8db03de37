"""Alembic's environment: runs the revisions on the connection `upgrade()` hands over (already in a
transaction that holds the migration lock), or, from Alembic's own command line, on the store that
LMSBRIDGE_DATABASE_URL names (a developer's aid: `alembic -c src/lmsbridge/db/migrations/alembic.ini
heads`, `history`, `check`). Stores are upgraded by `lmsbridge migrate` (`migrate()` in
`__init__.py`), which also takes over stores made by 0.1.0."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from lmsbridge.db.engine import open_store
from lmsbridge.db.migrations import lock
from lmsbridge.db.tables import metadata


def run(conn: Connection) -> None:
    context.configure(
        connection=conn,
        target_metadata=metadata,
        on_version_apply=context.config.attributes.get("on_version_apply"),
    )
    with context.begin_transaction():
        context.run_migrations()


handed_over = context.config.attributes.get("connection")
if handed_over is not None:
    run(handed_over)
else:
    store = open_store()
    try:
        with store.write() as conn:
            lock(conn)
            run(conn)
    finally:
        store.dispose()
