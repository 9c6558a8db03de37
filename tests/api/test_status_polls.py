"""A status poll whose caller and integration are remembered takes the short way
(tasks/status_polls.py) and answers exactly as the route does; the others go on to the route."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select

from lmsbridge.db.tables import interactions
from lmsbridge.tasks import endpoints
from tests.api.helpers import COURSES, SKILLS, course, skill, submit, wait
from tests.conftest import Server, Tenant, make_tenant
from tests.contract import checked

# Headers that differ between any two answers.
_VARYING = {"date", "ratelimit-remaining", "ratelimit-reset"}


@pytest.fixture
def route_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The task ids the route itself answered (the short way does not call it)."""
    calls: list[str] = []
    answer = endpoints.status_answer

    async def counted(*args: Any) -> Any:
        calls.append(args[-1])
        return await answer(*args)

    monkeypatch.setattr(endpoints, "status_answer", counted)
    return calls


def forget_callers(server: Server) -> None:
    callers = server.app.state.callers
    callers.principals._entries.clear()
    callers.integrations._entries.clear()


def shown(response: httpx.Response) -> tuple[int, list[tuple[str, str]], bytes]:
    headers = [(k, v) for k, v in response.headers.multi_items() if k not in _VARYING]
    return response.status_code, headers, response.content


@pytest.mark.parametrize(("path", "item"), [(COURSES, course("c-1")), (SKILLS, skill("s-1"))])
def test_a_remembered_caller_gets_the_routes_answer_the_short_way(
    clean_server: Server, tenant: Tenant, route_calls: list[str], path: str, item: dict[str, Any]
) -> None:
    with clean_server.client(tenant.key, tenant.integration) as api:
        task_id = submit(api, [item], path=path)
        wait(api, task_id, path=path)
        forget_callers(clean_server)
        route_calls.clear()
        by_route = api.get(f"{path}/{task_id}")
        assert route_calls == [task_id]
        short = api.get(f"{path}/{task_id}")
        head = api.head(f"{path}/{task_id}")
        assert route_calls == [task_id], "the caller was remembered: the route was not needed"
    assert by_route.status_code == 200
    checked(short)  # the short way's answer against the contract
    assert shown(short) == shown(by_route)
    assert shown(head)[:2] == shown(by_route)[:2] and head.content == b""


def test_a_short_way_poll_is_recorded_with_its_environment_and_integration(
    clean_server: Server, tenant: Tenant, route_calls: list[str]
) -> None:
    with clean_server.client(tenant.key, tenant.integration) as api:
        task_id = submit(api, [course("c-1")])
        wait(api, task_id)
        route_calls.clear()
        for _ in range(3):
            assert api.get(f"{COURSES}/{task_id}").status_code == 200
    assert len(route_calls) < 3
    clean_server.app.state.interactions.flush()
    with clean_server.store.read() as conn:
        rows = conn.execute(
            select(interactions).where(interactions.c.path == f"{COURSES}/{task_id}")
        ).fetchall()
    assert len(rows) >= 3
    for row in rows:
        assert (row.environment_id, row.integration_id, row.status_code) == (
            tenant.environment_id,
            tenant.integration,
            200,
        )


def test_another_integrations_task_and_an_unknown_one_answer_404_from_the_route(
    clean_server: Server, tenant: Tenant, route_calls: list[str]
) -> None:
    other = make_tenant(clean_server)
    with clean_server.client(tenant.key, tenant.integration) as api:
        task_id = submit(api, [course("c-1")])
        wait(api, task_id)
    with clean_server.client(other.key, other.integration) as api:
        assert api.get(f"{COURSES}/{task_id}").status_code == 404  # remembers this caller
        route_calls.clear()
        theirs = api.get(f"{COURSES}/{task_id}")
        unknown = api.get(f"{COURSES}/no-such-task")
        wrong_kind = api.get(f"{SKILLS}/{task_id}")
    assert route_calls == [task_id, "no-such-task", task_id]
    for response in (theirs, unknown, wrong_kind):
        assert response.status_code == 404
        assert response.json()["status"] == "error"
        assert "task" in response.json()["error"]["message"]


def test_a_missing_or_unknown_integration_header_is_answered_by_the_route(
    clean_server: Server, tenant: Tenant
) -> None:
    with clean_server.client(tenant.key, tenant.integration) as api:
        task_id = submit(api, [course("c-1")])
        wait(api, task_id)
    with clean_server.client(tenant.key) as api:
        assert api.get(f"{COURSES}/{task_id}").status_code == 400
    with clean_server.client(tenant.key, "no-such-integration") as api:
        assert api.get(f"{COURSES}/{task_id}").status_code == 404
    with clean_server.client(None, tenant.integration) as api:
        assert api.get(f"{COURSES}/{task_id}").status_code == 401
