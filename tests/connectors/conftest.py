"""The fixture of the connectors' end-to-end tests: lmsbridge processes (emulators, CLI commands,
workers) on the test server's store, stopped after the test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Server
from tests.connectors.end_to_end import SUITE_SECRET_KEY
from tests.processes import Processes, worker_env


@pytest.fixture
def processes(clean_server: Server, tmp_path: Path) -> Iterator[Processes]:
    procs = Processes(worker_env(clean_server.settings.database_url, SUITE_SECRET_KEY, tmp_path), tmp_path)
    yield procs
    procs.stop_all()
