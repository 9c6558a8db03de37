"""Authentication, the error envelope for every failure, and the log pages log_url leads to."""

from __future__ import annotations

from typing import Any

import anyio
import httpx
import pytest
from starlette.types import Message, Receive, Scope, Send

from lmsbridge.api.body_limit import BodyLimit
from lmsbridge.api.failures import UnexpectedFailures
from lmsbridge.auth.repository import AuthRepository
from lmsbridge.integration_store.repository import IntegrationRepository
from lmsbridge.logs.recorder import InteractionRecorder
from lmsbridge.logs.repository import InteractionRepository, InteractionWriter
from tests.api.helpers import COURSES, course
from tests.conftest import Server, Tenant, make_tenant, running
from tests.contract import checked
from tests.waiting import wait_until


def assert_error(response: httpx.Response, status: int, code: str | None) -> dict[str, object]:
    checked(response)
    assert response.status_code == status, response.text
    error: dict[str, object] = response.json()["error"]
    assert response.json()["status"] == "error"
    assert error["code"] == code
    assert error["message"]
    return error


def test_check_api_key_names_the_environment(clean_server: Server, tenant: Tenant) -> None:
    with clean_server.client(tenant.key) as api:
        data = checked(api.get("/v1/check-api-key")).json()["data"]
    assert data == {"environment_id": tenant.environment_id, "customer_id": tenant.environment_id}


@pytest.mark.parametrize("authorization", [None, "Bearer lmsb_not-a-key", "Basic abc", "Bearer"])
def test_a_missing_or_invalid_key_answers_401(
    clean_server: Server, tenant: Tenant, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization is not None else {}
    response = httpx.get(f"{clean_server.url}/v1/check-api-key", headers=headers)
    assert_error(response, 401, "PLATFORM.AUTHENTICATION_INVALID")


def test_a_revoked_key_answers_401(clean_server: Server, tenant: Tenant) -> None:
    with clean_server.client(tenant.key, tenant.integration) as api:  # the key is remembered now
        assert checked(api.get("/v1/check-api-key")).status_code == 200
        assert checked(api.get(f"/v1/integrations/{tenant.integration}")).status_code == 200
    with clean_server.store.write() as conn:
        repo = AuthRepository(conn)
        key_id = next(k.id for k in repo.list_keys() if k.environment_id == tenant.environment_id)
        assert repo.revoke(key_id)
    with clean_server.client(tenant.key) as api:
        assert_error(api.get("/v1/check-api-key"), 401, "PLATFORM.AUTHENTICATION_INVALID")


def test_the_integration_header_is_required(clean_server: Server, tenant: Tenant) -> None:
    with clean_server.client(tenant.key) as api:
        error = assert_error(api.post(COURSES, json={"items": [course("a")]}), 400, "PLATFORM.INPUT_INVALID")
    assert "X-Integration-Id" in str(error["message"])


def test_an_unknown_integration_or_one_of_another_environment_answers_404(
    clean_server: Server, tenant: Tenant
) -> None:
    other = make_tenant(clean_server, environment="other")
    for integration in ("sandbox:doesnotexist", other.integration):
        with clean_server.client(tenant.key, integration) as api:
            assert_error(
                api.post(COURSES, json={"items": [course("a")]}), 404, "PLATFORM.INTEGRATION_NOT_FOUND"
            )
            assert_error(api.get(f"/v1/integrations/{integration}"), 404, "PLATFORM.INTEGRATION_NOT_FOUND")


def test_an_unknown_route_answers_404_and_a_wrong_method_405(clean_server: Server, tenant: Tenant) -> None:
    with clean_server.client(tenant.key) as api:
        response = api.get("/v1/lms/nothing-here")
        assert_error(response, 404, "PLATFORM.INPUT_INVALID")
        assert "/v1/lms/nothing-here" in response.json()["error"]["message"]
        assert_error(api.delete("/v1/check-api-key"), 405, None)


def test_an_unexpected_failure_answers_500_without_a_stack_trace(
    clean_server: Server, tenant: Tenant
) -> None:
    # An integration whose connector no longer exists: a genuine bug path, not a validation error.
    with clean_server.store.write() as conn:  # through the repository: the API sees it at once
        IntegrationRepository(conn).save(tenant.integration, tool="vanished")
    with clean_server.client(tenant.key) as api:
        response = api.get(f"/v1/integrations/{tenant.integration}")
    error = assert_error(response, 500, "PLATFORM.UNKNOWN_ERROR")
    assert "Traceback" not in response.text and "vanished" not in response.text
    page = httpx.get(str(error["log_url"]))
    assert page.status_code == 200 and "500" in page.text


@pytest.mark.parametrize("failure", ["an exception", "a body over the limit"])
def test_an_error_is_stored_before_its_answer_leaves(clean_server: Server, failure: str) -> None:
    """The cause of a 404 log page once seen in a full run: the 500 (and 413) answers the recorder
    wrote itself were sent before their interaction was stored, so a client that opened log_url
    at once could outrun the write. Now the 500 and 413 come from middlewares inside the recorder,
    which holds every error answer until it is stored; this checks the order."""
    store = clean_server.store

    async def broken(scope: Scope, receive: Receive, send: Send) -> None:
        raise RuntimeError("a bug")

    writer = InteractionWriter(store)
    # As app.py stacks them: the recorder around the failure envelope around the body limit.
    recorder = InteractionRecorder(
        UnexpectedFailures(BodyLimit(broken, max_body_bytes=10)),
        writer=writer,
        log_body_bytes=1000,
        configured_public_url="http://lmsbridge.test",
    )
    headers = [(b"content-length", b"11")] if failure == "a body over the limit" else []
    scope: dict[str, Any] = {
        "type": "http",
        "method": "POST",
        "path": "/v1/check-api-key",
        "query_string": b"",
        "headers": headers,
        "scheme": "http",
        "server": ("lmsbridge.test", 80),
    }
    stored_when_sent: list[bool] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            with store.read() as conn:
                row = InteractionRepository(conn).get(scope["state"]["interaction_id"])
            stored_when_sent.append(row is not None and row.status_code == message["status"])

    try:
        anyio.run(recorder, scope, receive, send)
    finally:
        writer.close()
    assert stored_when_sent == [True]


def test_every_error_log_url_leads_to_the_interaction_without_the_api_key(
    clean_server: Server, tenant: Tenant
) -> None:
    with clean_server.client(tenant.key, tenant.integration) as api:
        response = api.post(COURSES, json={"items": [{"origin_id": "x", "course": {"type": "EXTERNAL"}}]})
    error = assert_error(response, 400, "PLATFORM.INPUT_INVALID")
    page = httpx.get(str(error["log_url"]))
    assert page.status_code == 200
    assert "/v1/lms/courses/bulk" in page.text
    assert "items[0].course.title" in page.text
    assert tenant.key not in page.text
    assert tenant.key[5:] not in page.text
    assert "[redacted]" in page.text


def test_successful_calls_are_recorded_too(clean_server: Server, tenant: Tenant) -> None:
    from sqlalchemy import select

    from lmsbridge.db.tables import interactions

    with clean_server.client(tenant.key) as api:
        api.get("/v1/check-api-key")

    def recorded() -> list[Any]:
        with clean_server.store.read() as conn:
            return list(conn.execute(select(interactions).where(interactions.c.path == "/v1/check-api-key")))

    rows = wait_until(recorded, timeout=5, message="the successful call was not recorded")
    assert rows[0].status_code == 200
    assert rows[0].environment_id == tenant.environment_id
    assert tenant.key not in str(rows[0].request_headers)


def test_healthz_answers_200_when_the_store_is_reachable(clean_server: Server) -> None:
    response = httpx.get(f"{clean_server.url}/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_an_unreachable_store_answers_503_in_the_envelope() -> None:
    from lmsbridge.app import create_app
    from lmsbridge.config import Settings
    from lmsbridge.db import Store

    # A PostgreSQL URL where nothing listens: every store call fails to connect.
    settings = Settings(database_url="postgresql://nobody@127.0.0.1:9/none", secret_key="x")
    store = Store(settings.database_url)
    with running(create_app(store, settings)) as url:
        assert httpx.get(f"{url}/healthz").status_code == 503
        response = httpx.get(f"{url}/v1/check-api-key", headers={"Authorization": "Bearer lmsb_x"})
    checked(response)
    assert response.status_code == 503
    assert response.json()["status"] == "error"
    assert "Traceback" not in response.text
