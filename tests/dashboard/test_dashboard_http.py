"""The dashboard over plain HTTP: sign-in with an API key, the session cookie's attributes, CSRF
refusal, environment isolation and revocation; the browser tests drive the same pages in Chromium."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import httpx
import pytest

from tests.api.helpers import course, submit
from tests.conftest import Server, Tenant, make_tenant
from tests.syncs.helpers import wait_until_idle

Browsers = Callable[[], httpx.Client]


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, page
    return found.group(1)


@pytest.fixture
def browsers(clean_server: Server) -> Iterator[Browsers]:
    """Cookie-keeping clients, each a browser of its own; closed after the test."""
    made: list[httpx.Client] = []

    def new() -> httpx.Client:
        made.append(httpx.Client(base_url=clean_server.url, timeout=30))
        return made[-1]

    yield new
    for client in made:
        client.close()


def sign_in(browser: httpx.Client, key: str) -> httpx.Response:
    login = browser.get("/dashboard/login")
    return browser.post(
        "/dashboard/login", data={"api_key": key, "csrf_token": csrf_of(login.text), "next": "/dashboard"}
    )


def signed_in(browsers: Browsers, key: str) -> httpx.Client:
    browser = browsers()
    assert sign_in(browser, key).status_code == 303
    return browser


def test_pages_need_a_session_and_its_cookie_is_httponly_and_strict(
    clean_server: Server, tenant: Tenant, browsers: Browsers
) -> None:
    anonymous = browsers().get("/dashboard")
    assert anonymous.status_code == 303
    assert anonymous.headers["location"].startswith("/dashboard/login")
    browser = browsers()
    answer = sign_in(browser, tenant.key)
    assert answer.status_code == 303
    cookie = next(
        v for k, v in answer.headers.multi_items() if k == "set-cookie" and "lmsbridge_session" in v
    )
    assert "HttpOnly" in cookie
    assert "samesite=strict" in cookie.lower()
    assert browser.get("/dashboard").status_code == 200


def test_a_wrong_key_is_refused(browsers: Browsers) -> None:
    response = sign_in(browsers(), "lmsb_wrong")
    assert response.status_code == 401
    assert "unknown or revoked" in response.text


def test_sign_in_without_the_forms_token_is_refused(tenant: Tenant, browsers: Browsers) -> None:
    response = browsers().post("/dashboard/login", data={"api_key": tenant.key, "csrf_token": "forged"})
    assert response.status_code == 403


def test_every_page_answers_with_data(
    api: httpx.Client, clean_server: Server, tenant: Tenant, browsers: Browsers
) -> None:
    wait_until_idle(clean_server, tenant.integration)
    submit(api, [course("ok-1"), course("bad-1")])
    browser = signed_in(browsers, tenant.key)
    for path in (
        "/dashboard",
        f"/dashboard/integrations/{tenant.integration}",
        "/dashboard/tasks",
        "/dashboard/webhooks",
        "/dashboard/keys",
        "/dashboard/links",
    ):
        page = browser.get(path)
        assert page.status_code == 200, (path, page.text)
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert "<svg" in browser.get(f"/dashboard/integrations/{tenant.integration}").text


def test_a_form_without_the_csrf_token_changes_nothing(tenant: Tenant, browsers: Browsers) -> None:
    browser = signed_in(browsers, tenant.key)
    assert browser.post("/dashboard/keys", data={"name": "sneaky"}).status_code == 403
    assert browser.post("/dashboard/keys", data={"name": "sneaky", "csrf_token": "forged"}).status_code == 403
    assert "sneaky" not in browser.get("/dashboard/keys").text
    token = csrf_of(browser.get("/dashboard/keys").text)
    made = browser.post("/dashboard/keys", data={"name": "real", "csrf_token": token})
    assert made.status_code == 200
    assert "lmsb_" in made.text


def test_another_environment_is_not_visible(clean_server: Server, tenant: Tenant, browsers: Browsers) -> None:
    other = make_tenant(clean_server, environment="other")
    browser = signed_in(browsers, tenant.key)
    assert other.integration not in browser.get("/dashboard").text
    assert browser.get(f"/dashboard/integrations/{other.integration}").status_code == 404


def test_revoking_the_sessions_key_ends_the_session(tenant: Tenant, browsers: Browsers) -> None:
    browser = signed_in(browsers, tenant.key)
    keys = browser.get("/dashboard/keys").text
    key_id = re.search(r'action="/dashboard/keys/([^/]+)/revoke"', keys)
    assert key_id
    browser.post(f"/dashboard/keys/{key_id.group(1)}/revoke", data={"csrf_token": csrf_of(keys)})
    assert browser.get("/dashboard").status_code == 303


def test_a_crafted_notice_is_not_shown(tenant: Tenant, browsers: Browsers) -> None:
    browser = signed_in(browsers, tenant.key)
    page = browser.get("/dashboard", params={"done": "Your key leaked: sign in at evil.example"})
    assert "evil.example" not in page.text
    assert "Key revoked." in browser.get("/dashboard", params={"done": "key-revoked"}).text
