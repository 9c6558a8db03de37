"""Upgrades keep every row and end at the same schema as a fresh store, on SQLite and PostgreSQL:
from a store made by lmsbridge 0.1.0's own migration code (frozen in `release_0_1_0/`) and from a
store at every Alembic revision. The newest revision must also equal `db/tables.py`, so a change to
the tables without its revision fails here."""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import JSON, Boolean, DateTime, Float, Integer, MetaData, String, inspect, select, text

import lmsbridge.db.migrations as migrations
from lmsbridge.db import Store
from lmsbridge.db.tables import metadata
from lmsbridge.errors import StoreTooOldError
from tests.conftest import fresh_database
from tests.migrations.release_0_1_0 import migrations as release

LEDGERS = {"alembic_version", "schema_migrations"}  # migration bookkeeping, not the product's data
REVISIONS = [script.revision for script in reversed(list(migrations.scripts().walk_revisions()))]


@pytest.fixture
def new_store(db_kind: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    with fresh_database(db_kind, tmp_path_factory, "upgrade") as url:
        store = Store(url)
        yield store
        store.dispose()


@pytest.fixture
def fresh_head(db_kind: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    with fresh_database(db_kind, tmp_path_factory, "head") as url:
        store = Store(url)
        migrations.migrate(store)
        yield store
        store.dispose()


def schema_of(store: Store) -> dict[str, Any]:
    """Tables, columns (type, nullability, default), keys, indexes and uniques, as comparable data."""
    with store.read() as conn:
        inspector = inspect(conn)
        schema: dict[str, Any] = {}
        for table in sorted(inspector.get_table_names()):
            schema[table] = {
                "columns": [
                    (c["name"], c["type"].compile(dialect=conn.dialect), c["nullable"], c.get("default"))
                    for c in inspector.get_columns(table)
                ],
                "primary_key": inspector.get_pk_constraint(table)["constrained_columns"],
                "foreign_keys": sorted(
                    (tuple(fk["constrained_columns"]), fk["referred_table"], tuple(fk["referred_columns"]))
                    for fk in inspector.get_foreign_keys(table)
                ),
                "indexes": sorted(
                    (
                        ix["name"],
                        tuple(ix["column_names"]),
                        bool(ix["unique"]),
                        sorted((k, str(v)) for k, v in ix.get("dialect_options", {}).items()),
                    )
                    for ix in inspector.get_indexes(table)
                ),
                "uniques": sorted(
                    (u["name"], tuple(u["column_names"])) for u in inspector.get_unique_constraints(table)
                ),
            }
        return schema


def _value(column: Any, k: int) -> Any:
    kind = column.type
    if isinstance(kind, Boolean):
        return k % 2 == 0
    if isinstance(kind, Integer):
        return k
    if isinstance(kind, Float):
        return k + 0.5
    if isinstance(kind, DateTime):
        return datetime(2026, 1, k, 12, 30, tzinfo=UTC)
    if isinstance(kind, JSON):
        return {"k": k, "list": [k]}
    if isinstance(kind, String):  # also Text
        return f"r{k}"  # every id-like column of row k holds the same value, so foreign keys resolve
    raise AssertionError(f"no sample value for {column.table.name}.{column.name} of type {kind!r}")


def fill(store: Store, rows: int = 2) -> None:
    """Insert `rows` rows into every table of the store as it stands (reflected, parents first)."""
    reflected = MetaData()
    reflected.reflect(store.engine)
    with store.write() as conn:
        for table in reflected.sorted_tables:
            if table.name in LEDGERS:
                continue
            conn.execute(
                table.insert(), [{c.name: _value(c, k) for c in table.columns} for k in range(1, rows + 1)]
            )


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
    return value


def rows_of(store: Store) -> dict[str, dict[str, list[Any]]]:
    """Every table's rows, column by column, in a stable order (ledgers left out)."""
    reflected = MetaData()
    reflected.reflect(store.engine)
    contents: dict[str, dict[str, list[Any]]] = {}
    with store.read() as conn:
        for table in reflected.sorted_tables:
            if table.name in LEDGERS:
                continue
            found = conn.execute(select(table).order_by(*table.primary_key.columns)).mappings().all()
            contents[table.name] = {c.name: [_plain(row[c.name]) for row in found] for c in table.columns}
    return contents


def assert_no_row_lost(
    before: dict[str, dict[str, list[Any]]], after: dict[str, dict[str, list[Any]]]
) -> None:
    for table, columns in before.items():
        assert table in after, f"the upgrade dropped {table}"
        for column, values in columns.items():
            if column in after[table]:  # a revision may drop a column on purpose
                assert after[table][column] == values, f"{table}.{column} changed in the upgrade"
        assert len(next(iter(after[table].values()))) == len(next(iter(columns.values()))), table


def assert_upgrades_like_a_fresh_store(store: Store, fresh_head: Store, pending: list[str]) -> None:
    before = rows_of(store)
    assert migrations.migrate(store) == pending
    assert migrations.current_revision(store) == migrations.head()
    assert schema_of(store) == schema_of(fresh_head)
    assert_no_row_lost(before, rows_of(store))
    assert migrations.migrate(store) == [], "a second run found more to do"


def test_a_store_made_by_0_1_0_is_taken_over_and_upgraded_in_place(
    new_store: Store, fresh_head: Store
) -> None:
    assert release.migrate(new_store) == [1, 2, 3, 4]
    with new_store.read() as conn:
        cursor_key = conn.scalar(text("SELECT value FROM instance_settings WHERE name = 'cursor_key'"))
    fill(new_store)

    assert_upgrades_like_a_fresh_store(new_store, fresh_head, REVISIONS[1:])

    with new_store.read() as conn:
        assert not inspect(conn).has_table("schema_migrations")
        # The cursor key is kept: list cursors handed out before the upgrade still work.
        kept = conn.scalar(text("SELECT value FROM instance_settings WHERE name = 'cursor_key'"))
    assert kept == cursor_key


@pytest.mark.parametrize("revision", REVISIONS)
def test_a_store_at_every_revision_upgrades_to_the_head(
    revision: str, new_store: Store, fresh_head: Store
) -> None:
    with new_store.write() as conn:
        migrations.upgrade(conn, revision)
    assert migrations.current_revision(new_store) == revision
    fill(new_store)

    assert_upgrades_like_a_fresh_store(new_store, fresh_head, REVISIONS[REVISIONS.index(revision) + 1 :])


def test_the_head_matches_the_tables_the_code_queries(fresh_head: Store) -> None:
    """`alembic check`: no difference between the newest revision's schema and `db/tables.py`."""
    with fresh_head.read() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
    assert differences == [], "db/tables.py and the revisions disagree: add a revision (see db/migrations)"


def test_the_history_is_one_line_of_explicit_revisions() -> None:
    scripts = migrations.scripts()
    assert scripts.get_heads() == [migrations.head()], "two revisions chain onto the same parent"
    assert REVISIONS[0] == migrations.BASELINE
    for script in scripts.walk_revisions():
        source = Path(script.path).read_text()
        # Revisions carry their own DDL: the live tables change later, a revision must not.
        assert not re.search(r"^\s*(from|import) lmsbridge", source, re.M), f"{script.path} imports live code"


def test_a_fresh_store_gets_a_cursor_key(fresh_head: Store) -> None:
    with fresh_head.read() as conn:
        keys = conn.scalars(text("SELECT value FROM instance_settings WHERE name = 'cursor_key'")).all()
    assert len(keys) == 1 and len(keys[0]) == 64


def test_processes_starting_together_migrate_once(
    db_kind: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    with fresh_database(db_kind, tmp_path_factory, "race") as url:
        stores = [Store(url) for _ in range(4)]
        results: list[list[str]] = []
        errors: list[BaseException] = []
        start = threading.Barrier(len(stores))

        def run(store: Store) -> None:
            start.wait()
            try:
                results.append(migrations.migrate(store))
            except BaseException as error:
                errors.append(error)

        threads = [threading.Thread(target=run, args=(store,)) for store in stores]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        for store in stores:
            store.dispose()
    assert errors == []
    assert sorted(results, key=len) == [[], [], [], REVISIONS]


def test_a_new_sqlite_store_opened_while_another_process_writes_it_waits_instead_of_failing(
    db_kind: str, tmp_path: Path
) -> None:
    """The race above, made certain: a new file's first writer holds the write lock before anyone
    switched the file to WAL. SQLite refuses the switch at once ("database is locked", no busy
    wait); the store must wait for the writer, as it waits for any other lock."""
    if db_kind != "sqlite":
        pytest.skip("SQLite's journal mode")
    path = tmp_path / "lmsbridge.db"
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    other.execute("CREATE TABLE other_process (x)")
    done = threading.Timer(0.3, other.execute, ("COMMIT",))
    done.start()
    store = Store(f"sqlite:///{path}")
    try:
        assert migrations.migrate(store) == REVISIONS
        with store.read() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    finally:
        done.join()
        store.dispose()
        other.close()


def test_a_store_older_than_the_0_1_0_release_is_refused_with_a_clear_message(new_store: Store) -> None:
    release.migrate(new_store)
    with new_store.write() as conn:
        conn.execute(text("DELETE FROM schema_migrations WHERE version = 4"))
    with pytest.raises(StoreTooOldError, match=r"0\.1\.0 migration 3 of 4"):
        migrations.migrate(new_store)


def test_the_revisions_ship_in_a_non_editable_install() -> None:
    """A wheel holds the packages' modules and the package data pyproject.toml names: every file
    Alembic reads must be one or the other (checked by hand once with `pip wheel .`)."""
    import tomllib

    root = Path(migrations.__file__).parents[4]
    package_data = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    shipped = set(package_data["lmsbridge"])
    here = Path(migrations.__file__).parent
    for path in here.rglob("*"):
        if path.is_dir() or "__pycache__" in path.parts:
            continue
        relative = path.relative_to(here.parents[1]).as_posix()  # from src/lmsbridge
        if path.suffix == ".py":
            assert (path.parent / "__init__.py").exists(), f"{relative} is in no package"
        else:
            assert relative in shipped, f"{relative} is missing from [tool.setuptools.package-data]"
