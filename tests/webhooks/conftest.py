"""Fixtures of the webhook tests: a store of their own with an API server and an in-process
worker whose webhook backoff is shortened, and a real receiver on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from lmsbridge.app import create_app
from lmsbridge.auth.service import create_key
from lmsbridge.config import Settings
from lmsbridge.db import Store
from lmsbridge.db.migrations import migrate
from lmsbridge.integration_store.credentials import CredentialBox, load_secret_key
from lmsbridge.integrations.service import create_integration
from lmsbridge.jobs import wake_workers
from lmsbridge.webhooks.settings import WebhookSettings
from lmsbridge.worker_setup import build_worker
from tests.conftest import fresh_database, make_settings, running, wipe
from tests.webhooks.receiver import Receiver

WEBHOOKS = WebhookSettings(
    timeout_seconds=2.0,
    retry_base_seconds=0.2,
    retry_max_seconds=1.0,
    retry_window_seconds=6.0,
    fanout_seconds=0.1,
)


@dataclass
class Stack:
    url: str
    store: Store
    settings: Settings
    box: CredentialBox


@dataclass
class Caller:
    key: str
    environment_id: str

    def client(self, stack: Stack, integration: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.key}"}
        if integration:
            headers["X-Integration-Id"] = integration
        return httpx.Client(base_url=stack.url, headers=headers, timeout=30)


@pytest.fixture(scope="module")
def stack(db_kind: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with fresh_database(db_kind, tmp_path_factory, "webhooks") as url:
        settings = make_settings(url, tmp_path_factory.mktemp("webhooks"))
        store = Store(settings.database_url)
        migrate(store)
        box = CredentialBox(load_secret_key(settings, create=True))
        worker = build_worker(store, settings, box, concurrency=2, webhooks=WEBHOOKS)
        worker.start()
        try:
            with running(create_app(store, settings)) as base:
                yield Stack(base, store, settings, box)
        finally:
            worker.stop()
            store.dispose()


@pytest.fixture(scope="module")
def receiver() -> Iterator[tuple[Receiver, str]]:
    app = Receiver()
    with running(app) as base:
        yield app, base


@pytest.fixture
def hook(receiver: tuple[Receiver, str]) -> tuple[Receiver, str]:
    receiver[0].reset()
    return receiver


@pytest.fixture
def caller(stack: Stack) -> Caller:
    wipe(stack.store)
    with stack.store.write() as conn:
        key = create_key(conn, name="webhooks-test", environment="default")
    return Caller(key.secret, key.environment_id)


def new_integration(stack: Stack, **settings: object) -> str:
    """A Sandbox integration; its first full sync is queued with it."""
    with stack.store.write() as conn:
        integration = create_integration(
            conn, stack.box, tool="sandbox", environment="default", settings=dict(settings)
        )
    wake_workers()
    return integration.id
