"""INSERT ... ON CONFLICT DO UPDATE, one statement on both dialects."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite


def upsert_returning(
    conn: Connection,
    table: Table,
    rows: Sequence[dict[str, Any]],
    *,
    keys: Sequence[str],
    update: Sequence[str],
    returning: Sequence[str],
) -> list[Any]:
    """Insert rows, or update `update` columns of those whose `keys` exist; returns `returning`
    columns of every row (existing values for columns not updated)."""
    if not rows:
        return []
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    base = insert(table)
    stmt = base.on_conflict_do_update(
        index_elements=list(keys), set_={name: base.excluded[name] for name in update}
    ).returning(*(table.c[name] for name in returning))
    return list(conn.execute(stmt, list(rows)))
