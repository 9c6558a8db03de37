"""Fixtures of the sync tests: the session's live server, left with no sync under way; and a
quiet store, a database of its own that no worker watches, where what is queued stays queued."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator

import psycopg
import pytest

from lmsbridge.db import Store
from lmsbridge.db.migrations import migrate
from tests.conftest import POSTGRES_ADMIN_URL, Server, wipe
from tests.syncs.helpers import wait_until_idle


@pytest.fixture
def live(clean_server: Server) -> Iterator[Server]:
    """The server on an empty store; at the end no sync is left running into the next test."""
    yield clean_server
    wait_until_idle(clean_server)


@pytest.fixture(scope="module")
def quiet_database(db_kind: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if db_kind == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('quiet') / 'quiet.db'}"
        return
    name = f"lmsbridge_quiet_{os.getpid()}_{secrets.token_hex(4)}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield f"{POSTGRES_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def quiet_store(quiet_database: str) -> Iterator[Store]:
    """An empty store that no worker claims from and no periodic schedule visits."""
    store = Store(quiet_database)
    migrate(store)
    wipe(store)
    yield store
    store.dispose()
