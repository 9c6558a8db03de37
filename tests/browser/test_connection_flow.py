"""The hosted connection flow in Chromium: a magic link for the Sandbox and for the Moodle
emulator (a wrong credential shows the error, the right one creates the integration and its
signed event reaches a receiver), the embedded flow driven by Kombo's own `@kombo-api/connect`,
framing refused to other origins, relink, and links that expired or were used."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import update

from lmsbridge.clock import utc_now
from lmsbridge.connect.repository import FrameOriginRepository
from lmsbridge.db.tables import connection_links
from tests.browser.conftest import MOODLE_TOKEN, SCREENSHOTS, Stack, Tenant, shot
from tests.contract import checked
from tests.waiting import wait_until
from tests.webhooks.receiver import Receiver

Hook = tuple[Receiver, str]


def create_link(api: httpx.Client, **body: Any) -> str:
    payload = {"end_user_email": "it@acme.example", "end_user_organization_name": "Acme Corp", **body}
    response = api.post("/v1/connect/create-link", json=payload)
    assert response.status_code == 200, response.text
    return str(response.json()["data"]["link"])


def register_webhook(api: httpx.Client, hook: Hook) -> str:
    response = api.post("/v1/webhooks", json={"url": f"{hook[1]}/events"})
    assert response.status_code == 200, response.text
    return str(response.json()["data"]["secret"])


def signed_event(hook: Hook, secret: str, type_: str) -> dict[str, Any]:
    """The first event of the type, after checking its signature as a Kombo receiver does."""
    receiver = hook[0]
    receiver.wait_for(lambda: bool(receiver.events("/events", type_)), 15, f"a {type_} event")
    request = next(r for r in receiver.on("/events") if r.event["type"] == type_)
    expected = base64.urlsafe_b64encode(hmac.new(secret.encode(), request.body, hashlib.sha256).digest())
    assert request.headers["x-kombo-signature"] == expected.decode().rstrip("=")
    return request.event


def wait_for_setup(api: httpx.Client, integration_id: str, timeout: float = 60) -> dict[str, Any]:
    def completed() -> dict[str, Any] | None:
        data: dict[str, Any] = checked(api.get(f"/v1/integrations/{integration_id}")).json()["data"]
        return data if data["setup_status"] == "COMPLETED" else None

    return wait_until(completed, timeout=timeout, message=f"{integration_id} did not finish its first sync")


def test_sandbox_magic_link_wrong_then_right_and_the_signed_event(
    page: Any, api: httpx.Client, hook: Hook
) -> None:
    secret = register_webhook(api, hook)
    link = create_link(api, integration_tool="sandbox", link_type="MAGIC_LINK", end_user_origin_id="acme-1")
    page.goto(link)
    assert page.locator("h1").inner_text().startswith("Connect Acme Corp")
    assert "Nothing to set up" in page.locator(".steps").inner_text()
    shot(page, "connect-sandbox-form")

    page.locator("summary").click()  # More settings
    page.locator("input[name='setting:auth_invalid']").check()
    page.locator("#submit").click()
    failure = page.locator(".failure")
    assert "We could not connect" in failure.inner_text()
    assert "rejected" in failure.inner_text()
    shot(page, "connect-sandbox-rejected")
    failed = signed_event(hook, secret, "connection-flow-failed")
    assert failed["data"]["end_user"]["origin_id"] == "acme-1"

    page.locator("summary").click()
    page.locator("input[name='setting:auth_invalid']").uncheck()
    page.locator("#submit").click()
    assert "Sandbox is connected" in page.locator("h1").inner_text()
    shot(page, "connect-sandbox-connected")

    created = signed_event(hook, secret, "integration-created")
    assert created["data"]["tool"] == "sandbox"
    assert created["data"]["end_user"] == {
        "organization_name": "Acme Corp",
        "creator_email": "it@acme.example",
        "origin_id": "acme-1",
    }
    assert wait_for_setup(api, created["data"]["id"])["status"] == "ACTIVE"


def test_time_from_create_link_to_a_synced_sandbox_through_the_browser(page: Any, api: httpx.Client) -> None:
    """The figure the README quotes: create-link, the customer opens the link and connects with
    the defaults, and the first full sync has finished (setup_status COMPLETED)."""
    started = time.monotonic()
    link = create_link(api, integration_tool="sandbox", link_type="MAGIC_LINK")
    page.goto(link)
    page.locator("#submit").click()
    token = page.locator("#connect").get_attribute("data-activation-token")
    integration_id = api.get(f"/v1/connect/integration-by-token/{token}").json()["data"]["id"]
    wait_for_setup(api, integration_id)
    elapsed = time.monotonic() - started
    SCREENSHOTS.mkdir(exist_ok=True)
    (SCREENSHOTS / "timing.json").write_text(
        json.dumps({"create_link_to_synced_sandbox_seconds": round(elapsed, 2)}) + "\n"
    )
    print(f"create-link to a synced Sandbox integration through the browser: {elapsed:.2f} s")


def test_moodle_picked_by_the_customer_wrong_then_right_token(
    page: Any, api: httpx.Client, hook: Hook, moodle_url: str
) -> None:
    secret = register_webhook(api, hook)
    link = create_link(api, link_type="MAGIC_LINK")
    page.goto(link)
    shot(page, "connect-pick-tool")
    page.get_by_role("link", name="Moodle").click()
    assert "Enable web services" in page.locator(".steps").inner_text()
    page.fill("input[name='setting:site_url']", moodle_url)
    page.fill("input[name='credential:token']", "not-the-token")
    shot(page, "connect-moodle-form")
    page.locator("#submit").click()
    assert "We could not connect" in page.locator(".failure").inner_text()
    # The token is never sent back to the browser.
    assert page.locator("input[name='credential:token']").input_value() == ""
    assert page.locator("input[name='setting:site_url']").input_value() == moodle_url
    shot(page, "connect-moodle-wrong-token")
    signed_event(hook, secret, "connection-flow-failed")

    page.fill("input[name='credential:token']", MOODLE_TOKEN)
    page.locator("#submit").click()
    assert "Moodle is connected" in page.locator("h1").inner_text()
    shot(page, "connect-moodle-connected")
    created = signed_event(hook, secret, "integration-created")
    assert created["data"]["tool"] == "moodle"
    assert MOODLE_TOKEN not in page.content()
    wait_for_setup(api, created["data"]["id"])


def test_embedded_flow_with_kombos_library_resolves_with_the_activation_token(
    page: Any, api: httpx.Client, stack: Stack, tenant: Tenant, product: str
) -> None:
    with stack.store.write() as conn:
        FrameOriginRepository(conn).add(tenant.environment_id, product)
    link = create_link(api, integration_tool="sandbox", link_type="EMBEDDED", end_user_origin_id="acme-9")
    page.goto(f"{product}/?link={link}")
    page.locator("#connect").click()
    frame = page.frame_locator("iframe")
    frame.locator("#submit").wait_for()
    assert "sdkv=" in page.locator("iframe").get_attribute("src")
    shot(page, "embedded-open")
    frame.locator("#submit").click()
    page.wait_for_function("document.getElementById('result').textContent.startsWith('token:')")
    token = page.locator("#result").inner_text().removeprefix("token:")
    assert page.locator("iframe").count() == 0  # the library removed the frame
    shot(page, "embedded-resolved")
    answer = api.get(f"/v1/connect/integration-by-token/{token}")
    assert answer.status_code == 200, answer.text
    assert answer.json()["data"]["tool"] == "sandbox"
    assert answer.json()["data"]["end_user_origin_id"] == "acme-9"


def test_closing_the_embedded_flow_rejects_the_librarys_promise(
    page: Any, api: httpx.Client, stack: Stack, tenant: Tenant, product: str
) -> None:
    with stack.store.write() as conn:
        FrameOriginRepository(conn).add(tenant.environment_id, product)
    link = create_link(api, link_type="EMBEDDED")
    page.goto(f"{product}/?link={link}")
    page.locator("#connect").click()
    page.frame_locator("iframe").locator("#close").click()
    page.wait_for_function("document.getElementById('result').textContent.length > 0")
    assert page.locator("#result").inner_text() == "error:KomboConnectCancelledError"


def test_an_origin_not_allowed_cannot_frame_the_page(
    page: Any, api: httpx.Client, stack: Stack, tenant: Tenant, product: str
) -> None:
    with stack.store.write() as conn:
        FrameOriginRepository(conn).add(tenant.environment_id, product)
    # The same product page from another origin (localhost instead of 127.0.0.1).
    intruder = product.replace("127.0.0.1", "localhost")
    link = create_link(api, integration_tool="sandbox", link_type="EMBEDDED")
    refusals: list[str] = []
    page.on("console", lambda message: refusals.append(message.text))
    page.goto(f"{intruder}/?link={link}")
    page.locator("#connect").click()
    page.locator("iframe").wait_for()
    page.wait_for_timeout(1500)
    framed = [f for f in page.frames if f is not page.main_frame]
    assert framed
    assert all(_empty(f) for f in framed)  # Chromium shows its own error page, not ours
    assert any("frame-ancestors" in text for text in refusals), refusals
    shot(page, "embedded-refused-origin")
    assert page.locator("#result").inner_text() == ""


def _empty(frame: Any) -> bool:
    try:
        return frame.locator("#connect").count() == 0
    except Exception:  # a refused frame may have no document to query
        return True


def test_relink_gives_the_same_integration_new_credentials(
    page: Any, api: httpx.Client, moodle_url: str
) -> None:
    link = create_link(api, integration_tool="moodle", link_type="MAGIC_LINK")
    page.goto(link)
    page.fill("input[name='setting:site_url']", moodle_url)
    page.fill("input[name='credential:token']", MOODLE_TOKEN)
    page.locator("#submit").click()
    assert "connected" in page.locator("h1").inner_text()
    integration_id = api.get(
        "/v1/connect/integration-by-token/" + page.locator("#connect").get_attribute("data-activation-token")
    ).json()["data"]["id"]

    relink = api.post(f"/v1/integrations/{integration_id}/relink", json={"link_type": "MAGIC_LINK"})
    assert relink.status_code == 200, relink.text
    page.goto(relink.json()["data"]["link"])
    assert page.locator("h1").inner_text().startswith("Reconnect")
    assert page.locator("input[name='setting:site_url']").input_value() == ""  # nothing is prefilled
    page.fill("input[name='setting:site_url']", moodle_url)
    page.fill("input[name='credential:token']", "revoked-token")
    page.locator("#submit").click()
    assert "We could not connect" in page.locator(".failure").inner_text()
    page.fill("input[name='credential:token']", MOODLE_TOKEN)
    page.locator("#submit").click()
    assert "reconnected" in page.locator("h1").inner_text()
    shot(page, "relink-done")
    token = page.locator("#connect").get_attribute("data-activation-token")
    assert api.get(f"/v1/connect/integration-by-token/{token}").json()["data"]["id"] == integration_id


def test_expired_and_reused_links_are_refused(page: Any, api: httpx.Client, stack: Stack) -> None:
    used = create_link(api, integration_tool="sandbox", link_type="MAGIC_LINK")
    page.goto(used)
    page.locator("#submit").click()
    assert "connected" in page.locator("h1").inner_text()
    response = page.goto(used)
    assert response.status == 410
    assert "already been used" in page.locator(".failure").inner_text()
    shot(page, "link-reused")

    expired = create_link(api, integration_tool="sandbox", link_type="MAGIC_LINK")
    page.goto(expired)
    with stack.store.write() as conn:
        conn.execute(update(connection_links).values(expires_at=utc_now() - timedelta(minutes=1)))
    page.locator("#submit").click()  # the form was open when the link expired
    assert "expired" in page.locator(".failure").inner_text()
    response = page.goto(expired)
    assert response.status == 410
    shot(page, "link-expired")


def test_screenshots_folder_is_inside_the_tests() -> None:
    assert Path(SCREENSHOTS).parent.name == "browser"
