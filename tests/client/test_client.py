"""`lmsbridge.client` against the real app over HTTP (the session's uvicorn server and worker):
every endpoint, typed records, paging, waiting on tasks and syncs, the error classes, and retries
and idempotency under faults injected in front of the real app."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from lmsbridge.client import (
    APIConnectionError,
    AsyncClient,
    AuthenticationError,
    Client,
    Course,
    CourseInput,
    CourseProgression,
    InputInvalidError,
    IntegrationError,
    ItemFailed,
    ItemSucceeded,
    NotFoundError,
    RateLimitError,
    RetryPolicy,
    ServerError,
    SkillInput,
    Task,
    TaskCompleted,
    TaskPending,
    Tool,
    User,
    WaitTimeoutError,
)
from lmsbridge.client.errors import RemoteError, error_for
from lmsbridge.db.tables import tasks
from tests.client.helpers import FaultInjector, course, synced
from tests.conftest import Server, free_port, make_tenant, running
from tests.waiting import wait_until

FAST = RetryPolicy(max_retries=3, initial_delay=0.01, max_delay=0.05)


def recording(client: Client) -> list[float]:
    """Make the client record (and still take) each backoff delay."""
    delays: list[float] = []

    def sleep(seconds: float) -> None:
        delays.append(seconds)
        time.sleep(seconds)

    client._sleep = sleep
    return delays


def test_check_api_key_and_integration(live: Server) -> None:
    tenant = make_tenant(live)
    with Client(live.url, tenant.key, tenant.integration) as client:
        assert client.check_api_key().environment_id == tenant.environment_id
        integration = client.integrations.get()
        assert integration.id == tenant.integration
        # The tool is the wire's object, as a Kombo user reads it.
        assert isinstance(integration.tool, Tool)
        assert integration.tool.id == "sandbox" and integration.tool.label == "Sandbox"
        assert integration.status == "ACTIVE"
        assert integration.raw["tool"]["id"] == "sandbox"
        assert {m.id for m in integration.read_models} >= {"lms_users", "lms_courses"}
        users = next(m for m in integration.read_models if m.id == "lms_users")
        assert users.is_available and users.coverage_status == "SUPPORTED" and users.label == "Users"
        assert isinstance(integration.created_at, datetime)


def test_reads_return_typed_records_across_many_pages_re_sending_the_filters(live: Server) -> None:
    tenant = synced(live, users=260, courses=30, progressions=120)
    with Client(live.url, tenant.key, tenant.integration) as client:
        pager = client.users.list(page_size=50)
        pages = list(pager.pages())
        assert [len(p.results) for p in pages] == [50, 50, 50, 50, 50, 10]
        assert pages[-1].next is None
        users = [u for p in pages for u in p.results]
        assert all(isinstance(u, User) for u in users)
        assert len({u.id for u in users}) == 260
        assert isinstance(users[0].changed_at, datetime)
        # Iterating the pager itself pages on demand: only what is consumed is fetched.
        first_three = []
        for user in client.users.list(page_size=2):
            first_three.append(user)
            if len(first_three) == 3:
                break
        assert [u.id for u in first_three] == [u.id for u in users[:3]]
        # Filters go with every page's cursor (the server refuses a cursor sent with other filters).
        emails = [u.work_email for u in users[:5] if u.work_email]
        assert len(emails) == 5
        filtered = list(client.users.list(page_size=2, work_emails=emails))
        assert sorted(u.work_email or "" for u in filtered) == sorted(emails)

        courses = list(client.courses.list(page_size=7))
        assert len(courses) == 30
        assert all(isinstance(c, Course) and c.revisions for c in courses)
        assert courses[0].title == courses[0].revisions[-1].title
        progressions = list(client.progressions.list(page_size=25))
        assert len(progressions) == 120
        assert all(isinstance(p, CourseProgression) for p in progressions)
        user_id = progressions[0].user_id
        assert {p.user_id for p in client.progressions.list(user_ids=[user_id], page_size=1)} == {user_id}
        assert list(client.skills.list())
        assert list(client.hris_skills.list())
        assert list(client.users.list(updated_after=datetime.now(UTC) + timedelta(days=1))) == []


def test_async_client_pages_and_calls_like_the_sync_one(live: Server) -> None:
    tenant = synced(live, users=260)

    async def main() -> tuple[int, int, str, Task]:
        async with AsyncClient(live.url, tenant.key, tenant.integration) as client:
            users = await client.users.list(page_size=100).to_list()
            pages = [p async for p in client.users.list(page_size=100).pages()]
            env = (await client.check_api_key()).environment_id
            created = await client.courses.bulk_upsert([CourseInput("a-1", "A", "https://x.example/a")])
            task = await client.tasks.wait(created.task_id, timeout=60)
            return len(users), len(pages), env, task

    count, pages, env, task = asyncio.run(main())
    assert (count, pages, env) == (260, 3, tenant.environment_id)
    assert isinstance(task, TaskCompleted)
    assert isinstance(task.data[0], ItemSucceeded)


def test_wait_polls_a_slow_task_to_its_end_and_gives_up_at_its_timeout(live: Server) -> None:
    tenant = make_tenant(live, latency_ms=40, fail_origin_ids="slow-3")
    with Client(live.url, tenant.key, tenant.integration) as client:
        items = [
            CourseInput(f"slow-{i}", f"Slow {i}", f"https://x.example/{i}", duration=30) for i in range(40)
        ]
        created = client.courses.bulk_upsert(items)
        seen: list[Task] = []
        with pytest.raises(WaitTimeoutError) as timed_out:
            client.tasks.wait(created.task_id, timeout=0.3)
        last = timed_out.value.last
        assert isinstance(last, TaskPending) and last.status == "PENDING" and not last.finished
        assert last.data is None and last.error is None and last.failed_items == []
        assert last.completed_at is None and isinstance(last.created_at, datetime)
        task = client.tasks.wait(created.task_id, timeout=60, on_progress=seen.append)
    assert isinstance(task, TaskCompleted) and task.finished and task.error is None
    assert task.progress.total == 40 and task.progress.failed == 1 and task.progress.done == 40
    assert any(t.status == "PENDING" for t in seen), "the task finished before the first poll"
    assert [t.progress.percent for t in seen if t.progress] == sorted(
        t.progress.percent for t in seen if t.progress
    )
    [failed] = task.failed_items
    assert failed.origin_id == "slow-3"
    assert isinstance(failed, ItemFailed) and failed.error.code == "REMOTE.INPUT_INVALID"
    assert failed.error.log_url
    assert len(task.succeeded_items) == 39 and len(task.data) == 40
    # Course tasks echo the id as course_id (DESIGN.md section 5).
    assert all(item.data.id and item.data.course_id == item.data.id for item in task.succeeded_items)


def test_a_content_provider_run_end_to_end(live: Server) -> None:
    """The flow of docs/client.md: read users, upsert courses, enrol, complete, then read the
    progressions changed since the start of the previous run."""
    tenant = synced(live, users=20, courses=5, progressions=10)
    previous_run_started = datetime.now(UTC)
    with Client(live.url, tenant.key, tenant.integration) as client:
        users = list(client.users.list())
        created = client.courses.bulk_upsert(
            [CourseInput("intro-101", "Intro", "https://content.example.com/intro-101", languages=["en"])]
        )
        task = client.tasks.wait(created.task_id, timeout=60)
        assert task.status == "COMPLETED" and not task.failed_items
        [ours] = [c for c in client.courses.list() if c.origin_id == "intro-101"]
        assert [item.data.id for item in task.succeeded_items] == [ours.id]
        enrolled = client.progressions.enrol(users[0].id, ours.revisions[-1].id)
        assert enrolled.user_id == users[0].id
        done = client.progressions.complete(enrolled.id, completed_at="2026-01-05", score=90)
        assert done.status == "COMPLETED" and done.completed_at is not None
        changed = list(client.progressions.list(updated_after=previous_run_started))
        assert done.id in {p.id for p in changed}
        deactivated = client.courses.deactivate(ours.id)
        assert deactivated.id == ours.id
        skills = client.skills.bulk_upsert([SkillInput("py", "Python")])
        skill_task = client.tasks.wait(skills.task_id, "skills", timeout=60)
        assert isinstance(skill_task, TaskCompleted)
        [written] = skill_task.succeeded_items
        assert written.origin_id == "py" and written.data.id and written.data.course_id is None


def test_force_sync_and_wait_for_it(live: Server) -> None:
    tenant = synced(live, users=10)
    with Client(live.url, tenant.key, tenant.integration) as client:
        requested = client.force_sync("DELTA")
        run = client.syncs.wait(requested.sync_id, timeout=60)
        assert run.sync_id == requested.sync_id
        assert run.state == "SUCCEEDED" and run.finished and run.ended_at is not None
        with pytest.raises(NotFoundError):
            client.syncs.get("no-such-sync")
    other = make_tenant(live)
    with Client(live.url, other.key, other.integration) as client, pytest.raises(NotFoundError):
        client.syncs.get(requested.sync_id)  # another tenant's sync does not exist for it


def test_error_answers_raise_one_class_per_family_with_the_envelope(live: Server) -> None:
    tenant = make_tenant(live)
    with (
        Client(live.url, "lmsb_not_a_key", tenant.integration) as client,
        pytest.raises(AuthenticationError) as auth,
    ):
        client.check_api_key()
    assert auth.value.status_code == 401
    assert auth.value.code == "PLATFORM.AUTHENTICATION_INVALID"
    assert auth.value.title and auth.value.message and auth.value.log_url
    with (
        Client(live.url, tenant.key, "no-such-integration") as client,
        pytest.raises(NotFoundError) as missing,
    ):
        client.users.list().pages().__next__()
    assert missing.value.code == "PLATFORM.INTEGRATION_NOT_FOUND"
    with Client(live.url, tenant.key, tenant.integration) as client:
        with pytest.raises(InputInvalidError) as invalid:
            client.courses.bulk_upsert([course("x", duration="45")])
        assert "duration" in invalid.value.message
        with pytest.raises(NotFoundError):
            client.tasks.get("no-such-task")
    broken = make_tenant(live, auth_invalid=True)

    def refusal() -> IntegrationError | None:
        with (
            Client(live.url, broken.key, broken.integration) as client,
            pytest.raises(IntegrationError) as pending,
        ):
            list(client.users.list())
        # SETUP_SYNC_PENDING until the worker has run the first sync.
        return None if pending.value.code == "INTEGRATION.SETUP_SYNC_PENDING" else pending.value

    # The first sync failed on the credentials: the answer says so (not "wait").
    refused = wait_until(refusal, timeout=30, message="the first sync never failed on the credentials")
    assert refused.code == "INTEGRATION.AUTHENTICATION_INVALID"
    assert refused.status_code == 409


def test_error_for_maps_every_family() -> None:
    def body(code: str | None) -> dict[str, Any]:
        return {"status": "error", "error": {"code": code, "title": "t", "message": "m", "log_url": "u"}}

    assert type(error_for(429, body("REMOTE.RATE_LIMIT_EXCEEDED"), {})) is RateLimitError
    assert type(error_for(502, body("REMOTE.UNKNOWN_HTTP_ERROR"), {})) is RemoteError
    assert type(error_for(400, body("REMOTE.INPUT_INVALID"), {})) is RemoteError
    assert type(error_for(403, body("INTEGRATION.AUTHENTICATION_INVALID"), {})) is IntegrationError
    assert type(error_for(409, body("PLATFORM.INPUT_INVALID"), {})) is InputInvalidError
    assert type(error_for(404, body(None), {})) is NotFoundError
    assert type(error_for(500, body("PLATFORM.UNKNOWN_ERROR"), {})) is ServerError
    assert type(error_for(502, "<html>bad gateway</html>", {})) is ServerError
    limited = error_for(429, body("PLATFORM.CONCURRENCY_LIMIT_EXCEEDED"), {"retry-after": "3"})
    assert isinstance(limited, RateLimitError) and limited.retry_after == 3.0


def test_429_and_503_are_retried_with_backoff_honouring_retry_after(live: Server) -> None:
    tenant = make_tenant(live)
    # Fault injection in front of the real app: two 429s then a 503, then the real answer.
    injector = FaultInjector(live.app, [429, 429, 503], retry_after="1")
    with running(injector) as url, Client(url, tenant.key, tenant.integration, retry=FAST) as client:
        delays = recording(client)
        started = time.monotonic()
        assert client.check_api_key().environment_id == tenant.environment_id
        elapsed = time.monotonic() - started
    assert injector.injected == 3 and len(injector.seen) == 4
    assert len(delays) == 3
    assert all(d >= 1.0 for d in delays), delays  # Retry-After: 1 beats the 10 ms backoff
    assert elapsed >= 3.0


def test_backoff_grows_exponentially_with_jitter_when_no_retry_after() -> None:
    policy = RetryPolicy(max_retries=5, initial_delay=0.1, max_delay=0.5)
    for attempt, ceiling in enumerate([0.1, 0.2, 0.4, 0.5, 0.5]):
        samples = [policy.delay(attempt) for _ in range(200)]
        assert all(ceiling / 2 <= s <= ceiling for s in samples)
        assert len(set(samples)) > 1  # jitter
    assert policy.delay(0, retry_after=2.0) == 2.0
    assert policy.delay(0, retry_after=10_000) == policy.max_retry_after


def test_retries_give_up_after_max_retries_with_the_last_error(live: Server) -> None:
    tenant = make_tenant(live)
    # Fault injection in front of the real app: more 429s than the client retries.
    injector = FaultInjector(live.app, [429] * 5, retry_after="0")
    with (
        running(injector) as url,
        Client(url, tenant.key, tenant.integration, retry=FAST) as client,
        pytest.raises(RateLimitError) as limited,
    ):
        client.check_api_key()
    assert limited.value.retry_after == 0.0
    assert injector.injected == 4  # one try and three retries


def test_connection_errors_are_retried_then_raised() -> None:
    port = free_port()  # nothing listens there
    with Client(f"http://127.0.0.1:{port}", "k", "i", retry=FAST) as client:
        delays = recording(client)
        with pytest.raises(APIConnectionError):
            client.check_api_key()
    assert len(delays) == 3


def test_a_retried_bulk_submit_makes_one_task(live: Server) -> None:
    tenant = make_tenant(live)
    # Fault injection in front of the real app: the first submit reaches the app and creates its
    # task, but its answer is replaced by a 503, as when a response is lost; the retry must not
    # make a second task.
    injector = FaultInjector(live.app, [503], forward=True)
    with running(injector) as url, Client(url, tenant.key, tenant.integration, retry=FAST) as client:
        created = client.courses.bulk_upsert([course("once-1"), course("once-2")])
        task = client.tasks.wait(created.task_id, timeout=60)
        # A submit naming the same key again (e.g. after a crash) also returns that task.
        keys = [h["idempotency-key"] for h in injector.seen if "idempotency-key" in h]
        again = client.courses.bulk_upsert([course("once-1"), course("once-2")], idempotency_key=keys[0])
    assert len(keys) == 2 and keys[0] == keys[1]  # one key per logical submit, reused by its retry
    assert any("existing" in w.lower() or "already" in w.lower() for w in created.warnings), created.warnings
    assert again.task_id == created.task_id
    with live.store.read() as conn:
        count = conn.scalar(
            select(func.count()).select_from(tasks).where(tasks.c.integration_id == tenant.integration)
        )
    assert count == 1
    assert task.status == "COMPLETED"


def test_the_async_client_retries_and_reuses_its_idempotency_key(live: Server) -> None:
    tenant = make_tenant(live)
    # Fault injection in front of the real app: a 429, then a lost answer (the app handled it).
    injector = FaultInjector(live.app, [429, 503], forward=False, retry_after="0")

    async def main() -> Task:
        async with AsyncClient(url, tenant.key, tenant.integration, retry=FAST) as client:
            created = await client.courses.bulk_upsert([course("async-1")])
            return await client.tasks.wait(created.task_id, timeout=60)

    with running(injector) as url:
        task = asyncio.run(main())
    keys = [h.get("idempotency-key") for h in injector.seen if h.get("idempotency-key")]
    assert len(keys) == 3 and len(set(keys)) == 1
    assert task.status == "COMPLETED"
    with live.store.read() as conn:
        count = conn.scalar(
            select(func.count()).select_from(tasks).where(tasks.c.integration_id == tenant.integration)
        )
    assert count == 1


def test_the_servers_own_rate_limit_is_ridden_out_with_retry_after(live: Server) -> None:
    """No injection here: a second real app on the session's store with a small per-key limit."""
    from lmsbridge.app import create_app

    tenant = make_tenant(live)
    app = create_app(live.store, live.settings.model_copy(update={"rate_limit_per_minute": 60}))
    with running(app) as url, Client(url, tenant.key, tenant.integration, retry=FAST) as client:
        delays = recording(client)
        for _ in range(64):
            client.check_api_key()
    assert delays, "the limit was never reached"
    assert all(d >= 0.5 for d in delays), delays  # Retry-After (about 1 s a token), not the 10 ms backoff


def test_filters_are_encoded_as_the_api_reads_them() -> None:
    from lmsbridge.client._base import list_params

    params = list_params(
        {
            "updated_after": "2026-01-02T03:04:05.123456+02:00",
            "include_deleted": True,
            "ids": ["a", "b"],
            "page_size": 5,
            "cursor": None,
        }
    )
    assert params == {
        "updated_after": "2026-01-02T01:04:05.123Z",
        "include_deleted": "true",
        "ids": "a,b",
        "page_size": "5",
    }
    assert list_params({"updated_after": datetime(2026, 1, 2)})["updated_after"] == "2026-01-02T00:00:00.000Z"
    assert list_params({"updated_after": "2026-01-02"})["updated_after"] == "2026-01-02"
