"""The operator dashboard in Chromium: sign-in with an API key, every page with data, force-sync
from the page, markup in customer-supplied text rendered inert, CSRF refused (a missing token, and
a form posted from another site), and /docs and /redoc working with no internet access."""

from __future__ import annotations

import time
from typing import Any

import httpx
from sqlalchemy import select

from lmsbridge.db.tables import interactions
from lmsbridge.integrations.service import create_integration
from lmsbridge.jobs import wake_workers
from tests.browser.conftest import Stack, Tenant, shot
from tests.browser.test_connection_flow import Hook, create_link, register_webhook, wait_for_setup
from tests.waiting import wait_until

XSS = '<script>window.__xss=1</script><img src=x onerror="window.__xss=2">'


def sign_in(page: Any, stack: Stack, key: str) -> None:
    page.goto(f"{stack.url}/dashboard")
    assert "/dashboard/login" in page.url
    shot(page, "dashboard-login")
    page.fill("#api_key", key)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{stack.url}/dashboard")


def sandbox(stack: Stack, organization: str = "Acme Corp", **settings: Any) -> str:
    with stack.store.write() as conn:
        integration = create_integration(
            conn,
            stack.box,
            tool="sandbox",
            environment="default",
            settings=settings,
            end_user={
                "organization_name": organization,
                "creator_email": "it@acme.example",
                "origin_id": "o-1",
            },
        )
    wake_workers()
    return integration.id


def bulk(api: httpx.Client, integration_id: str, items: list[dict[str, Any]]) -> str:
    response = api.post(
        "/v1/lms/courses/bulk", json={"items": items}, headers={"X-Integration-Id": integration_id}
    )
    assert response.status_code == 200, response.text
    task_id = str(response.json()["data"]["task_id"])
    wait_until(
        lambda: (
            api.get(f"/v1/lms/courses/bulk/{task_id}", headers={"X-Integration-Id": integration_id}).json()[
                "data"
            ]["status"]
            != "PENDING"
        ),
        timeout=30,
        message=f"task {task_id} stayed PENDING",
    )
    return task_id


def bulk_interaction(stack: Stack) -> str:
    def logged() -> str | None:
        with stack.store.read() as conn:
            found = conn.scalar(
                select(interactions.c.id)
                .where(interactions.c.path == "/v1/lms/courses/bulk", interactions.c.method == "POST")
                .order_by(interactions.c.created_at.desc())
            )
        return str(found) if found else None

    return wait_until(logged, timeout=10, message="the bulk request was not logged")


def course(origin_id: str, title: str) -> dict[str, Any]:
    return {
        "origin_id": origin_id,
        "course": {
            "type": "EXTERNAL",
            "title": title,
            "course_url": f"https://content.example.com/{origin_id}",
        },
    }


def test_every_dashboard_page_with_data(
    page: Any, stack: Stack, tenant: Tenant, api: httpx.Client, hook: Hook
) -> None:
    register_webhook(api, hook)
    hook[0].reset(fail_first=2)  # the first deliveries fail, and are retried
    integration = sandbox(stack, fail_origin_ids="broken-1,broken-2")
    wait_for_setup(api, integration)
    task = bulk(
        api, integration, [course(f"c-{i}", f"Course {i}") for i in range(8)] + [course("broken-1", "Broken")]
    )
    create_link(api, integration_tool="sandbox", link_type="MAGIC_LINK")
    hook[0].wait_for(lambda: len(hook[0].on("/events")) >= 3, 15, "webhook deliveries")

    sign_in(page, stack, tenant.key)
    rows = page.locator("table tr")
    assert "Acme Corp" in page.content()
    assert "ACTIVE" in rows.nth(1).inner_text() and "COMPLETED" in rows.nth(1).inner_text()
    assert page.locator("svg").count() >= 1
    shot(page, "dashboard-integrations")

    page.locator("table a").first.click()
    assert page.locator("#runs tr").count() >= 2
    assert "lms_users" in page.locator("#runs").inner_text()
    assert page.locator(".chart svg").count() == 2
    shot(page, "dashboard-integration")

    page.get_by_role("link", name="Tasks").click()
    assert task in page.content()
    assert page.locator("progress").count() >= 1
    shot(page, "dashboard-tasks")
    page.get_by_role("link", name=task).click()
    assert "broken-1" in page.locator("#failed-items").inner_text()
    shot(page, "dashboard-task")

    page.get_by_role("link", name="Webhooks").click()
    assert "/events" in page.content()
    page.locator("#deliveries details").first.locator("summary").click()
    shot(page, "dashboard-webhooks")

    page.get_by_role("link", name="API keys").click()
    page.fill("input[name=name]", "ci key")
    page.locator("#create-key").click()
    secret = page.locator("#new-key").inner_text()
    assert secret.startswith("lmsb_")
    shot(page, "dashboard-keys")
    page.reload()
    assert secret not in page.content()  # shown once

    page.get_by_role("link", name="Connection links").click()
    page.fill("#org", "Globex")
    page.fill("#email", "admin@globex.example")
    page.select_option("#tool", "moodle")
    page.locator("#create-link").click()
    link = page.locator("#new-link").inner_text()
    assert "/connect/" in link
    shot(page, "dashboard-links")
    assert httpx.get(link).status_code == 200

    page.goto(f"{stack.url}/logs/tasks/{task}")
    assert "broken-1" in page.content()
    shot(page, "log-task")
    page.goto(f"{stack.url}/dashboard/integrations/{integration}")
    page.locator("#runs a").first.click()
    assert "records per model" in page.content()
    shot(page, "log-sync")
    page.go_back()
    page.get_by_role("link", name="Webhooks").click()
    page.locator("#deliveries td a").first.click()
    shot(page, "log-webhook-delivery")


def test_force_sync_pause_resume_and_relink_from_the_page(
    page: Any, stack: Stack, tenant: Tenant, api: httpx.Client
) -> None:
    integration = sandbox(stack)
    wait_for_setup(api, integration)
    sign_in(page, stack, tenant.key)
    page.goto(f"{stack.url}/dashboard/integrations/{integration}")
    runs_before = page.locator("#runs tr").count()
    page.locator("#force-sync").click()
    assert "Sync queued" in page.locator(".notice").inner_text()
    deadline = time.monotonic() + 30
    while "RUNNING" in page.locator("#runs").inner_text() or "QUEUED" in page.locator("#runs").inner_text():
        assert time.monotonic() < deadline
        page.wait_for_timeout(200)
        page.reload()
    assert page.locator("#runs tr").count() == runs_before + 1
    assert page.locator("#runs tr").nth(1).locator(".badge").inner_text() == "SUCCEEDED"
    shot(page, "dashboard-force-sync")

    page.locator("#pause").click()
    assert "Paused" in page.locator(".notice").inner_text()
    assert api.get(f"/v1/integrations/{integration}").json()["data"]["status"] == "INACTIVE"
    page.locator("#resume").click()
    assert api.get(f"/v1/integrations/{integration}").json()["data"]["status"] == "ACTIVE"

    page.locator("#relink").click()
    link = page.locator("#new-link").inner_text()
    page.goto(link)
    assert page.locator("h1").inner_text().startswith("Reconnect")


def test_customer_supplied_markup_is_rendered_inert(
    page: Any, stack: Stack, tenant: Tenant, api: httpx.Client
) -> None:
    integration = sandbox(stack, organization=XSS)
    wait_for_setup(api, integration)
    bulk(api, integration, [course("xss-1", XSS)])
    link = create_link(
        api, integration_tool="sandbox", link_type="MAGIC_LINK", end_user_organization_name=XSS
    )

    page.goto(link)
    assert XSS in page.locator("h1").inner_text()
    sign_in(page, stack, tenant.key)
    assert XSS in page.locator("table").first.inner_text()
    page.goto(f"{stack.url}/dashboard/links")
    assert XSS in page.locator("#links").inner_text()
    # The course title, in the interaction log page of the bulk request that carried it.
    page.goto(f"{stack.url}/logs/{bulk_interaction(stack)}")
    assert "<script>window.__xss=1</script>" in page.locator("table").inner_text()
    page.goto(f"{stack.url}/dashboard/tasks")
    page.locator("tr a").nth(0).click()
    shot(page, "xss-inert")
    assert page.evaluate("window.__xss === undefined")


def test_csrf_is_refused(page: Any, stack: Stack, tenant: Tenant, product: str) -> None:
    sign_in(page, stack, tenant.key)
    page.goto(f"{stack.url}/dashboard/keys")
    # A form of this dashboard whose token was removed.
    page.evaluate(
        "document.querySelector('form[action=\"/dashboard/keys\"] input[name=csrf_token]').remove()"
    )
    page.fill("input[name=name]", "without-token")
    page.locator("#create-key").click()
    assert "Request refused" in page.locator("h1").inner_text()
    shot(page, "csrf-refused")

    # Another site posts a form to the dashboard: the SameSite=Strict cookie is not sent with it.
    page.goto(f"{product}/attack")
    page.wait_for_load_state()
    page.goto(f"{stack.url}/dashboard/keys")
    keys = page.locator("#keys").inner_text()
    assert "planted-by-attacker" not in keys and "without-token" not in keys


def test_docs_and_redoc_work_offline(page: Any, stack: Stack) -> None:
    """Every file the pages use comes from lmsbridge itself (an offline server shows them whole)."""
    fetched: list[str] = []
    page.on("response", lambda response: fetched.append(response.url))
    page.goto(f"{stack.url}/docs")
    page.locator(".swagger-ui .info").wait_for()
    page.locator("button.authorize").wait_for()  # the bearer scheme: "Try it out" authenticates
    shot(page, "docs-swagger")
    response = page.goto(f"{stack.url}/redoc")
    assert response.headers["content-security-policy"] == "img-src 'self' data: blob:"
    page.locator(".menu-content").first.wait_for()
    shot(page, "docs-redoc")
    local = (stack.url, "data:", f"blob:{stack.url}")
    assert [url for url in fetched if not url.startswith(local)] == []
    assert any(url.endswith("/docs/assets/swagger-ui-bundle.js") for url in fetched)
    assert any(url.endswith("/docs/assets/redoc.standalone.js") for url in fetched)
