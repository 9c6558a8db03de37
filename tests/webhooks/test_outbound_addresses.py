"""Outbound requests to addresses a user typed (webhook endpoints, a task's callback_url, an
integration's site_url) never reach link-local or metadata addresses, reach loopback and private
ones only while LMSBRIDGE_OUTBOUND_ALLOW_PRIVATE is on, are checked on the address a name resolves
to when the connection is made, and follow no redirect. Real loopback receivers, a real Moodle
emulator, an API server and worker on a real store, with the setting on (the embedded default)
and off (production)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from lmsbridge.app import create_app
from lmsbridge.auth.service import create_key
from lmsbridge.db import Store
from lmsbridge.db.migrations import migrate
from lmsbridge.integration_store.credentials import CredentialBox, load_secret_key
from lmsbridge.integrations.service import create_integration
from lmsbridge.jobs import wake_workers
from lmsbridge.testing.emulators.moodle import create_app as moodle_app
from lmsbridge.testing.emulators.moodle import seeded_site
from lmsbridge.worker_setup import build_worker
from tests.conftest import fresh_database, make_settings, running, wipe
from tests.contract import checked
from tests.webhooks.conftest import WEBHOOKS, Caller, Stack, new_integration
from tests.webhooks.receiver import Receiver

Hook = tuple[Receiver, str]
MOODLE_TOKEN = "0123456789abcdef0123456789abcdef"


def wait_for(condition: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert time.monotonic() < deadline, f"timed out after {timeout:g}s waiting for {what}"
        time.sleep(0.05)
    return value


def register(api: httpx.Client, url: str) -> str:
    # Webhook routes and /v1/syncs are extensions: the contract has no schema for them.
    response = api.post("/v1/webhooks", json={"url": url, "events": ["sync-finished"]})
    assert response.status_code == 200, response.text
    endpoint_id: str = response.json()["data"]["id"]
    return endpoint_id


def first_attempt(api: httpx.Client, endpoint_id: str) -> dict[str, Any]:
    def attempted() -> dict[str, Any] | None:
        response = api.get(f"/v1/webhooks/{endpoint_id}/deliveries")
        assert response.status_code == 200, response.text
        tried = [d for d in response.json()["data"] if d["attempts"]]
        return tried[0] if tried else None

    delivery: dict[str, Any] = wait_for(attempted, 30, f"an attempt to deliver to {endpoint_id}")
    return delivery


def sync_error(api: httpx.Client) -> str:
    """The error of a sync of the integration that read nothing, once it has ended."""
    requested = checked(api.post("/v1/force-sync", json={"type": "FULL"}))
    assert requested.status_code == 200, requested.text
    sync_id = requested.json()["data"]["sync_id"]

    def ended() -> dict[str, Any] | None:
        run: dict[str, Any] = api.get(f"/v1/syncs/{sync_id}").json()["data"]
        return run if run["state"] not in ("QUEUED", "RUNNING") else None

    run = wait_for(ended, 60, "the sync to end")
    assert run["state"] in ("FAILED", "PARTIALLY_FAILED"), run
    error: str = run["error"]
    return error


def moodle_integration(stack: Stack, site_url: str) -> str:
    with stack.store.write() as conn:
        integration = create_integration(
            conn,
            stack.box,
            tool="moodle",
            environment="default",
            settings={"site_url": site_url},
            credentials={"token": MOODLE_TOKEN},
        )
    wake_workers()
    return integration.id


@pytest.fixture(scope="module")
def moodle() -> Iterator[str]:
    with running(moodle_app(seeded_site(token=MOODLE_TOKEN, completion_task_interval=None))) as base:
        yield base


# -- the embedded default: private addresses allowed -----------------------------------------------


def test_metadata_and_link_local_addresses_are_refused_even_when_private_ones_are_allowed(
    stack: Stack, caller: Caller, hook: Hook
) -> None:
    receiver, base = hook
    with caller.client(stack) as api:
        metadata = register(api, "http://169.254.169.254/latest/meta-data/")
        alibaba = register(api, "http://100.100.100.200/latest/meta-data/")
        local = register(api, f"{base}/allowed")
        new_integration(stack)
        assert "link-local address" in first_attempt(api, metadata)["last_error"]
        assert "metadata address" in first_attempt(api, alibaba)["last_error"]
        assert first_attempt(api, local)["state"] == "delivered"
    assert receiver.on("/allowed")


def test_a_redirect_is_not_followed(stack: Stack, caller: Caller, hook: Hook) -> None:
    receiver, base = hook

    async def redirecting(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        await send(
            {
                "type": "http.response.start",
                "status": 307,
                "headers": [(b"location", f"{base}/redirected".encode())],
            }
        )
        await send({"type": "http.response.body", "body": b""})

    with running(redirecting) as redirector, caller.client(stack) as api:
        endpoint = register(api, f"{redirector}/hooks")
        new_integration(stack)
        delivery = first_attempt(api, endpoint)
    assert delivery["last_status"] == 307
    assert "HTTP 307" in delivery["last_error"]
    assert not receiver.on("/redirected")


def test_a_moodle_site_url_at_the_metadata_address_is_refused(stack: Stack, caller: Caller) -> None:
    integration = moodle_integration(stack, "http://169.254.169.254")
    with caller.client(stack, integration) as api:
        error = sync_error(api)
    assert "lmsbridge does not call 169.254.169.254" in error
    assert "link-local" in error


# -- production: private addresses refused -----------------------------------------------------------


@pytest.fixture(scope="module")
def guarded(db_kind: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with (
        pytest.MonkeyPatch.context() as env,
        fresh_database(db_kind, tmp_path_factory, "outbound") as url,
    ):
        env.setenv("LMSBRIDGE_OUTBOUND_ALLOW_PRIVATE", "false")
        settings = make_settings(url, tmp_path_factory.mktemp("outbound"))
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


@pytest.fixture
def guarded_caller(guarded: Stack) -> Caller:
    wipe(guarded.store)
    with guarded.store.write() as conn:
        key = create_key(conn, name="outbound-test", environment="default")
    return Caller(key.secret, key.environment_id)


def test_loopback_receivers_are_refused_when_private_addresses_are_not_allowed(
    guarded: Stack, guarded_caller: Caller, hook: Hook
) -> None:
    receiver, base = hook
    by_name = base.replace("127.0.0.1", "localhost")  # checked on the address the name resolves to
    with guarded_caller.client(guarded) as api:
        assert api.post("/v1/webhooks/callback-secret").status_code == 200
        endpoints = [register(api, f"{base}/refused"), register(api, f"{by_name}/refused-by-name")]
        integration = new_integration(guarded)
        for endpoint in endpoints:
            delivery = first_attempt(api, endpoint)
            assert delivery["state"] == "pending" and delivery["last_status"] is None
            assert (
                "loopback address, refused while LMSBRIDGE_OUTBOUND_ALLOW_PRIVATE is off"
                in (delivery["last_error"])
            )
    with guarded_caller.client(guarded, integration) as api:
        body = {"items": [{"origin_id": "s-1", "name": "Python"}], "callback_url": f"{base}/callback"}
        assert checked(api.post("/v1/hris/skills/bulk", json=body)).status_code == 200
        callback = first_attempt(api, "callback")
        assert "refused while LMSBRIDGE_OUTBOUND_ALLOW_PRIVATE is off" in callback["last_error"]
    assert (
        not receiver.on("/refused") and not receiver.on("/refused-by-name") and not receiver.on("/callback")
    )


def test_a_moodle_site_on_loopback_is_refused_when_private_addresses_are_not_allowed(
    guarded: Stack, guarded_caller: Caller, moodle: str
) -> None:
    integration = moodle_integration(guarded, moodle)
    with guarded_caller.client(guarded, integration) as api:
        error = sync_error(api)
    assert "loopback address, refused while LMSBRIDGE_OUTBOUND_ALLOW_PRIVATE is off" in error
