"""The battery's tests. Each creates an integration against the pair's remote through the store
(as `integrations create` does), drives it through lmsbridge's HTTP API and checks every answer
against the contract with the module's `contract_check` fixture."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import httpx
import pytest

from lmsbridge.auth.service import create_key
from lmsbridge.connector_runtime import connector_for
from lmsbridge.connectors.base import WriteAction
from lmsbridge.connectors.records import SYNC_MODELS
from lmsbridge.connectors.registry import connector_class
from lmsbridge.integrations.service import create_integration
from lmsbridge.jobs import wake_workers
from lmsbridge.syncs.repository import SyncRepository, SyncRun
from lmsbridge.testing.conformance.pair import ConformancePair

Check = Callable[[httpx.Response], httpx.Response]
COURSES_BULK = "/v1/lms/courses/bulk"
READ_PATHS = {
    "lms_users": "/v1/lms/users",
    "lms_courses": "/v1/lms/courses",
    "lms_course_progressions": "/v1/lms/course-progressions",
    "lms_skills": "/v1/lms/skills",
    "hris_skills": "/v1/hris/skills",
}
TIMEOUT = 60.0


class Harness:
    """One integration of the pair's tool, and an API client scoped to it."""

    def __init__(self, server: Any, check: Check, pair: ConformancePair, scenario: str = "default") -> None:
        settings = pair.settings(scenario)
        credentials = pair.credentials(valid=scenario != "auth_invalid") if settings is not None else None
        if scenario == "auth_invalid" and credentials is None:
            settings, credentials = pair.settings("auth_invalid"), pair.credentials()
        if settings is None:
            pytest.skip(f"{pair.tool}: the remote cannot stage {scenario!r}")
        self.server, self.check, self.pair = server, check, pair
        with server.store.write() as conn:
            key = create_key(conn, name="conformance", environment="default")
            self.integration = create_integration(
                conn,
                server.box,
                tool=pair.tool,
                environment="default",
                settings=settings,
                credentials=credentials or {},
            )
        wake_workers()
        self.api: httpx.Client = server.client(key.secret, self.integration.id)
        self.capabilities = connector_class(pair.tool).capabilities

    def close(self) -> None:
        self.api.close()

    def ok(self, response: httpx.Response) -> dict[str, Any]:
        self.check(response)
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()["data"]
        return data

    def refused(self, response: httpx.Response, status: int, code: str) -> dict[str, Any]:
        self.check(response)
        assert response.status_code == status, response.text
        error: dict[str, Any] = response.json()["error"]
        assert error["code"] == code, error
        return error

    def sync(self, sync_id: str | None = None) -> SyncRun:
        deadline = time.monotonic() + TIMEOUT
        while True:
            with self.server.store.read() as conn:
                repo = SyncRepository(conn)
                if sync_id:
                    run = repo.get_run(sync_id)
                else:
                    runs = repo.latest_runs(self.integration.id, 1)
                    run = runs[0] if runs else None
            if run is not None and run.state not in ("QUEUED", "RUNNING"):
                return run
            assert time.monotonic() < deadline, f"the sync did not end: {run}"
            time.sleep(0.05)

    def force_sync(self, kind: str = "FULL") -> SyncRun:
        sync_id = self.ok(self.api.post("/v1/force-sync", json={"type": kind}))["sync_id"]
        wake_workers()
        return self.sync(sync_id)

    def listed(self, model: str) -> list[dict[str, Any]]:
        results: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            params: dict[str, str | int] = {"page_size": 250, **({"cursor": cursor} if cursor else {})}
            data = self.ok(self.api.get(READ_PATHS[model], params=params))
            results += data["results"]
            cursor = data["next"]
            if cursor is None:
                return results

    def task(self, items: list[dict[str, Any]]) -> dict[str, Any]:
        task_id = self.ok(self.api.post(COURSES_BULK, json={"items": items}))["task_id"]
        wake_workers()
        deadline = time.monotonic() + TIMEOUT
        while True:
            data = self.ok(self.api.get(f"{COURSES_BULK}/{task_id}"))
            if data["status"] != "PENDING":
                return {**data, "task_id": task_id}
            assert time.monotonic() < deadline, f"task {task_id} did not end: {data}"
            time.sleep(0.05)


def course_items(prefix: str, n: int, title: str = "Conformance course") -> list[dict[str, Any]]:
    return [
        {
            "origin_id": f"{prefix}-{i}",
            "course": {
                "type": "EXTERNAL",
                "title": f"{title} {i}",
                "course_url": f"https://content.example.com/{prefix}/{i}",
            },
        }
        for i in range(n)
    ]


class ConformanceBattery:
    """Subclass with `pair = <ConformancePair subclass>`; every test below then runs for it."""

    pair: ClassVar[type[ConformancePair]]

    @pytest.fixture
    def remote(self) -> Iterator[ConformancePair]:
        pair = self.pair()
        pair.start()
        yield pair
        pair.stop()

    @pytest.fixture
    def connect(
        self, lmsbridge_server: Any, contract_check: Check, remote: ConformancePair
    ) -> Iterator[Callable[[str], Harness]]:
        made: list[Harness] = []

        def connect(scenario: str = "default") -> Harness:
            made.append(Harness(lmsbridge_server, contract_check, remote, scenario))
            return made[-1]

        yield connect
        for harness in made:
            harness.close()

    def _require(self, harness: Harness, action: WriteAction) -> None:
        if not harness.capabilities.can(action):
            pytest.skip(f"{harness.pair.tool} does not offer {action.value}")

    # -- credentials ---------------------------------------------------------------------------------
    def test_rejected_credentials_end_in_authentication_invalid(
        self, connect: Callable[[str], Harness]
    ) -> None:
        h = connect("auth_invalid")
        assert h.sync().state == "AUTHENTICATION_FAILED"
        if h.capabilities.can(WriteAction.UPSERT_COURSES):
            task = h.task(course_items("auth", 1))
            assert task["status"] == "FAILED"
            assert "INTEGRATION.AUTHENTICATION_INVALID" in str(task)

    # -- paging --------------------------------------------------------------------------------------
    def test_pagination_ends_and_reads_every_page(self, connect: Callable[[str], Harness]) -> None:
        h = connect("small_pages")
        run = h.sync()
        assert run.state == "SUCCEEDED", run
        users = h.listed("lms_users")
        assert len(users) > h.pair.small_page_size
        assert len({u["remote_id"] for u in users}) == len(users)

    def test_a_remote_that_repeats_a_page_is_caught(self, connect: Callable[[str], Harness]) -> None:
        h = connect("default")
        h.sync()
        if not h.pair.inject("repeat_page"):
            pytest.skip(f"{h.pair.tool}: the remote cannot be made to repeat a page")
        assert h.force_sync().state != "SUCCEEDED"

    # -- rate limits and outages ---------------------------------------------------------------------
    def test_429_with_retry_after_is_paced_and_no_item_is_lost(
        self, connect: Callable[[str], Harness]
    ) -> None:
        h = connect("default")
        h.sync()
        before = len(h.listed("lms_users"))
        if not h.pair.inject("rate_limited"):
            pytest.skip(f"{h.pair.tool}: the remote has no rate limit to inject")
        assert h.force_sync().state == "SUCCEEDED"
        assert len(h.listed("lms_users")) == before

    def test_a_burst_of_5xx_is_ridden_out(self, connect: Callable[[str], Harness]) -> None:
        h = connect("default")
        h.sync()
        if not h.pair.inject("outage_burst"):
            pytest.skip(f"{h.pair.tool}: no HTTP remote to make fail")
        assert h.force_sync().state == "SUCCEEDED"

    def test_a_lasting_outage_ends_in_service_unavailable(
        self, connect: Callable[[str], Harness], remote: ConformancePair
    ) -> None:
        if remote.settings("lasting_outage") is not None:
            h = connect("lasting_outage")
            run = h.sync()
        else:
            h = connect("default")
            h.sync()
            if not remote.inject("lasting_outage"):
                pytest.skip(f"{remote.tool}: the remote cannot be made unavailable")
            run = h.force_sync()
        assert run.state in ("PARTIALLY_FAILED", "FAILED"), run
        if h.capabilities.can(WriteAction.UPSERT_COURSES) and remote.inject("lasting_outage"):
            task = h.task(course_items("down", 2))
            assert "REMOTE.SERVICE_UNAVAILABLE" in str(task), task

    # -- writes --------------------------------------------------------------------------------------
    def test_upserting_the_same_origin_ids_twice_creates_nothing_twice(
        self, connect: Callable[[str], Harness]
    ) -> None:
        h = connect("default")
        self._require(h, WriteAction.UPSERT_COURSES)
        h.sync()
        first = h.task(course_items("twice", 3))
        second = h.task(course_items("twice", 3, title="Renamed course"))
        assert first["status"] == second["status"] == "COMPLETED"
        ids = [[r["data"]["id"] for r in t["data"] if r["status"] == "SUCCEEDED"] for t in (first, second)]
        assert sorted(ids[0]) == sorted(ids[1]) and len(ids[0]) == 3
        h.force_sync()
        origins = [
            c["origin_id"] for c in h.listed("lms_courses") if (c.get("origin_id") or "").startswith("twice-")
        ]
        assert sorted(origins) == ["twice-0", "twice-1", "twice-2"]

    def test_a_dropped_answer_after_a_create_is_found_again(self, connect: Callable[[str], Harness]) -> None:
        h = connect("default")
        self._require(h, WriteAction.UPSERT_COURSES)
        h.sync()
        if not h.pair.inject("drop_after_create"):
            pytest.skip(f"{h.pair.tool}: no HTTP answer to drop")
        task = h.task(course_items("dropped", 1))
        assert task["status"] == "COMPLETED"
        h.force_sync()
        origins = [c["origin_id"] for c in h.listed("lms_courses") if c.get("origin_id") == "dropped-0"]
        assert origins == ["dropped-0"]

    # -- secrets -------------------------------------------------------------------------------------
    def test_no_secret_reaches_logs_or_log_pages(
        self, connect: Callable[[str], Harness], caplog: pytest.LogCaptureFixture
    ) -> None:
        caplog.set_level(logging.DEBUG, logger="lmsbridge")
        h = connect("default")
        run = h.sync()
        pages = [httpx.get(f"{h.server.url}/logs/syncs/{run.id}", timeout=30)]
        if h.capabilities.can(WriteAction.UPSERT_COURSES):
            task = h.task(course_items("secret", 1))
            pages.append(httpx.get(f"{h.server.url}/logs/tasks/{task['task_id']}", timeout=30))
        secret = h.pair.secret
        assert all(page.status_code == 200 and secret not in page.text for page in pages)
        assert secret not in caplog.text

    # -- capabilities --------------------------------------------------------------------------------
    def test_every_declared_read_model_reads_and_the_others_are_refused(
        self, connect: Callable[[str], Harness]
    ) -> None:
        h = connect("default")
        assert h.sync().state == "SUCCEEDED"
        for model, path in READ_PATHS.items():
            response = h.api.get(path)
            if h.capabilities.reads(model):
                h.ok(response)
            else:
                h.refused(response, 400, "INTEGRATION.MODEL_NOT_AVAILABLE")

    def test_every_declared_action_works_and_the_others_are_refused(
        self, connect: Callable[[str], Harness]
    ) -> None:
        h = connect("default")
        h.sync()
        caps = h.capabilities
        for action, path, items in (  # well-formed items: the refusal, not validation, answers
            (WriteAction.UPSERT_COURSES, COURSES_BULK, course_items("x", 1)),
            (WriteAction.UPSERT_SKILLS, "/v1/hris/skills/bulk", [{"origin_id": "x", "name": "x"}]),
        ):
            if not caps.can(action):
                h.refused(
                    h.api.post(path, json={"items": items}),
                    400,
                    "INTEGRATION.ACTION_NOT_AVAILABLE",
                )
        users, courses = h.listed("lms_users"), h.listed("lms_courses")
        user, course = users[0], courses[0]
        revision = course["revisions"][0]
        enrol = h.api.post(
            "/v1/lms/course-progressions", json={"user_id": user["id"], "course_revision_id": revision["id"]}
        )
        if not caps.can(WriteAction.ENROL):
            h.refused(enrol, 400, "INTEGRATION.ACTION_NOT_AVAILABLE")
            progression_id = "remote:none"
        else:
            progression_id = h.ok(enrol)["id"]
        complete = h.api.post(f"/v1/lms/course-progressions/{progression_id}/complete", json={})
        if caps.can(WriteAction.COMPLETE) and caps.can(WriteAction.ENROL):
            assert complete.status_code in (200, 400), complete.text  # a remote may need tracking first
            h.check(complete)
        elif not caps.can(WriteAction.COMPLETE):
            h.refused(complete, 400, "INTEGRATION.ACTION_NOT_AVAILABLE")
        deactivate = h.api.post(f"/v1/lms/courses/{course['id']}/deactivate")
        if caps.can(WriteAction.DEACTIVATE_COURSE):
            h.ok(deactivate)
        else:
            h.refused(deactivate, 400, "INTEGRATION.ACTION_NOT_AVAILABLE")

    # -- delta ---------------------------------------------------------------------------------------
    def test_a_delta_sync_honours_since(self, connect: Callable[[str], Harness]) -> None:
        h = connect("default")
        if not h.capabilities.supports_delta:
            pytest.skip(f"{h.pair.tool} has no change filter: every sync is full")
        first = h.sync()
        assert first.state == "SUCCEEDED"
        if not h.pair.change_remote(h.integration.id, h.server.store):
            pytest.skip(f"{h.pair.tool}: the remote cannot be changed from a test")
        delta = h.force_sync("DELTA")
        assert delta.state == "SUCCEEDED" and delta.type == "DELTA", delta
        changed = sum(c["added"] + c["updated"] for c in delta.counts.values())
        assert changed > 0, delta.counts
        # The delta reads back a minute (clock skew), so a fresh remote reads whole; asking the
        # connector itself for what changed after now proves the remote filter is applied.
        connector = connector_for(h.server.store, h.server.box, h.integration)
        later = datetime.now(UTC) + timedelta(hours=1)
        filtered = {s.model for s in connector_class(h.pair.tool).streams if s.supports_since}
        for model in (m for m in SYNC_MODELS if h.capabilities.reads(m) and m in filtered):
            assert [r for page in connector.read(model, later) for r in page] == [], model
