"""The connection flow over HTTP without a browser: links, the page's form, the preflight,
single use, expiry, environment binding, framing headers and integration-by-token."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
from sqlalchemy import update

from lmsbridge.clock import utc_now
from lmsbridge.connect.repository import FrameOriginRepository
from lmsbridge.db.tables import connection_links, events
from tests.conftest import Server, Tenant, make_tenant
from tests.contract import checked


def create_link(api: httpx.Client, **body: object) -> str:
    payload = {"end_user_email": "admin@acme.example", "end_user_organization_name": "Acme", **body}
    response = api.post("/v1/connect/create-link", json=payload)
    assert response.status_code == 200, response.text
    link = response.json()["data"]["link"]
    assert isinstance(link, str)
    return link


def submit(link: str, data: dict[str, str], tool: str | None = None) -> httpx.Response:
    url = link + (f"?tool={tool}" if tool else "")
    return httpx.post(url, data=data, timeout=30)


def activation_token(page: str) -> str:
    found = re.search(r'data-activation-token="([^"]+)"', page)
    assert found, page
    return found.group(1)


def event_types(server: Server) -> list[str]:
    with server.store.read() as conn:
        return [row.type for row in conn.execute(events.select().order_by(events.c.created_at))]


def test_a_sandbox_link_creates_the_integration_that_integration_by_token_answers(
    api: httpx.Client, clean_server: Server
) -> None:
    link = create_link(api, integration_tool="sandbox", end_user_origin_id="cust-7")
    assert link.startswith(clean_server.url + "/connect/")
    page = httpx.get(link)
    assert page.status_code == 200
    assert "Nothing to set up" in page.text  # the connector's declared setup text
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]

    done = submit(link, {"setting:users": "5", "setting:courses": "3", "setting:progressions": "4"})
    assert done.status_code == 200, done.text
    token = activation_token(done.text)

    answer = api.get(f"/v1/connect/integration-by-token/{token}")
    assert answer.status_code == 200, answer.text
    data = answer.json()["data"]
    assert data["tool"] == "sandbox"
    assert data["end_user_origin_id"] == "cust-7"
    assert data["end_user_organization_name"] == "Acme"
    assert data["end_user_email"] == "admin@acme.example"
    described = checked(api.get(f"/v1/integrations/{data['id']}")).json()["data"]
    assert described["end_user"] == {
        "organization_name": "Acme",
        "creator_email": "admin@acme.example",
        "origin_id": "cust-7",
    }
    assert "integration-created" in event_types(clean_server)


def test_the_link_works_once(api: httpx.Client) -> None:
    link = create_link(api, integration_tool="sandbox")
    assert submit(link, {}).status_code == 200
    again = httpx.get(link)
    assert again.status_code == 410
    assert "already been used" in again.text
    assert submit(link, {}).status_code == 410


def test_an_expired_link_is_refused(api: httpx.Client, clean_server: Server) -> None:
    link = create_link(api, integration_tool="sandbox")
    with clean_server.store.write() as conn:
        conn.execute(update(connection_links).values(expires_at=utc_now() - timedelta(seconds=1)))
    page = httpx.get(link)
    assert page.status_code == 410
    assert "expired" in page.text
    assert submit(link, {}).status_code == 410


def test_an_unknown_link_is_not_found(clean_server: Server) -> None:
    page = httpx.get(f"{clean_server.url}/connect/no-such-token")
    assert page.status_code == 404
    assert "does not exist" in page.text


def test_rejected_credentials_show_a_plain_error_and_send_connection_flow_failed(
    api: httpx.Client, clean_server: Server
) -> None:
    link = create_link(api, integration_tool="sandbox")
    failed = submit(link, {"setting:auth_invalid": "on"})
    assert failed.status_code == 400
    assert "We could not connect" in failed.text
    assert "rejected" in failed.text
    assert "connection-flow-failed" in event_types(clean_server)
    # The same link still works once the customer fixes the input.
    assert submit(link, {}).status_code == 200


def test_invalid_settings_name_the_field_to_fix(api: httpx.Client) -> None:
    link = create_link(api, integration_tool="sandbox")
    failed = submit(link, {"setting:users": "-3"})
    assert failed.status_code == 400
    assert "greater than or equal to 1" in failed.text


def test_without_a_tool_the_customer_picks_one(api: httpx.Client) -> None:
    link = create_link(api)
    page = httpx.get(link)
    assert "Moodle" in page.text and "Sandbox" in page.text
    chosen = httpx.get(link + "?tool=moodle")
    assert "Enable web services" in chosen.text
    assert 'name="credential:token"' in chosen.text and 'type="password"' in chosen.text


def test_create_link_validates_its_body(api: httpx.Client) -> None:
    for body in (
        {"end_user_organization_name": "Acme"},
        {"end_user_email": "not-an-email", "end_user_organization_name": "Acme"},
        {"end_user_email": "a@b.example", "end_user_organization_name": "Acme", "integration_tool": "nope"},
        {"end_user_email": "a@b.example", "end_user_organization_name": "Acme", "link_type": "POPUP"},
    ):
        response = checked(api.post("/v1/connect/create-link", json=body))
        assert response.status_code == 400, (body, response.text)
        assert response.json()["error"]["code"] == "PLATFORM.INPUT_INVALID"


def test_links_and_tokens_are_bound_to_their_environment(api: httpx.Client, clean_server: Server) -> None:
    link = create_link(api, integration_tool="sandbox")
    token = activation_token(submit(link, {}).text)
    other: Tenant = make_tenant(clean_server, environment="other")
    with clean_server.client(other.key) as stranger:
        answer = checked(stranger.get(f"/v1/connect/integration-by-token/{token}"))
        assert answer.status_code == 404
        relink = stranger.post(f"/v1/integrations/{other.integration}/relink", json={})
        assert relink.status_code == 200
        mine = api.headers["X-Integration-Id"]
        refused = checked(stranger.post(f"/v1/integrations/{mine}/relink", json={}))
        assert refused.status_code == 404


def test_relink_updates_the_credentials_of_the_same_integration(
    api: httpx.Client, clean_server: Server, tenant: Tenant
) -> None:
    response = api.post(f"/v1/integrations/{tenant.integration}/relink", json={"link_type": "MAGIC_LINK"})
    assert response.status_code == 200, response.text
    link = response.json()["data"]["link"]
    page = httpx.get(link)
    assert "Reconnect" in page.text
    done = submit(link, {"setting:users": "7"})
    assert done.status_code == 200, done.text
    token = activation_token(done.text)
    assert api.get(f"/v1/connect/integration-by-token/{token}").json()["data"]["id"] == tenant.integration


def test_allowed_frame_origins_are_sent_as_frame_ancestors(
    api: httpx.Client, clean_server: Server, tenant: Tenant
) -> None:
    with clean_server.store.write() as conn:
        FrameOriginRepository(conn).add(tenant.environment_id, "https://app.example.com")
    link = create_link(api, integration_tool="sandbox")
    policy = httpx.get(link + "?sdkv=1.3.0").headers["content-security-policy"]
    assert "frame-ancestors https://app.example.com" in policy
    assert "script-src 'self'" in policy
