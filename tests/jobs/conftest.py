"""The store the job and task tests share, migrated once per module and wiped after it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from lmsbridge.db import Store
from lmsbridge.db.migrations import migrate
from tests.conftest import wipe


@pytest.fixture(scope="module")
def store(database_url: str) -> Iterator[Store]:
    store = Store(database_url)
    migrate(store)
    yield store
    wipe(store)
    store.dispose()
