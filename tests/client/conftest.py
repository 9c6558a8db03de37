from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import Server
from tests.syncs.helpers import wait_until_idle


@pytest.fixture
def live(clean_server: Server) -> Iterator[Server]:
    """The server on an empty store; no sync is left running into the next test's wipe."""
    yield clean_server
    wait_until_idle(clean_server)
