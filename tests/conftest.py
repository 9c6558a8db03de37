"""Fixtures that build real stores and a real server: SQLite by default, PostgreSQL with
`--db=postgres` (a fresh database per test session). The server is uvicorn on a loopback port
with an in-process worker, as `lmsbridge serve` runs it."""

from __future__ import annotations

import os
import secrets
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import uvicorn
from sqlalchemy import text

from lmsbridge.app import create_app
from lmsbridge.auth.service import create_key
from lmsbridge.config import Settings
from lmsbridge.db import Store
from lmsbridge.db.migrations import migrate
from lmsbridge.db.tables import metadata
from lmsbridge.integration_store.credentials import CredentialBox, load_secret_key
from lmsbridge.integrations.service import create_integration
from lmsbridge.jobs import Worker
from lmsbridge.outbound import verifying_tls
from lmsbridge.worker_setup import build_worker
from tests.waiting import wait_until

POSTGRES_ADMIN_URL = os.environ.get(
    "LMSBRIDGE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--db",
        choices=["sqlite", "postgres"],
        default="sqlite",
        help="the store the tests run on (default: sqlite)",
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def db_kind(request: pytest.FixtureRequest) -> str:
    return str(request.config.getoption("--db"))


@contextmanager
def fresh_database(db_kind: str, tmp_path_factory: pytest.TempPathFactory, label: str) -> Iterator[str]:
    """The URL of a new, empty store: a SQLite file, or a PostgreSQL database dropped afterwards."""
    if db_kind == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp(label) / 'lmsbridge.db'}"
        return
    name = f"lmsbridge_{label}_{os.getpid()}_{secrets.token_hex(4)}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{POSTGRES_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def database_url(db_kind: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh, empty store for the session."""
    with fresh_database(db_kind, tmp_path_factory, "test") as url:
        yield url


@contextmanager
def fresh_store(db_kind: str, tmp_path_factory: pytest.TempPathFactory, label: str) -> Iterator[Store]:
    """A migrated store of its own (no server's worker claims its jobs), disposed afterwards."""
    with fresh_database(db_kind, tmp_path_factory, label) as url:
        store = Store(url)
        migrate(store)
        try:
            yield store
        finally:
            store.dispose()


def make_settings(database_url: str, tmp_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "secret_key": "test-secret-key-for-the-suite",
        "secret_key_file": str(tmp_dir / "lmsbridge.key"),
        "job_lease_seconds": 3.0,
        "job_poll_seconds": 0.05,
        "task_flush_seconds": 0.1,
        **overrides,
    }
    return Settings(**values)


@dataclass
class Server:
    url: str
    store: Store
    settings: Settings
    box: CredentialBox
    worker: Worker
    app: Any = None

    def client(self, key: str | None = None, integration: str | None = None) -> httpx.Client:
        headers = {}
        if key:
            headers["Authorization"] = f"Bearer {key}"
        if integration:
            headers["X-Integration-Id"] = integration
        return httpx.Client(base_url=self.url, headers=headers, timeout=30, verify=verifying_tls())


@contextmanager
def running(app: Any) -> Iterator[str]:
    """Serve an ASGI app with uvicorn on a free loopback port; yields its base URL."""
    port = free_port()
    uv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()

    def started() -> bool:
        assert thread.is_alive(), "the test server failed to start"
        return bool(uv.started)

    wait_until(started, timeout=15, message="the test server did not start", interval=0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        uv.should_exit = True
        thread.join(10)


@pytest.fixture(scope="session")
def server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    settings = make_settings(database_url, tmp_path_factory.mktemp("server"))
    store = Store(settings.database_url)
    migrate(store)
    box = CredentialBox(load_secret_key(settings, create=True))
    worker = build_worker(store, settings, box, concurrency=2)
    worker.start()
    app = create_app(store, settings)
    with running(app) as url:
        yield Server(url, store, settings, box, worker, app)
    worker.stop()
    store.dispose()


def wipe(store: Store) -> None:
    """Empty every table but the instance settings the migrations seeded (the cursor key),
    children first. Alembic's `alembic_version` is not in the metadata, so it stays."""
    with store.write() as conn:
        for table in reversed(metadata.sorted_tables):
            if table.name != "instance_settings":
                conn.execute(text(f"DELETE FROM {table.name}"))


@pytest.fixture
def clean_server(server: Server) -> Iterator[Server]:
    # The interactions of the previous test's last calls are stored in the background: store them
    # now, so none lands in this test's clean store.
    server.app.state.interactions.flush()
    wipe(server.store)
    yield server


@dataclass
class Tenant:
    key: str
    environment_id: str
    integration: str


def make_tenant(server: Server, environment: str = "default", **settings: Any) -> Tenant:
    with server.store.write() as conn:
        key = create_key(conn, name="test", environment=environment)
        integration = create_integration(
            conn, server.box, tool="sandbox", environment=environment, settings=settings
        )
    return Tenant(key.secret, key.environment_id, integration.id)


@pytest.fixture
def tenant(clean_server: Server) -> Tenant:
    return make_tenant(clean_server)


@pytest.fixture
def api(clean_server: Server, tenant: Tenant) -> Iterator[httpx.Client]:
    with clean_server.client(tenant.key, tenant.integration) as client:
        yield client


# The conformance battery (lmsbridge.testing.conformance) asks for these two fixtures by name.
@pytest.fixture
def lmsbridge_server(clean_server: Server) -> Server:
    return clean_server


@pytest.fixture
def contract_check() -> Any:
    from tests.contract import checked

    return checked
