"""Browser tests: Playwright for Python driving the system's Chromium (`/usr/bin/chromium`, from
Debian's package; nothing is downloaded at run time) against a real server and worker, the
Moodle emulator, a webhook receiver and a product page that embeds the flow with Kombo's own
library. Each page a test visits is saved as a screenshot in tests/browser/screenshots/."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from lmsbridge.app import create_app
from lmsbridge.auth.service import create_key
from lmsbridge.config import Settings
from lmsbridge.db import Store
from lmsbridge.db.migrations import migrate
from lmsbridge.integration_store.credentials import CredentialBox, load_secret_key
from lmsbridge.testing.emulators.moodle import MoodleSite, seeded_site
from lmsbridge.testing.emulators.moodle import create_app as moodle_app
from lmsbridge.webhooks.settings import WebhookSettings
from lmsbridge.worker_setup import build_worker
from tests.browser.product import LIBRARY, Product
from tests.conftest import fresh_database, make_settings, running, wipe
from tests.webhooks.receiver import Receiver

CHROMIUM = os.environ.get("LMSBRIDGE_TEST_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).parent / "screenshots"
MOODLE_TOKEN = "5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b"

pytestmark = pytest.mark.browser


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.slow)  # each drives Chromium


@pytest.fixture(scope="package")
def chromium() -> Iterator[Any]:
    """One browser for the browser tests. Package scope, not session: Playwright's sync API keeps
    an event loop running in this thread while it is open, which would break asyncio.run() in
    the tests that come after."""
    missing = [str(p) for p in (Path(CHROMIUM), LIBRARY) if not p.exists()]
    if missing:
        reason = f"browser tests need {', '.join(missing)} (bash .ci/run installs them)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # Root in a container has no user namespace for Chromium's sandbox.
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture
def page(chromium: Any) -> Iterator[Any]:
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(20_000)
    page = context.new_page()
    yield page
    context.close()


def shot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


@dataclass
class Stack:
    url: str
    store: Store
    settings: Settings
    box: CredentialBox


@dataclass
class Tenant:
    key: str
    environment_id: str

    def api(self, stack: Stack) -> httpx.Client:
        return httpx.Client(base_url=stack.url, headers={"Authorization": f"Bearer {self.key}"}, timeout=30)


@pytest.fixture(scope="module")
def stack(db_kind: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with fresh_database(db_kind, tmp_path_factory, "browser") as url:
        settings = make_settings(url, tmp_path_factory.mktemp("browser"))
        store = Store(settings.database_url)
        migrate(store)
        box = CredentialBox(load_secret_key(settings, create=True))
        webhooks = WebhookSettings(
            timeout_seconds=2.0, retry_base_seconds=0.2, retry_max_seconds=1.0, fanout_seconds=0.1
        )
        worker = build_worker(store, settings, box, concurrency=2, webhooks=webhooks)
        worker.start()
        try:
            with running(create_app(store, settings)) as base:
                yield Stack(base, store, settings, box)
        finally:
            worker.stop()
            store.dispose()


@pytest.fixture
def tenant(stack: Stack) -> Tenant:
    wipe(stack.store)
    with stack.store.write() as conn:
        key = create_key(conn, name="browser-test", environment="default")
    return Tenant(key.secret, key.environment_id)


@pytest.fixture
def api(stack: Stack, tenant: Tenant) -> Iterator[httpx.Client]:
    with tenant.api(stack) as client:
        yield client


@pytest.fixture(scope="module")
def receiver() -> Iterator[tuple[Receiver, str]]:
    app = Receiver()
    with running(app) as base:
        yield app, base


@pytest.fixture
def hook(receiver: tuple[Receiver, str]) -> tuple[Receiver, str]:
    receiver[0].reset()
    return receiver


@pytest.fixture(scope="module")
def product(stack: Stack) -> Iterator[str]:
    app = Product()
    app.target = stack.url
    with running(app) as base:
        yield base


@pytest.fixture(scope="module")
def moodle_url() -> Iterator[str]:
    app = moodle_app(MoodleSite())
    app.state.site = seeded_site(token=MOODLE_TOKEN, completion_task_interval=None)
    with running(app) as base:
        yield base
