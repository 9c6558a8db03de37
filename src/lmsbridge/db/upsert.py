"""INSERT ... ON CONFLICT DO UPDATE, one statement on both dialects."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite

from lmsbridge.db.bulk import unnested


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
    columns of every row (existing values for columns not updated), in no particular order."""
    if not rows:
        return []
    if conn.dialect.name == "postgresql" and len(rows) > 1 and update:
        return _upsert_unnest(conn, table, rows, keys=keys, update=update, returning=returning)
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    base = insert(table)
    stmt = base.on_conflict_do_update(
        index_elements=list(keys), set_={name: base.excluded[name] for name in update}
    ).returning(*(table.c[name] for name in returning))
    return list(conn.execute(stmt, list(rows)))


def _upsert_unnest(
    conn: Connection,
    table: Table,
    rows: Sequence[dict[str, Any]],
    *,
    keys: Sequence[str],
    update: Sequence[str],
    returning: Sequence[str],
) -> list[Any]:
    """PostgreSQL: the rows unnested from one array a column (`db/bulk.py` `unnested`). A
    multi-row VALUES statement has a placeholder per value, which psycopg parses again on each
    execution (statements that long are not cached): a third of a Sandbox bulk task's CPU; text
    arrays cost 18 times as much as the binary ones."""
    dialect = conn.dialect
    quote = dialect.identifier_preparer.quote
    columns = list(rows[0])
    rows_sql, arrays = unnested(conn, table, columns, rows)
    names = ", ".join(quote(name) for name in columns)
    sql = (
        f"INSERT INTO {quote(table.name)} ({names}) SELECT * FROM {rows_sql}"
        f" ON CONFLICT ({', '.join(quote(k) for k in keys)}) DO UPDATE SET "
        + ", ".join(f"{quote(n)} = excluded.{quote(n)}" for n in update)
        + f" RETURNING {', '.join(quote(n) for n in returning)}"
    )
    processors = [
        table.c[name].type.dialect_impl(dialect).result_processor(dialect, None) for name in returning
    ]
    shape = NamedTuple("Returned", [(name, Any) for name in returning])  # type: ignore[misc]
    cursor = conn.connection.cursor()
    try:
        cursor.execute(sql, arrays)
        fetched = cursor.fetchall()
    finally:
        cursor.close()
    return [
        shape(*(value if p is None else p(value) for p, value in zip(processors, row, strict=True)))
        for row in fetched
    ]
