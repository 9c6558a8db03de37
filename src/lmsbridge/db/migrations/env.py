"""Alembic's environment for its own command line, a developer's aid on the store that
LMSBRIDGE_DATABASE_URL names (`alembic -c src/lmsbridge/db/migrations/alembic.ini heads`, `history`,
`check`). Stores are upgraded by `lmsbridge migrate` (`migrate()` in `__init__.py`), which also takes
over stores made by 0.1.0; this file is not run by the service."""

from __future__ import annotations

from alembic import context

from lmsbridge.db.engine import open_store
from lmsbridge.db.migrations import lock
from lmsbridge.db.tables import metadata

store = open_store()
try:
    with store.write() as conn:
        lock(conn)
        context.configure(connection=conn, target_metadata=metadata)
        with context.begin_transaction():
            context.run_migrations()
finally:
    store.dispose()
