"""Inserting many new rows at the driver's speed: SQLite's `executemany` of one prepared INSERT,
PostgreSQL's `COPY ... FROM STDIN`. The values are bound as SQLAlchemy binds them (the columns'
own bind processors, looked up once per statement instead of once per value), except JSON, which
db/json_text.py encodes as the engine's serializer does. A row whose key exists already fails the
whole batch, as one INSERT would; with `try_insert_new` the batch is undone (a savepoint) and the
caller takes its careful path."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import JSON, ColumnElement, Connection, Table, any_, bindparam, update
from sqlalchemy.dialects.postgresql import ARRAY

from lmsbridge.db import json_text
from lmsbridge.db.types import UTCDateTime

_json = json_text.dumps  # as SQLAlchemy's JSON columns write (the engine's serializer)


def _sqlite_utc(value: datetime) -> str:
    """UTCDateTime's SQLite text (SQLAlchemy's DATETIME format, always with microseconds),
    without its two layers of processing."""
    if value.tzinfo is None:
        raise ValueError("naive datetime given to a UTC column")
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.isoformat(" ", "microseconds")[:-6]  # without its "+00:00"


def _processors(conn: Connection, table: Table, columns: Sequence[str]) -> list[Callable[[Any], Any] | None]:
    dialect = conn.dialect
    out: list[Callable[[Any], Any] | None] = []
    for name in columns:
        kind = table.c[name].type
        if isinstance(kind, JSON):
            out.append(_json)
        elif isinstance(kind, UTCDateTime) and dialect.name == "sqlite":
            out.append(_sqlite_utc)
        else:
            # The dialect's own type (SQLite's DATETIME text format), as SQLAlchemy binds it.
            out.append(kind.dialect_impl(dialect).bind_processor(dialect))
    return out


def _bind(processor: Callable[[Any], Any] | None, values: list[Any]) -> list[Any]:
    """One column's values as bound: None stays None, and a value repeated in the batch (the
    stamp of every row, a shared date) is converted once."""
    if processor is None:
        return values
    if processor is _json:  # None is JSON null here, as SQLAlchemy stores it
        return ["null" if value is None else _json(value) for value in values]
    if processor is _sqlite_utc:  # cheaper than a look-up; the stamp is one object in every row
        last, bound = None, None
        out_: list[Any] = []
        for value in values:
            if value is not last:
                last, bound = value, None if value is None else _sqlite_utc(value)
            out_.append(bound)
        return out_
    done: dict[Any, Any] = {}
    out: list[Any] = []
    for value in values:
        if value is None:
            out.append(None)
            continue
        try:
            out.append(done[value])
        except KeyError:
            done[value] = converted = processor(value)
            out.append(converted)
        except TypeError:  # unhashable (a JSON list or object)
            out.append(processor(value))
    return out


def bound_columns(
    conn: Connection, table: Table, columns: Sequence[str], rows: Sequence[dict[str, Any]]
) -> list[list[Any]]:
    """The rows' values of each of `columns`, as the driver is given them (one list a column)."""
    processors = _processors(conn, table, columns)
    return [
        _bind(processor, [row[column] for row in rows])
        for column, processor in zip(columns, processors, strict=True)
    ]


def unnested(
    conn: Connection, table: Table, columns: Sequence[str], rows: Sequence[dict[str, Any]]
) -> tuple[str, list[list[Any]]]:
    """PostgreSQL: `unnest(%b::type[], ...)`, the rows as one array a column, and the arrays to
    bind to it. One short statement whatever the number of rows (psycopg parses a statement with a
    placeholder per value again on every run), and binary arrays (its text arrays escape every
    string, and JSON is full of quotes)."""
    dialect = conn.dialect
    casts = ", ".join(f"%b::{table.c[name].type.compile(dialect=dialect)}[]" for name in columns)
    return f"unnest({casts})", bound_columns(conn, table, columns, rows)


# PostgreSQL type names psycopg knows by another name than SQLAlchemy compiles.
_PG_NAMES = {"float": "float8"}


def _binary_types(conn: Connection, table: Table, columns: Sequence[str]) -> list[str] | None:
    """The types of a binary COPY of these columns (psycopg writes binary rows without the text
    format's escaping, which JSON's quotes make costly), or None for a text COPY when a column's
    type is one psycopg does not know by name. JSON goes as text, already encoded (json's
    binary form is its text; jsonb's is not, so a JSONB column takes the text COPY)."""
    known = conn.connection.driver_connection.adapters.types  # type: ignore[union-attr]
    types: list[str] = []
    for name in columns:
        compiled = table.c[name].type.compile(dialect=conn.dialect).lower()
        if isinstance(table.c[name].type, JSON):
            if compiled != "json":
                return None
            types.append("text")
            continue
        base = compiled.split("(")[0].strip()
        base = _PG_NAMES.get(base, base)
        if known.get(base) is None:
            return None
        types.append(base)
    return types


def insert_rows(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert rows that all have the keys of the first, in the caller's transaction, in primary
    key order (random ids land near each other in the indexes: fewer pages touched)."""
    if not rows:
        return
    key = [column.name for column in table.primary_key.columns]
    rows = sorted(rows, key=itemgetter(*key))  # a tuple of the key columns when there are several
    columns = list(rows[0])
    values = zip(*bound_columns(conn, table, columns, rows), strict=True)  # a row's tuple at a time
    quote = conn.dialect.identifier_preparer.quote
    names = ", ".join(quote(c) for c in columns)
    cursor = conn.connection.cursor()
    try:
        if conn.dialect.name == "postgresql":
            types = _binary_types(conn, table, columns)
            binary = " (FORMAT BINARY)" if types is not None else ""
            with cursor.copy(f"COPY {quote(table.name)} ({names}) FROM STDIN{binary}") as copy:
                if types is not None:
                    copy.set_types(types)
                for value in values:
                    copy.write_row(value)
        else:
            marks = ", ".join("?" for _ in columns)
            insert = f"INSERT INTO {quote(table.name)} ({names}) VALUES ({marks})"
            cursor.executemany(insert, values)  # type: ignore[arg-type]  # sqlite3 takes any iterable
    finally:
        cursor.close()


def update_rows(
    conn: Connection, table: Table, rows: Sequence[dict[str, Any]], fixed: dict[str, Any]
) -> None:
    """Rewrite existing rows by their `id`, in the caller's transaction: each row's own columns
    (every row has the keys of the first), and `fixed` values the same for all. Where one id comes
    twice, the last row counts, as with one UPDATE a row. SQLite: one prepared UPDATE run for each
    row. PostgreSQL: one statement joining the rows unnested from one binary array a column (an
    UPDATE a row costs a round trip and a statement's work each)."""
    if not rows:
        return
    rows = list({row["id"]: row for row in rows}.values())
    columns = [name for name in rows[0] if name != "id"]
    if conn.dialect.name != "postgresql":
        stmt = (
            update(table)
            .where(table.c.id == bindparam("w_id"))
            .values({**{c: bindparam(f"w_{c}") for c in columns}, **fixed})
        )
        conn.execute(stmt, [{f"w_{k}": v for k, v in row.items()} for row in rows])
        return
    dialect = conn.dialect
    quote = dialect.identifier_preparer.quote
    names = ["id", *columns]
    rows_sql, arrays = unnested(conn, table, names, rows)
    fixed_names = list(fixed)
    fixed_values = [bound[0] for bound in bound_columns(conn, table, fixed_names, [fixed])]
    sets = [f"{quote(c)} = v.{quote(c)}" for c in columns] + [
        f"{quote(c)} = %s::{table.c[c].type.compile(dialect=dialect)}" for c in fixed_names
    ]
    sql = (
        f"UPDATE {quote(table.name)} AS t SET {', '.join(sets)}"
        f" FROM {rows_sql} AS v({', '.join(quote(n) for n in names)}) WHERE t.id = v.id"
    )
    cursor = conn.connection.cursor()
    try:
        cursor.execute(sql, [*fixed_values, *arrays])  # in the order of their placeholders
    finally:
        cursor.close()


def try_insert_new(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> bool:
    """Insert rows expected to be new; False (and nothing inserted) when one of them exists."""
    savepoint = conn.begin_nested()
    try:
        insert_rows(conn, table, rows)
    except conn.dialect.loaded_dbapi.IntegrityError:  # the driver's own: the cursor is raw
        savepoint.rollback()
        return False
    savepoint.commit()
    return True


def among(conn: Connection, column: ColumnElement[Any], values: Sequence[Any]) -> ColumnElement[bool]:
    """`column IN values`; on PostgreSQL `column = ANY(array)`: one placeholder, so the statement
    stays short and psycopg parses it once, where an IN list of hundreds is parsed on every run."""
    if conn.dialect.name == "postgresql":
        return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
    return column.in_(values)


# SQLite's page cache for a large write: a transaction of tens of thousands of rows with random
# keys touches more index pages than the default cache (2 MiB) holds, and SQLite then writes
# dirty pages out mid-transaction and reads them back. Measured, 1,000,000 rows inserted 50,000
# a transaction into a table with four random-keyed indexes: 16,000 rows/s with the default,
# 38,000 with 128 MiB.
LARGE_CACHE_KIB = 131_072


@contextmanager
def large_cache(conn: Connection, kib: int = LARGE_CACHE_KIB) -> Iterator[None]:
    """SQLite: the connection's page cache raised to `kib` for a large write in the caller's
    transaction, and put back before it commits (the pages it freed are freed then: the memory is
    held only while one such write runs, as SQLite has one writer at a time). Other stores: as is."""
    if conn.dialect.name != "sqlite":
        yield
        return
    before = int(conn.exec_driver_sql("PRAGMA cache_size").scalar_one())
    conn.exec_driver_sql(f"PRAGMA cache_size=-{int(kib)}")
    try:
        yield
    finally:
        conn.exec_driver_sql(f"PRAGMA cache_size={before}")
