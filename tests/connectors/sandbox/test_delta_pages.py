"""The Sandbox's delta reads: only the records changed since a time, each once, whatever the page
size, though records changed together share their `updated_at` (the pages' cursor is
(updated_at, remote_id))."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import update

from lmsbridge.clock import utc_now
from lmsbridge.db import Store
from lmsbridge.db.tables import sandbox_records
from lmsbridge.sandbox.repository import SandboxStateRepository
from tests.conftest import fresh_store

INTEGRATION = "sandbox:delta-pages"  # one a page size (the store is the module's)
MODEL = "lms_course_progressions"


@pytest.fixture(scope="module")
def store(db_kind: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    with fresh_store(db_kind, tmp_path_factory, "delta-pages") as store:
        yield store


@pytest.mark.parametrize("page_size", [1, 3, 1000])
def test_a_delta_pages_every_changed_record_once(store: Store, page_size: int) -> None:
    repository = SandboxStateRepository(store)
    hour_ago, now = utc_now() - timedelta(hours=1), utc_now()
    table = sandbox_records
    integration = f"{INTEGRATION}-{page_size}"
    remote_ids = sorted(f"p-{n:03d}" for n in range(40))
    changed = remote_ids[::3]
    with store.write() as conn:
        conn.execute(
            table.insert(),
            [
                {
                    "integration_id": integration,
                    "model": MODEL,
                    "remote_id": r,
                    "data": {"n": r},
                    "updated_at": hour_ago,
                }
                for r in remote_ids
            ],
        )
        # Two groups of records changed together: each group shares one updated_at.
        for group, moment in ((changed[::2], now), (changed[1::2], now + timedelta(seconds=1))):
            conn.execute(
                update(table)
                .where(
                    table.c.integration_id == integration,
                    table.c.model == MODEL,
                    table.c.remote_id.in_(group),
                )
                .values(updated_at=moment)
            )
    pages = list(repository.pages(integration, MODEL, now - timedelta(minutes=1), page_size))
    read = [remote_id for page in pages for remote_id, _ in page]
    assert sorted(read) == sorted(changed)  # each once, none missed
    assert read == sorted(changed[::2]) + sorted(changed[1::2])  # in the order they changed
    assert all(len(page) <= page_size for page in pages)
    assert list(repository.pages(integration, MODEL, now + timedelta(seconds=5), page_size)) == []
