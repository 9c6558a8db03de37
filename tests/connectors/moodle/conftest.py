"""One Moodle emulator served by uvicorn on loopback for the session; each test gets a freshly
seeded site behind it, and connectors pointed at it over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import pytest

from lmsbridge.connectors.base import ConnectorContext
from lmsbridge.connectors.moodle.connector import MoodleConnector
from lmsbridge.connectors.records import Record
from lmsbridge.testing.emulators.moodle import MoodleSite, create_app, seeded_site
from tests.conftest import running

TOKEN = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"

# Retries stay real but quick: a test of a failure mode must not sleep for seconds.
FAST = {"retry_base_delay_seconds": 0.01, "max_attempts": 3, "timeout_seconds": 5.0}


@dataclass
class Moodle:
    url: str
    site: MoodleSite
    app: Any

    def connector(self, token: str | None = TOKEN, **settings: Any) -> MoodleConnector:
        credentials = {"token": token} if token is not None else {}
        return MoodleConnector(
            ConnectorContext(
                integration_id="moodle:test",
                settings={"site_url": self.url, **FAST, **settings},
                credentials=credentials,
            )
        )

    def use(self, site: MoodleSite) -> MoodleSite:
        self.site = site
        self.app.state.site = site
        return site


@pytest.fixture(scope="session")
def moodle_server() -> Iterator[tuple[str, Any]]:
    app = create_app(MoodleSite())
    with running(app) as url:
        yield url, app


@pytest.fixture
def moodle(moodle_server: tuple[str, Any]) -> Moodle:
    url, app = moodle_server
    emulator = Moodle(url, MoodleSite(), app)
    # No completion task on a timer: a test runs it when it means to.
    emulator.use(seeded_site(token=TOKEN, completion_task_interval=None, debug=True))
    return emulator


def read_all(connector: MoodleConnector, model: str) -> list[Any]:
    pages: list[Sequence[Record]] = list(connector.read(model, None))
    return [record for page in pages for record in page]
