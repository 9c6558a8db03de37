"""INSERT ... ON CONFLICT DO UPDATE, one statement on both dialects."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite

from lmsbridge.db.bulk import bound_columns


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
    """PostgreSQL: the rows as one array per column, unnested by one short statement. A
    multi-row VALUES statement has a placeholder per value, which psycopg parses again on each
    execution (statements that long are not cached): a third of a Sandbox bulk task's CPU. The
    arrays are bound in binary: psycopg's text arrays escape every string (JSON is full of quotes)
    and cost 18 times as much."""
    dialect = conn.dialect
    quote = dialect.identifier_preparer.quote
    columns = list(rows[0])
    arrays = bound_columns(conn, table, columns, rows)
    casts = ", ".join(f"%b::{table.c[name].type.compile(dialect=dialect)}[]" for name in columns)
    names = ", ".join(quote(name) for name in columns)
    sql = (
        f"INSERT INTO {quote(table.name)} ({names}) SELECT * FROM unnest({casts})"
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
