"""The driver-level insert of db/bulk.py stores what SQLAlchemy's own INSERT stores, on the
store under test (SQLite's text datetimes compare as text: one format or the other would break
`updated_after`), and a batch with an existing key inserts nothing and leaves the transaction
usable."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from sqlalchemy import func, select

from lmsbridge.db import Store
from lmsbridge.db import tables as t
from lmsbridge.db.bulk import insert_rows, try_insert_new, update_rows
from tests.conftest import fresh_store

TABLE = t.lms_course_progressions
JSON_COLUMNS = {"remote_data"}


@pytest.fixture(scope="module")
def store(db_kind: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    with fresh_store(db_kind, tmp_path_factory, "bulk") as store:
        yield store


def row(record_id: str, **changes: Any) -> dict[str, Any]:
    on_the_second = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    values = {
        "id": record_id,
        "integration_id": "sandbox:bulk",
        "remote_id": f"remote-{record_id}",
        "remote_created_at": None,
        "remote_deleted_at": None,
        "changed_at": on_the_second,
        "updated_stamp": datetime(2026, 1, 2, 3, 4, 5, 600, tzinfo=UTC),
        "remote_data": {"name": 'Zoë "quoted"', "nested": [1, None, {"a": "b"}]},
        "data_hash": "0" * 32,
        "anonymised_at": None,
        "user_id": "u" * 24,
        "course_revision_id": "r" * 24,
        "course_id": None,
        "user_remote_id": "user-1",
        "revision_remote_id": "rev-1",
        "course_remote_id": None,
        "status": "COMPLETED",
        "enrolled_at": datetime(2025, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        "completed_at": None,
    }
    return {**values, **changes}


def raw(store: Store, record_id: str) -> dict[str, Any]:
    """The stored values as the driver returns them, without SQLAlchemy's result processing."""
    names = [c.name for c in TABLE.columns if c.name != "id"]
    with store.read() as conn:
        param = "?" if store.is_sqlite else "%s"
        found = conn.exec_driver_sql(
            f"SELECT {', '.join(names)} FROM {TABLE.name} WHERE id = {param}", (record_id,)
        ).one()
    values = dict(zip(names, found, strict=True))
    for name in JSON_COLUMNS:  # JSON text may be spaced differently: compared as JSON (SQL NULL apart)
        text = values[name]
        values[name] = ("json", orjson.loads(text)) if isinstance(text, str | bytes) else text
    return values


def test_insert_rows_stores_what_sqlalchemy_s_insert_stores(store: Store) -> None:
    for record_id, data in (("core-a", {"k": 1}), ("core-b", None)):
        with store.write() as conn:
            conn.execute(TABLE.insert(), [row(record_id, remote_data=data)])
        with store.write() as conn:
            insert_rows(conn, TABLE, [row(f"bulk-{record_id[-1]}", remote_data=data)])
    for suffix in ("a", "b"):
        core, bulk = raw(store, f"core-{suffix}"), raw(store, f"bulk-{suffix}")
        assert bulk.pop("remote_id") == f"remote-bulk-{suffix}"
        assert core.pop("remote_id") == f"remote-core-{suffix}"
        assert bulk == core
    with store.read() as conn:
        read_back = conn.execute(select(TABLE).where(TABLE.c.id == "bulk-a")).one()
    assert read_back.updated_stamp == row("x")["updated_stamp"]
    assert read_back.changed_at == row("x")["changed_at"]


def test_a_batch_with_an_existing_key_inserts_nothing_and_the_transaction_goes_on(store: Store) -> None:
    with store.write() as conn:
        insert_rows(conn, TABLE, [row("exists")])
    with store.write() as conn:
        assert not try_insert_new(conn, TABLE, [row("new-1"), row("exists"), row("new-2")])
        assert try_insert_new(conn, TABLE, [row("new-3")])
    with store.read() as conn:
        ids = set(conn.scalars(select(TABLE.c.id).where(TABLE.c.id.in_(["new-1", "new-2", "new-3"]))))
        total = conn.scalar(select(func.count()).select_from(TABLE).where(TABLE.c.id == "exists"))
    assert ids == {"new-3"}
    assert total == 1


# What orjson alone would refuse to write (an integer beyond 64 bits, a non-string key) or read
# back changed (such an integer as a float): JSON columns keep them, both ways of writing.
AWKWARD = {"big": 2**70, "negative": -(2**64), "at_the_edge": 2**63 - 1, "keys": {1: "one"}, "text": "1" * 25}


def test_json_columns_keep_integers_beyond_64_bits_both_ways_of_writing(store: Store) -> None:
    with store.write() as conn:
        conn.execute(TABLE.insert(), [row("json-core", remote_data=AWKWARD)])
        insert_rows(conn, TABLE, [row("json-bulk", remote_data=AWKWARD)])
    with store.read() as conn:
        found = dict(
            conn.execute(select(TABLE.c.id, TABLE.c.remote_data).where(TABLE.c.id.like("json-%"))).all()
        )
    expected = {**AWKWARD, "keys": {"1": "one"}}
    assert found == {"json-core": expected, "json-bulk": expected}
    assert isinstance(found["json-bulk"]["big"], int)


def test_update_rows_stores_what_sqlalchemy_s_update_stores_and_the_last_of_an_id_counts(
    store: Store,
) -> None:
    later = datetime(2026, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
    fixed = {"changed_at": later, "updated_stamp": later, "remote_deleted_at": None, "anonymised_at": None}
    changes = {
        "remote_data": {"state": "changed", "n": [1, 2]},
        "status": "IN_PROGRESS",
        "course_id": "c" * 24,
    }
    with store.write() as conn:
        insert_rows(
            conn,
            TABLE,
            [
                row(f"{way}-{n}", remote_deleted_at=later, anonymised_at=later)
                for way in ("core", "set")
                for n in (1, 2)
            ],
        )
    with store.write() as conn:
        for n in (1, 2):
            conn.execute(
                TABLE.update()
                .where(TABLE.c.id == f"core-{n}")
                .values(**changes, data_hash=f"{n}" * 32, **fixed)
            )
        update_rows(
            conn,
            TABLE,
            [
                {"id": "set-1", **changes, "data_hash": "0" * 32, "status": "NOT_STARTED"},  # replaced below
                {"id": "set-2", **changes, "data_hash": "2" * 32},
                {"id": "set-1", **changes, "data_hash": "1" * 32},
            ],
            fixed,
        )
    for n in (1, 2):
        core, updated = raw(store, f"core-{n}"), raw(store, f"set-{n}")
        assert updated.pop("remote_id") == f"remote-set-{n}"
        assert core.pop("remote_id") == f"remote-core-{n}"
        assert updated == core
        assert updated["status"] == "IN_PROGRESS" and updated["remote_deleted_at"] is None
