"""Async bulk tasks through the public API: submit, poll, collect, on the Sandbox."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import func, select

from lmsbridge.db.tables import sandbox_courses, sandbox_skills, task_items, tasks
from lmsbridge.integration_store.repository import IntegrationRepository
from tests.api.helpers import COURSES, SKILLS, course, courses, poll, skill, submit, wait
from tests.conftest import Server, Tenant, make_tenant
from tests.contract import checked

GUIDE_EXAMPLE = [
    course(
        "cybersecurity-101",
        "Introduction to Cybersecurity",
        description="Learn the fundamentals of cybersecurity.",
    ),
    course(
        "data-privacy-basics",
        "Data Privacy Basics",
        description="Understand GDPR and data privacy best practices.",
    ),
    course(
        "leadership-fundamentals",
        "Leadership Fundamentals",
        description="Core skills for new and aspiring managers.",
    ),
]


def count(server: Server, table: object, *where: object) -> int:
    with server.store.read() as conn:
        return int(conn.scalar(select(func.count()).select_from(table).where(*where)) or 0)  # type: ignore[arg-type]


def test_the_async_guide_example_completes_with_one_result_per_item(api: httpx.Client) -> None:
    task_id = submit(api, GUIDE_EXAMPLE)
    data = wait(api, task_id)
    assert data["status"] == "COMPLETED"
    assert data["completed_at"] is not None
    assert [r["origin_id"] for r in data["data"]] == [i["origin_id"] for i in GUIDE_EXAMPLE]
    for result in data["data"]:
        assert result["status"] == "SUCCEEDED"
        assert result["data"]["id"] == result["data"]["course_id"]
        assert len(result["data"]["id"]) == 24
    assert data["progress"] == {"total": 3, "succeeded": 3, "failed": 0, "percent": 100}


def test_submit_answers_with_a_task_id_and_empty_warnings(api: httpx.Client) -> None:
    response = checked(api.post(COURSES, json={"items": GUIDE_EXAMPLE}))
    body = response.json()
    assert body["status"] == "success"
    assert body["warnings"] == []
    assert len(body["data"]["task_id"]) == 24


def test_a_pending_task_has_null_completed_at_and_shows_progress(clean_server: Server) -> None:
    tenant = make_tenant(clean_server, latency_ms=40)
    with clean_server.client(tenant.key, tenant.integration) as api:
        task_id = submit(api, courses(60))
        first = poll(api, task_id)
        assert first["status"] == "PENDING"
        assert first["completed_at"] is None
        assert "data" not in first and "error" not in first
        assert first["progress"]["total"] == 60
        seen_partial = False
        while (data := poll(api, task_id))["status"] == "PENDING":
            done = data["progress"]["succeeded"] + data["progress"]["failed"]
            seen_partial = seen_partial or 0 < done < 60
        assert data["status"] == "COMPLETED"
        assert seen_partial, "progress never showed a task under way"


def test_skills_bulk_completes_with_skill_ids(
    api: httpx.Client, clean_server: Server, tenant: Tenant
) -> None:
    task_id = submit(api, [skill("python"), skill("sql", status="INACTIVE")], path=SKILLS)
    data = wait(api, task_id, SKILLS)
    assert data["status"] == "COMPLETED"
    assert [r["data"] for r in data["data"]] == [{"id": r["data"]["id"]} for r in data["data"]]
    with clean_server.store.read() as conn:
        stored = {r.origin_id: r.data for r in conn.execute(select(sandbox_skills))}
    assert stored["python"]["status"] == "ACTIVE"
    assert stored["sql"]["status"] == "INACTIVE"


def test_upserting_an_origin_id_again_updates_the_course_and_keeps_its_id(
    api: httpx.Client, clean_server: Server, tenant: Tenant
) -> None:
    first = wait(api, submit(api, [course("a", "Old title")]))
    second = wait(api, submit(api, [course("a", "New title")]))
    assert first["data"][0]["data"]["id"] == second["data"][0]["data"]["id"]
    with clean_server.store.read() as conn:
        rows = list(
            conn.execute(
                select(sandbox_courses).where(sandbox_courses.c.integration_id == tenant.integration)
            )
        )
    assert len(rows) == 1
    assert rows[0].data["title"] == "New title"


def test_the_same_body_returns_the_existing_task_whatever_its_key_order(
    api: httpx.Client, clean_server: Server
) -> None:
    items = [course("a"), course("b")]
    first = submit(api, items)
    reordered = json.dumps(
        {"items": [{"course": i["course"], "origin_id": i["origin_id"]} for i in items]}, indent=3
    )
    response = checked(api.post(COURSES, content=reordered, headers={"Content-Type": "application/json"}))
    assert response.json()["data"]["task_id"] == first
    assert response.json()["warnings"], "a reused task is announced in warnings"
    assert count(clean_server, tasks) == 1


def test_an_idempotency_key_returns_its_task_and_refuses_another_body(
    api: httpx.Client, clean_server: Server
) -> None:
    first = submit(api, [course("a")], headers={"Idempotency-Key": "k-1"})
    assert submit(api, [course("a")], headers={"Idempotency-Key": "k-1"}) == first
    conflict = checked(api.post(COURSES, json={"items": [course("b")]}, headers={"Idempotency-Key": "k-1"}))
    assert conflict.status_code == 409
    assert conflict.json()["error"]["code"] == "PLATFORM.INPUT_INVALID"
    assert "k-1" in conflict.json()["error"]["message"]
    other = submit(api, [course("a")], headers={"Idempotency-Key": "k-2"})
    assert other != first
    assert count(clean_server, tasks) == 2


def test_idempotency_is_scoped_to_the_integration(clean_server: Server, tenant: Tenant) -> None:
    with clean_server.store.write() as conn:
        from lmsbridge.integrations.service import create_integration

        second = create_integration(conn, clean_server.box, tool="sandbox", environment="default").id
    with (
        clean_server.client(tenant.key, tenant.integration) as one,
        clean_server.client(tenant.key, second) as two,
    ):
        assert submit(one, [course("a")]) != submit(two, [course("a")])


def test_items_listed_in_fail_origin_ids_fail_with_a_remote_error_and_a_working_log_url(
    clean_server: Server,
) -> None:
    tenant = make_tenant(clean_server, fail_origin_ids="bad-1,bad-2")
    with clean_server.client(tenant.key, tenant.integration) as api:
        data = wait(api, submit(api, [course("ok"), course("bad-1"), course("bad-2")]))
        assert data["status"] == "COMPLETED"
        by_origin = {r["origin_id"]: r for r in data["data"]}
        assert by_origin["ok"]["status"] == "SUCCEEDED"
        for origin in ("bad-1", "bad-2"):
            error = by_origin[origin]["error"]
            assert by_origin[origin]["status"] == "FAILED"
            assert error["code"] == "REMOTE.INPUT_INVALID"
            assert error["title"] and origin in error["message"]
        page = httpx.get(by_origin["bad-1"]["error"]["log_url"])
        assert page.status_code == 200
        assert "bad-1" in page.text and "REMOTE.INPUT_INVALID" in page.text
        assert data["progress"] == {"total": 3, "succeeded": 1, "failed": 2, "percent": 100}


def test_failure_rate_fails_the_same_share_of_items_on_every_run(clean_server: Server) -> None:
    tenant = make_tenant(clean_server, failure_rate=0.5)
    with clean_server.client(tenant.key, tenant.integration) as api:
        items = courses(200)
        runs = [wait(api, submit(api, items, headers={"Idempotency-Key": f"run-{n}"})) for n in range(2)]
    failed = [{r["origin_id"] for r in run["data"] if r["status"] == "FAILED"} for run in runs]
    assert 50 < len(failed[0]) < 150
    assert failed[0] == failed[1]
    codes = {r["error"]["code"] for r in runs[0]["data"] if r["status"] == "FAILED"}
    assert codes == {"REMOTE.UNKNOWN_HTTP_ERROR"}


def test_rejected_credentials_fail_the_task_as_a_whole(clean_server: Server) -> None:
    tenant = make_tenant(clean_server, auth_invalid="true")
    with clean_server.client(tenant.key, tenant.integration) as api:
        data = wait(api, submit(api, courses(5)))
    assert data["status"] == "FAILED"
    assert data["error"]["code"] == "INTEGRATION.AUTHENTICATION_INVALID"
    assert data["completed_at"] is not None
    assert "data" not in data
    assert httpx.get(data["error"]["log_url"]).status_code == 200
    assert count(clean_server, sandbox_courses) == 0


def test_an_inactive_integration_fails_the_task_as_a_whole(
    api: httpx.Client, clean_server: Server, tenant: Tenant
) -> None:
    with clean_server.store.write() as conn:  # through the repository: the API sees it at once
        IntegrationRepository(conn).save(tenant.integration, status="INACTIVE")
    data = wait(api, submit(api, courses(2)))
    assert data["status"] == "FAILED"
    assert data["error"]["code"] == "INTEGRATION.INACTIVE"


def test_a_task_past_its_deadline_before_it_ran_fails_as_timed_out(
    api: httpx.Client, clean_server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(clean_server.settings, "task_deadline_seconds", 0.000001)
    data = wait(api, submit(api, courses(3)))
    assert data["status"] == "FAILED"
    assert data["error"]["code"] == "PLATFORM.TASK_TIMED_OUT"


def test_items_not_reached_by_the_deadline_fail_as_timed_out(
    clean_server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(clean_server.settings, "task_deadline_seconds", 1.0)
    tenant = make_tenant(clean_server, latency_ms=25)
    with clean_server.client(tenant.key, tenant.integration) as api:
        data = wait(api, submit(api, courses(200)))
    assert data["status"] == "COMPLETED"
    statuses = [r["status"] for r in data["data"]]
    assert "SUCCEEDED" in statuses and "FAILED" in statuses
    assert {r["error"]["code"] for r in data["data"] if r["status"] == "FAILED"} == {
        "PLATFORM.TASK_TIMED_OUT"
    }
    assert len(data["data"]) == 200


@pytest.mark.parametrize(
    ("item", "field"),
    [
        (
            {"origin_id": "x", "course": {"type": "EXTERNAL", "course_url": "https://e.com/x"}},
            "items[0].course.title",
        ),
        (
            {"origin_id": "x", "course": {"type": "SCORM", "title": "t", "course_url": "https://e.com"}},
            "items[0].course.type",
        ),
        (course("x", duration=0), "items[0].course.duration"),
        (course("x", duration="45"), "items[0].course.duration"),
        (course("x", languages=["english"]), "items[0].course.languages[0]"),
        (
            {"origin_id": "x", "course": {"type": "EXTERNAL", "title": "t", "course_url": "not a url"}},
            "items[0].course.course_url",
        ),
        ({"course": course("x")["course"]}, "items[0].origin_id"),
        ({"origin_id": "", "course": course("x")["course"]}, "items[0].origin_id"),
    ],
)
def test_a_body_that_breaks_the_schema_is_refused_naming_the_field(
    api: httpx.Client, clean_server: Server, item: dict[str, object], field: str
) -> None:
    response = checked(api.post(COURSES, json={"items": [item]}))
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "PLATFORM.INPUT_INVALID"
    assert field in error["message"]
    assert count(clean_server, tasks) == 0


def test_skills_need_a_name_and_a_known_status(api: httpx.Client) -> None:
    response = checked(
        api.post(
            SKILLS,
            json={
                "items": [{"origin_id": "a", "name": ""}, {"origin_id": "b", "name": "x", "status": "GONE"}]
            },
        )
    )
    assert response.status_code == 400
    assert "items[0].name" in response.json()["error"]["message"]
    assert "items[1].status" in response.json()["error"]["message"]


def test_malformed_json_is_refused_and_a_missing_content_type_is_read_as_json(api: httpx.Client) -> None:
    broken = checked(api.post(COURSES, content=b'{"items": [', headers={"Content-Type": "application/json"}))
    assert broken.status_code == 400
    assert "not valid JSON" in broken.json()["error"]["message"]
    untyped = checked(api.post(COURSES, content=json.dumps({"items": [course("a")]}).encode()))
    assert untyped.status_code == 200


def test_no_items_too_many_items_and_repeated_origin_ids_are_refused_before_anything_is_stored(
    api: httpx.Client, clean_server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = checked(api.post(COURSES, json={"items": []}))
    assert empty.status_code == 400
    monkeypatch.setattr(clean_server.settings, "bulk_max_items", 5)
    too_many = checked(api.post(COURSES, json={"items": courses(6)}))
    assert too_many.status_code == 400
    assert "at most 5" in too_many.json()["error"]["message"]
    repeated = checked(api.post(COURSES, json={"items": [course("a"), course("b"), course("a")]}))
    assert repeated.status_code == 400
    assert "'a'" in repeated.json()["error"]["message"]
    assert count(clean_server, tasks) == 0
    assert count(clean_server, task_items) == 0


def test_a_body_over_the_size_limit_answers_413(api: httpx.Client, clean_server: Server) -> None:
    huge = b'{"items": [' + b" " * (clean_server.settings.max_body_bytes + 10) + b"]}"
    response = checked(api.post(COURSES, content=huge, headers={"Content-Type": "application/json"}))
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "PLATFORM.INPUT_INVALID"


def test_a_streamed_body_over_the_size_limit_answers_413(api: httpx.Client, clean_server: Server) -> None:
    def chunks() -> Iterator[bytes]:  # no Content-Length: sent chunked
        yield b'{"items": ['
        for _ in range(clean_server.settings.max_body_bytes // 65536 + 2):
            yield b" " * 65536
        yield b"]}"

    response = api.post(COURSES, content=chunks(), headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "PLATFORM.INPUT_INVALID"


def test_a_task_is_only_visible_through_its_own_endpoint_integration_and_environment(
    api: httpx.Client, clean_server: Server, tenant: Tenant
) -> None:
    task_id = submit(api, [course("a")])
    wait(api, task_id)
    wrong_kind = checked(api.get(f"{SKILLS}/{task_id}"))
    assert wrong_kind.status_code == 404
    unknown = checked(api.get(f"{COURSES}/{'x' * 24}"))
    assert unknown.status_code == 404
    other = make_tenant(clean_server, environment="other")
    with clean_server.client(other.key, other.integration) as stranger:
        assert checked(stranger.get(f"{COURSES}/{task_id}")).status_code == 404
    with clean_server.client(other.key, tenant.integration) as stranger:
        response = checked(stranger.get(f"{COURSES}/{task_id}"))
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "PLATFORM.INTEGRATION_NOT_FOUND"


def test_an_action_the_connector_cannot_do_is_refused_before_a_task_exists(
    clean_server: Server, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lmsbridge.connectors import registry
    from lmsbridge.connectors.base import Capabilities, Coverage, WriteAction
    from lmsbridge.connectors.sandbox.connector import SandboxConnector

    class ReadOnly(SandboxConnector):
        tool = "readonly"
        label = "Read-only LMS"
        capabilities = Capabilities(
            read_models={}, write_actions={WriteAction.UPSERT_COURSES: Coverage.UNSUPPORTED}
        )

    monkeypatch.setitem(registry.CONNECTORS, "readonly", ReadOnly)
    with clean_server.store.write() as conn:
        from lmsbridge.integrations.service import create_integration

        integration = create_integration(conn, clean_server.box, tool="readonly", environment="default").id
    with clean_server.client(tenant.key, integration) as api:
        for path, items in ((COURSES, [course("a")]), (SKILLS, [skill("a")])):
            response = checked(api.post(path, json={"items": items}))
            assert response.status_code == 400
            assert response.json()["error"]["code"] == "INTEGRATION.ACTION_NOT_AVAILABLE"
    assert count(clean_server, tasks) == 0
