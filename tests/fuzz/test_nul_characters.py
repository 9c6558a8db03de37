"""NUL characters, which the fuzzer sends and PostgreSQL text columns refuse: a call that carries
one is still recorded in the interaction log, and is answered as invalid input, never a 500."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.api.helpers import COURSES, course
from tests.conftest import Server, Tenant
from tests.reads.helpers import wait_first_sync

KNOWN_POSTGRES_500 = (
    "known bug on PostgreSQL: a NUL character in a path id, a query filter or a stored body string "
    "reaches a text column and psycopg raises DataError, answered 500 PLATFORM.UNKNOWN_ERROR; found "
    "by tests/fuzz. Refuse NUL as 400 PLATFORM.INPUT_INVALID at the boundary."
)


def test_a_call_with_a_nul_character_is_recorded(clean_server: Server, tenant: Tenant) -> None:
    with clean_server.client(tenant.key, tenant.integration) as api:
        response = api.post(
            COURSES, content=b'{"items": [\x00]}', headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 400
        page = httpx.get(response.json()["error"]["log_url"], timeout=10)
    assert page.status_code == 200, page.text
    assert "\ufffd" in page.text


NUL_INPUTS: list[tuple[str, str, dict[str, Any]]] = [
    ("GET", "/v1/lms/users", {"params": {"ids": "a\x00b"}}),
    ("GET", "/v1/lms/users", {"params": {"work_emails": "a\x00b"}}),
    ("GET", "/v1/lms/users", {"params": {"remote_ids": "a\x00b"}}),
    ("GET", "/v1/hris/skills", {"params": {"name_contains": "a\x00b"}}),
    ("GET", "/v1/lms/courses/bulk/a%00b", {}),
    ("GET", "/v1/integrations/a%00b", {}),
    ("POST", COURSES, {"json": {"items": [course("nul\x00")]}}),
    ("POST", "/v1/lms/course-progressions", {"json": {"user_id": "a\x00", "course_revision_id": "b"}}),
]


@pytest.mark.parametrize(("method", "path", "request_args"), NUL_INPUTS)
def test_a_nul_character_is_refused_not_a_server_error(
    clean_server: Server,
    tenant: Tenant,
    db_kind: str,
    request: pytest.FixtureRequest,
    method: str,
    path: str,
    request_args: dict[str, Any],
) -> None:
    with clean_server.client(tenant.key, tenant.integration) as api:
        wait_first_sync(api, tenant.integration)
        response = api.request(method, path, **request_args)
    assert response.status_code < 500, response.text
