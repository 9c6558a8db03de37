"""Fixtures of the sync tests: the session's live server, left with no sync under way; and a
quiet store, a database of its own that no worker watches, where what is queued stays queued."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from lmsbridge.db import Store
from lmsbridge.db.migrations import migrate
from tests.conftest import Server, fresh_database, wipe
from tests.syncs.helpers import wait_until_idle


@pytest.fixture
def live(clean_server: Server) -> Iterator[Server]:
    """The server on an empty store; at the end no sync is left running into the next test."""
    yield clean_server
    wait_until_idle(clean_server)


@pytest.fixture(scope="module")
def quiet_database(db_kind: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with fresh_database(db_kind, tmp_path_factory, "quiet") as url:
        yield url


@pytest.fixture
def quiet_store(quiet_database: str) -> Iterator[Store]:
    """An empty store that no worker claims from and no periodic schedule visits."""
    store = Store(quiet_database)
    migrate(store)
    wipe(store)
    yield store
    store.dispose()
