"""The synced reads through HTTP: GET /lms/users, /lms/courses, /lms/course-progressions,
/lms/skills and /hris/skills, on the Sandbox: the first sync, filters, pages and cursors,
`updated_after` with each endpoint's nesting rules, `include_deleted`,
`ignore_unsupported_filters`, reads after bulk writes, tenant isolation, and paging while the
data changes underneath."""

from __future__ import annotations

import math
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any, ClassVar

import httpx
import pytest

from lmsbridge.connectors import registry
from lmsbridge.connectors.base import Capabilities, Coverage, ModelCoverage
from lmsbridge.connectors.records import Record
from lmsbridge.connectors.sandbox.connector import SandboxConnector
from lmsbridge.integrations.service import create_integration
from lmsbridge.sandbox.generator import SandboxSize
from lmsbridge.sandbox.repository import SandboxStateRepository
from tests.api.helpers import COURSES as COURSES_BULK
from tests.api.helpers import SKILLS as SKILLS_BULK
from tests.api.helpers import course, skill, submit, wait
from tests.conftest import Server, Tenant, make_tenant
from tests.contract import checked
from tests.reads.helpers import (
    COURSES,
    HRIS_SKILLS,
    LMS_SKILLS,
    PROGRESSIONS,
    READ_PATHS,
    USERS,
    error_of,
    every,
    ids,
    page,
    remote_ids,
    request_sync,
    sandbox_edit,
    sandbox_get,
    sandbox_put,
    sandbox_remove,
    set_settings,
    setup_status,
    sync_now,
    sync_runs_of,
    wait_first_sync,
    wait_idle,
    walk,
    wire_now,
)
from tests.waiting import wait_until

Synced = Callable[..., tuple[Tenant, httpx.Client]]

BIG: dict[str, Any] = {"users": 260, "courses": 30, "progressions": 600}
# What the Sandbox generates for BIG (generator.py): every record by its remote id.
BIG_REMOTE_IDS = {
    USERS: {f"user-{i}" for i in range(260)},
    COURSES: {f"course-{i}" for i in range(30)},
    PROGRESSIONS: {f"prog-{k}" for k in range(600)},
    LMS_SKILLS: {f"skill-{i}" for i in range(7)},
    HRIS_SKILLS: {f"hskill-{i}" for i in range(3)},
}


@pytest.fixture(scope="module")
def big(server: Server) -> Iterator[httpx.Client]:
    """A client of one Sandbox of BIG size whose first sync completed; tests only read it."""
    tenant = make_tenant(server, **BIG)
    with server.client(tenant.key, tenant.integration) as api:
        wait_first_sync(api, tenant.integration)
        yield api


@pytest.fixture
def synced(server: Server) -> Iterator[Synced]:
    """Makes a Sandbox tenant with the given settings and waits for its first sync."""
    clients: list[httpx.Client] = []

    def make(**settings: Any) -> tuple[Tenant, httpx.Client]:
        tenant = make_tenant(server, **settings)
        api = server.client(tenant.key, tenant.integration)
        clients.append(api)
        wait_first_sync(api, tenant.integration)
        return tenant, api

    yield make
    for api in clients:
        api.close()


def by_remote_id(api: httpx.Client, path: str, remote_id: str, **params: Any) -> dict[str, Any]:
    results = page(api, path, remote_ids=remote_id, **params)["results"]
    assert len(results) == 1, f"{path} has {len(results)} records with remote id {remote_id}"
    record: dict[str, Any] = results[0]
    return record


def changed_since(api: httpx.Client, path: str, moment: str, **params: Any) -> set[str]:
    """Remote ids of the records a poll with updated_after=moment returns."""
    return remote_ids(every(api, path, updated_after=moment, **params))


# -- before the first sync -------------------------------------------------------------------------
def test_every_read_answers_409_naming_the_rejected_credentials_until_a_first_sync_succeeds(
    server: Server,
) -> None:
    tenant = make_tenant(server, auth_invalid=True)
    with server.client(tenant.key, tenant.integration) as api:
        wait_idle(server, tenant.integration)
        assert sync_runs_of(server, tenant.integration) == ["AUTHENTICATION_FAILED"]
        assert setup_status(api, tenant.integration) == "FINAL_SYNC_PENDING"
        for path in READ_PATHS:
            error = error_of(api.get(path), 409)
            assert error["code"] == "INTEGRATION.AUTHENTICATION_INVALID"
            assert "first sync" in error["message"] and "credentials" in error["message"]
        set_settings(server, tenant.integration, auth_invalid=False)
        assert sync_now(server, api) == "SUCCEEDED"
        assert setup_status(api, tenant.integration) == "COMPLETED"
        for path in READ_PATHS:
            assert page(api, path)["results"]


class HeldSandbox(SandboxConnector):
    """A Sandbox whose sync reads wait until the test releases them (at most 30 s)."""

    tool = "held"
    label = "Held Sandbox"
    release: ClassVar[threading.Event] = threading.Event()

    def read(self, model: str, since: datetime | None) -> Iterator[Sequence[Record]]:
        self.release.wait(30)
        yield from super().read(model, since)


def test_every_read_answers_409_setup_sync_pending_while_the_first_sync_runs(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(registry.CONNECTORS, "held", HeldSandbox)
    monkeypatch.setattr(HeldSandbox, "release", threading.Event())
    tenant = make_tenant(server)  # for its key
    with server.store.write() as conn:
        integration = create_integration(conn, server.box, tool="held", environment="default").id
    try:
        with server.client(tenant.key, integration) as api:
            wait_until(
                lambda: sync_runs_of(server, integration) == ["RUNNING"],
                timeout=30,
                message="the first sync did not start",
                interval=0.02,
            )
            assert setup_status(api, integration) == "FINAL_SYNC_PENDING"
            for path in READ_PATHS:
                assert error_of(api.get(path), 409)["code"] == "INTEGRATION.SETUP_SYNC_PENDING"
            HeldSandbox.release.set()
            wait_first_sync(api, integration)
            for path in READ_PATHS:
                assert page(api, path)["results"]
    finally:
        HeldSandbox.release.set()
        wait_idle(server, integration)


# -- filters ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", READ_PATHS)
def test_ids_and_remote_ids_filter_or_within_a_list_and_and_across_filters(
    big: httpx.Client, path: str
) -> None:
    a, b, c = page(big, path, page_size=3)["results"]
    assert ids(page(big, path, ids=f"{a['id']},{b['id']}")["results"]) == {a["id"], b["id"]}
    assert ids(page(big, path, ids=f" {a['id']} , {c['id']} ")["results"]) == {a["id"], c["id"]}
    assert ids(page(big, path, remote_ids=f"{b['remote_id']},{c['remote_id']}")["results"]) == {
        b["id"],
        c["id"],
    }
    both = page(big, path, ids=f"{a['id']},{b['id']}", remote_ids=f"{b['remote_id']},{c['remote_id']}")
    assert ids(both["results"]) == {b["id"]}
    disjoint = page(big, path, ids=a["id"], remote_ids=c["remote_id"])
    assert disjoint == {"next": None, "results": []}


@pytest.mark.parametrize("path", READ_PATHS)
def test_filters_that_match_nothing_answer_an_empty_last_page(big: httpx.Client, path: str) -> None:
    assert page(big, path, ids="x" * 24) == {"next": None, "results": []}
    assert page(big, path, remote_ids="no-such-record") == {"next": None, "results": []}


def test_work_emails_match_case_insensitively_and_combine_with_other_filters(big: httpx.Client) -> None:
    a, b, c = page(big, USERS, page_size=3)["results"]
    emails = f"{a['work_email'].upper()},{b['work_email'].title()}"
    assert ids(page(big, USERS, work_emails=emails)["results"]) == {a["id"], b["id"]}
    assert ids(page(big, USERS, work_emails=emails, ids=f"{b['id']},{c['id']}")["results"]) == {b["id"]}
    assert page(big, USERS, work_emails="nobody@example.com") == {"next": None, "results": []}
    assert page(big, USERS, work_emails=a["work_email"], remote_ids=c["remote_id"])["results"] == []


def test_progressions_filter_by_any_of_the_users_and_any_of_the_courses(big: httpx.Client) -> None:
    everything = every(big, PROGRESSIONS)
    users = sorted({p["user_id"] for p in everything})[:2]
    by_users = {p["id"] for p in everything if p["user_id"] in users}
    assert ids(every(big, PROGRESSIONS, user_ids=",".join(users))) == by_users
    course_of = {p["id"]: p["course_revision"]["course"]["id"] for p in everything}
    first_course = by_remote_id(big, COURSES, "course-0")  # two revisions
    courses = [first_course["id"], course_of[everything[0]["id"]]]
    by_courses = {pid for pid, cid in course_of.items() if cid in courses}
    assert ids(every(big, PROGRESSIONS, course_ids=",".join(courses))) == by_courses
    revisions_of_first = {
        p["course_revision_id"] for p in everything if course_of[p["id"]] == first_course["id"]
    }
    assert revisions_of_first == {r["id"] for r in first_course["revisions"]}, (
        "course_ids matches the progressions of every revision of the course"
    )
    both = every(big, PROGRESSIONS, user_ids=",".join(users), course_ids=",".join(courses))
    assert ids(both) == by_users & by_courses
    some_user = next(p for p in everything if p["id"] in by_users)
    assert ids(every(big, PROGRESSIONS, user_ids=",".join(users), ids=some_user["id"])) == {some_user["id"]}
    assert every(big, PROGRESSIONS, user_ids="x" * 24) == []


def test_hris_skills_name_contains_is_one_case_insensitive_literal_substring(synced: Synced) -> None:
    _, api = synced()
    names = ["100% Focus", "snake_case thinking", "Reading, writing", "Back\\slash"]
    items = [skill(f"s-{i}", name) for i, name in enumerate(names)]
    task = wait(api, submit(api, items, SKILLS_BULK), SKILLS_BULK)
    assert task["status"] == "COMPLETED"

    def named(fragment: str, **params: Any) -> set[str]:
        return {s["name"] for s in page(api, HRIS_SKILLS, name_contains=fragment, **params)["results"]}

    assert named("PROFICIENCY") == {"Security proficiency", "Privacy proficiency", "Leadership proficiency"}
    assert named("privacy") == {"Privacy proficiency"}
    assert named("%") == {"100% Focus"}
    assert named("_") == {"snake_case thinking"}
    assert named("\\") == {"Back\\slash"}
    assert named("g, w") == {"Reading, writing"}, "a comma is part of the fragment, not a list"
    assert named("zzz") == set()
    privacy = page(api, HRIS_SKILLS, name_contains="privacy")["results"][0]
    assert named("proficiency", ids=privacy["id"]) == {"Privacy proficiency"}
    assert named("proficiency", remote_ids="hskill-0") == {"Security proficiency"}


# -- pages -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("path", "page_size"),
    [
        (USERS, 1),
        (USERS, 100),
        (USERS, 250),
        (PROGRESSIONS, 100),
        (PROGRESSIONS, 250),
        (COURSES, 7),
        (LMS_SKILLS, 2),
        (HRIS_SKILLS, 1),
    ],
)
def test_walking_every_page_returns_every_record_exactly_once(
    big: httpx.Client, path: str, page_size: int
) -> None:
    pages = walk(big, path, page_size=page_size)
    expected = BIG_REMOTE_IDS[path]
    assert len(pages) == math.ceil(len(expected) / page_size)
    assert all(len(records) == page_size for records in pages[:-1])
    assert 1 <= len(pages[-1]) <= page_size
    records = [r for records in pages for r in records]
    assert not [i for i, n in Counter(r["id"] for r in records).items() if n > 1]
    assert remote_ids(records) == expected


def test_the_default_page_size_is_100(big: httpx.Client) -> None:
    data = page(big, USERS)
    assert len(data["results"]) == 100
    assert data["next"] is not None


def test_a_listing_that_ends_on_a_page_boundary_has_no_empty_last_page(big: httpx.Client) -> None:
    four = page(big, USERS, page_size=4)["results"]
    wanted = ",".join(r["id"] for r in four)
    whole = page(big, USERS, page_size=4, ids=wanted)
    assert len(whole["results"]) == 4 and whole["next"] is None
    pages = walk(big, USERS, page_size=2, ids=wanted)
    assert [len(p) for p in pages] == [2, 2]


def test_the_page_size_may_change_from_one_page_to_the_next(big: httpx.Client) -> None:
    first = page(big, USERS, page_size=10)
    second = page(big, USERS, page_size=25, cursor=first["next"])
    assert [r["id"] for r in first["results"] + second["results"]] == [
        r["id"] for r in page(big, USERS, page_size=35)["results"]
    ]


@pytest.mark.parametrize("value", ["0", "251", "abc", "-1", "1.5", "", "²"])
def test_a_page_size_outside_1_to_250_is_refused(big: httpx.Client, value: str) -> None:
    for path in (USERS, PROGRESSIONS):
        error = error_of(big.get(path, params={"page_size": value}), 400)
        assert error["code"] == "PLATFORM.INPUT_INVALID"
        assert "page_size" in error["message"]


# -- cursors ---------------------------------------------------------------------------------------
def test_a_cursor_sent_with_other_filters_is_refused(big: httpx.Client) -> None:
    cursor = page(big, USERS, page_size=5)["next"]
    some = page(big, USERS, page_size=5)["results"][0]
    for other in (
        {"ids": some["id"]},
        {"work_emails": some["work_email"]},
        {"updated_after": "2024-01-01"},
        {"include_deleted": "true"},
        {"ignore_unsupported_filters": "true"},
    ):
        error = error_of(big.get(USERS, params={"cursor": cursor, "page_size": 5, **other}), 400)
        assert error["code"] == "PLATFORM.INPUT_INVALID"
        assert "filters" in error["message"]
    filtered = page(big, PROGRESSIONS, page_size=1, user_ids=some["id"])
    assert filtered["next"] is not None
    error = error_of(big.get(PROGRESSIONS, params={"cursor": filtered["next"], "page_size": 1}), 400)
    assert error["code"] == "PLATFORM.INPUT_INVALID"
    assert page(big, PROGRESSIONS, page_size=1, user_ids=some["id"], cursor=filtered["next"])["results"]


def _flip(text: str, at: int) -> str:
    return text[:at] + ("B" if text[at] == "A" else "A") + text[at + 1 :]


def test_a_tampered_cursor_is_refused(big: httpx.Client) -> None:
    cursor = page(big, USERS, page_size=5)["next"]
    body, _, signature = cursor.partition(".")
    for tampered in (_flip(cursor, len(body) // 2), _flip(cursor, len(body) + 1 + len(signature) // 2)):
        assert tampered != cursor
        error = error_of(big.get(USERS, params={"cursor": tampered, "page_size": 5}), 400)
        assert error["code"] == "PLATFORM.INPUT_INVALID"
        assert "cursor" in error["message"]


@pytest.mark.parametrize(
    "garbage", ["garbage", "not.a.cursor", "eyJhIjoxfQ.xx", "%%%", "é", "abc.é", "a" * 500]
)
def test_a_garbage_cursor_is_refused(big: httpx.Client, garbage: str) -> None:
    error = error_of(big.get(USERS, params={"cursor": garbage}), 400)
    assert error["code"] == "PLATFORM.INPUT_INVALID"
    assert "cursor" in error["message"]


def test_a_cursor_works_only_on_the_endpoint_that_issued_it(big: httpx.Client) -> None:
    for source in READ_PATHS:
        cursor = page(big, source, page_size=1)["next"]
        assert cursor is not None
        for target in READ_PATHS:
            response = big.get(target, params={"cursor": cursor, "page_size": 1})
            if target == source:
                assert checked(response).status_code == 200
            else:
                assert error_of(response, 400)["code"] == "PLATFORM.INPUT_INVALID"


def test_a_cursor_works_only_for_the_integration_that_issued_it(big: httpx.Client, synced: Synced) -> None:
    _, other = synced()
    cursor = page(big, USERS, page_size=1)["next"]
    assert error_of(other.get(USERS, params={"cursor": cursor, "page_size": 1}), 400)["code"] == (
        "PLATFORM.INPUT_INVALID"
    )


# -- updated_after ---------------------------------------------------------------------------------
def test_updated_after_returns_the_users_that_changed_and_nothing_else(
    server: Server, synced: Synced
) -> None:
    tenant, api = synced()
    untouched = by_remote_id(api, USERS, "user-1")
    before = wire_now()

    def rename(data: dict[str, Any]) -> None:
        data["last_name"] = "Renamed"

    def re_email(data: dict[str, Any]) -> None:
        data["email"] = "someone.else@example.com"

    sandbox_edit(server, tenant.integration, "lms_users", "user-3", rename)
    sandbox_edit(server, tenant.integration, "lms_users", "user-7", re_email)
    newcomer = {**sandbox_get(server, tenant.integration, "lms_users", "user-0"), "email": "new@example.com"}
    sandbox_put(server, tenant.integration, "lms_users", "user-new", newcomer)
    assert sync_now(server, api) == "SUCCEEDED"
    after = wire_now()

    changed = every(api, USERS, updated_after=before)
    assert remote_ids(changed) == {"user-3", "user-7", "user-new"}
    assert all(r["changed_at"] >= before for r in changed)
    assert {r["remote_id"]: r["last_name"] for r in changed}["user-3"] == "Renamed"
    assert by_remote_id(api, USERS, "user-1") == untouched
    assert changed_since(api, USERS, after) == set()
    assert len(every(api, USERS, updated_after="2000-01-01")) == 51
    assert every(api, USERS, updated_after="2999-01-01T00:00:00.000Z") == []


def test_a_sync_that_finds_nothing_changed_moves_no_record(server: Server, synced: Synced) -> None:
    _, api = synced()
    before = wire_now()
    assert sync_now(server, api, "FULL") == "SUCCEEDED"
    assert sync_now(server, api, "DELTA") == "SUCCEEDED"
    for path in READ_PATHS:
        assert changed_since(api, path, before, include_deleted="true") == set(), path


def _course_moves(
    server: Server, synced: Synced, remote_id: str, change: Callable[[dict[str, Any]], None]
) -> tuple[httpx.Client, dict[str, Any], dict[str, Any], set[str]]:
    """Apply `change` to one Sandbox course and sync; returns (api, the course before, after, the
    courses that an updated_after poll from before the change returns)."""
    tenant, api = synced(courses=10)
    old = by_remote_id(api, COURSES, remote_id)
    before = wire_now()
    sandbox_edit(server, tenant.integration, "lms_courses", remote_id, change)
    assert sync_now(server, api) == "SUCCEEDED"
    return api, old, by_remote_id(api, COURSES, remote_id), changed_since(api, COURSES, before)


def test_a_revision_added_to_a_course_moves_the_course_but_not_its_changed_at(
    server: Server, synced: Synced
) -> None:
    def add_revision(data: dict[str, Any]) -> None:
        data["revisions"].append(
            {
                "id": "course-1-r9",
                "title": "A new edition",
                "url": "https://sandbox.lmsbridge.local/courses/1/r9",
                "active": True,
                "skills": [],
                "created": "2025-01-01T00:00:00+00:00",
            }
        )

    _, old, new, moved = _course_moves(server, synced, "course-1", add_revision)
    assert moved == {"course-1"}
    assert new["changed_at"] == old["changed_at"], "changed_at follows the course's own fields only"
    assert {r["remote_id"] for r in old["revisions"]} == {"course-1-r1"}
    assert {r["remote_id"] for r in new["revisions"]} == {"course-1-r1", "course-1-r9"}


def test_a_revision_removed_from_a_course_moves_the_course_and_shows_only_with_include_deleted(
    server: Server, synced: Synced
) -> None:
    def drop_first_revision(data: dict[str, Any]) -> None:
        data["revisions"] = [r for r in data["revisions"] if r["id"] != "course-5-r1"]

    api, old, new, moved = _course_moves(server, synced, "course-5", drop_first_revision)
    assert moved == {"course-5"}
    assert new["changed_at"] == old["changed_at"]
    assert {r["remote_id"] for r in old["revisions"]} == {"course-5-r1", "course-5-r2"}
    assert [r["remote_id"] for r in new["revisions"]] == ["course-5-r2"]
    with_deleted = by_remote_id(api, COURSES, "course-5", include_deleted="true")
    gone = {r["remote_id"]: r for r in with_deleted["revisions"]}["course-5-r1"]
    assert gone["remote_deleted_at"] is not None


def test_a_changed_revision_moves_its_course(server: Server, synced: Synced) -> None:
    def retitle(data: dict[str, Any]) -> None:
        data["revisions"][-1]["title"] = "Retitled"

    _, old, new, moved = _course_moves(server, synced, "course-2", retitle)
    assert moved == {"course-2"}
    assert new["changed_at"] == old["changed_at"]
    revision = new["revisions"][-1]
    assert revision["title"] == "Retitled"
    assert revision["changed_at"] > old["revisions"][-1]["changed_at"]


def test_skill_assignment_changes_alone_do_not_move_a_course(server: Server, synced: Synced) -> None:
    def reassign(data: dict[str, Any]) -> None:
        data["revisions"][-1]["skills"] = ["skill-0", "skill-1"]

    _, old, new, moved = _course_moves(server, synced, "course-3", reassign)
    assert moved == set()
    assert new["changed_at"] == old["changed_at"]
    assert new["revisions"][-1]["changed_at"] == old["revisions"][-1]["changed_at"]
    assert {a["skill"]["remote_id"] for a in new["revisions"][-1]["skill_assignments"]} == {
        "skill-0",
        "skill-1",
    }, "the new assignments are shown all the same"


def test_a_change_to_its_provider_alone_does_not_move_a_course(server: Server, synced: Synced) -> None:
    tenant, api = synced(courses=10)
    old = by_remote_id(api, COURSES, "course-0")
    provider = old["provider"]["remote_id"]
    before = wire_now()

    def rename(data: dict[str, Any]) -> None:
        data["name"] = "Renamed Academy"

    sandbox_edit(server, tenant.integration, "lms_course_providers", provider, rename)
    assert sync_now(server, api) == "SUCCEEDED"
    assert changed_since(api, COURSES, before) == set()
    assert by_remote_id(api, COURSES, "course-0")["provider"]["name"] == "Renamed Academy"


def test_a_change_to_its_user_alone_does_not_move_a_progression(server: Server, synced: Synced) -> None:
    tenant, api = synced()
    progression = by_remote_id(api, PROGRESSIONS, "prog-0")
    user = progression["user"]["remote_id"]
    before = wire_now()

    def rename(data: dict[str, Any]) -> None:
        data["last_name"] = "Renamed"

    sandbox_edit(server, tenant.integration, "lms_users", user, rename)
    assert sync_now(server, api) == "SUCCEEDED"
    assert changed_since(api, USERS, before) == {user}
    assert changed_since(api, PROGRESSIONS, before) == set()
    now = by_remote_id(api, PROGRESSIONS, "prog-0")
    assert now["user"]["last_name"] == "Renamed", "the nested user is read as it is now"
    assert now["changed_at"] == progression["changed_at"]


def test_a_change_to_its_course_revision_alone_does_not_move_a_progression(
    server: Server, synced: Synced
) -> None:
    tenant, api = synced()
    progression = by_remote_id(api, PROGRESSIONS, "prog-0")
    course_remote_id = progression["course_revision"]["course"]["remote_id"]
    revision_remote_id = progression["course_revision"]["remote_id"]
    before = wire_now()

    def retitle(data: dict[str, Any]) -> None:
        for revision in data["revisions"]:
            if revision["id"] == revision_remote_id:
                revision["title"] = "Retitled"

    sandbox_edit(server, tenant.integration, "lms_courses", course_remote_id, retitle)
    assert sync_now(server, api) == "SUCCEEDED"
    assert changed_since(api, COURSES, before) == {course_remote_id}
    assert changed_since(api, PROGRESSIONS, before) == set()
    assert by_remote_id(api, PROGRESSIONS, "prog-0")["course_revision"]["title"] == "Retitled"


def test_a_progressions_own_change_moves_it_and_its_changed_at(server: Server, synced: Synced) -> None:
    tenant, api = synced()
    old = by_remote_id(api, PROGRESSIONS, "prog-4")
    before = wire_now()

    def complete(data: dict[str, Any]) -> None:
        data["state"] = "DROPPED" if data["state"] == "COMPLETED" else "COMPLETED"
        data["completed"] = None if data["state"] == "DROPPED" else "2025-03-01T12:00:00+00:00"

    sandbox_edit(server, tenant.integration, "lms_course_progressions", "prog-4", complete)
    assert sync_now(server, api) == "SUCCEEDED"
    assert changed_since(api, PROGRESSIONS, before) == {"prog-4"}
    new = by_remote_id(api, PROGRESSIONS, "prog-4")
    assert new["status"] != old["status"]
    assert new["changed_at"] >= before > old["changed_at"]


def test_skills_move_on_their_own_changes(server: Server, synced: Synced) -> None:
    tenant, api = synced()
    before = wire_now()

    def rename(data: dict[str, Any]) -> None:
        data["name"] = "Renamed skill"

    def describe(data: dict[str, Any]) -> None:
        data["description"] = "Described anew."

    sandbox_edit(server, tenant.integration, "lms_skills", "skill-2", rename)
    sandbox_edit(server, tenant.integration, "hris_skills", "hskill-1", describe)
    assert sync_now(server, api) == "SUCCEEDED"
    assert changed_since(api, LMS_SKILLS, before) == {"skill-2"}
    assert changed_since(api, HRIS_SKILLS, before) == {"hskill-1"}
    assert by_remote_id(api, HRIS_SKILLS, "hskill-1")["description"] == "Described anew."


@pytest.mark.parametrize(
    "value",
    [
        "yesterday",
        "2024-13-01",
        "2024-02-30",
        "2024-01-01T25:00:00Z",
        "2024-01-01T00:00:00+25:00",
        "2024-01-01 00:00:00",
        "1700000000",
        "",
    ],
)
def test_an_invalid_updated_after_is_refused(big: httpx.Client, value: str) -> None:
    for path in READ_PATHS:
        error = error_of(big.get(path, params={"updated_after": value}), 400)
        assert error["code"] == "PLATFORM.INPUT_INVALID"
        assert "updated_after" in error["message"]


@pytest.mark.parametrize(
    "value",
    [
        "2024-01-01",
        "2024-01-01T00:00:00Z",
        "2024-01-01T00:00:00.000Z",
        "2024-01-01T00:00:00.123456Z",
        "2024-01-01T02:00:00+02:00",  # RFC 3339 offsets are normalised to UTC
    ],
)
def test_updated_after_takes_a_date_or_a_date_time(big: httpx.Client, value: str) -> None:
    assert len(page(big, USERS, updated_after=value)["results"]) == 100


# -- include_deleted -------------------------------------------------------------------------------
def test_a_record_gone_from_the_remote_is_hidden_and_shown_deleted_with_include_deleted(
    server: Server, synced: Synced
) -> None:
    tenant, api = synced(courses=10)
    gone = {
        USERS: ("lms_users", "user-5"),
        COURSES: ("lms_courses", "course-2"),
        PROGRESSIONS: ("lms_course_progressions", "prog-3"),
        LMS_SKILLS: ("lms_skills", "skill-1"),
        HRIS_SKILLS: ("hris_skills", "hskill-2"),
    }
    present = {path: by_remote_id(api, path, remote_id) for path, (_, remote_id) in gone.items()}
    before = wire_now()
    for model, remote_id in gone.values():
        sandbox_remove(server, tenant.integration, model, remote_id)
    assert sync_now(server, api) == "SUCCEEDED"
    for path, (_, remote_id) in gone.items():
        record_id = present[path]["id"]
        assert remote_id not in remote_ids(every(api, path)), path
        assert page(api, path, ids=record_id)["results"] == []
        assert page(api, path, ids=record_id, include_deleted="false")["results"] == []
        assert changed_since(api, path, before) == set()
        deleted = by_remote_id(api, path, remote_id, include_deleted="true")
        assert deleted["id"] == record_id
        assert deleted["remote_deleted_at"] is not None and deleted["remote_deleted_at"] >= before
        assert changed_since(api, path, before, include_deleted="true") == {remote_id}
        assert remote_id in remote_ids(every(api, path, include_deleted="true"))
    course = by_remote_id(api, COURSES, "course-2", include_deleted="true")
    assert course["revisions"] and all(r["remote_deleted_at"] for r in course["revisions"])


def test_a_record_that_comes_back_is_shown_again(server: Server, synced: Synced) -> None:
    tenant, api = synced()
    data = sandbox_get(server, tenant.integration, "lms_users", "user-5")
    sandbox_remove(server, tenant.integration, "lms_users", "user-5")
    assert sync_now(server, api) == "SUCCEEDED"
    assert page(api, USERS, remote_ids="user-5")["results"] == []
    sandbox_put(server, tenant.integration, "lms_users", "user-5", data)
    assert sync_now(server, api) == "SUCCEEDED"
    assert by_remote_id(api, USERS, "user-5")["remote_deleted_at"] is None


def test_a_delta_sync_or_a_failed_full_sync_marks_nothing_deleted(server: Server, synced: Synced) -> None:
    tenant, api = synced(users=30, page_size=10)
    sandbox_remove(server, tenant.integration, "lms_users", "user-25")
    assert sync_now(server, api, "DELTA") == "SUCCEEDED"
    assert by_remote_id(api, USERS, "user-25")["remote_deleted_at"] is None
    set_settings(server, tenant.integration, fail_read_models=["lms_users"])
    assert sync_now(server, api, "FULL") == "PARTIALLY_FAILED"
    assert by_remote_id(api, USERS, "user-25")["remote_deleted_at"] is None
    set_settings(server, tenant.integration, fail_read_models=[])
    assert sync_now(server, api, "FULL") == "SUCCEEDED"
    assert page(api, USERS, remote_ids="user-25")["results"] == []


@pytest.mark.parametrize("value", ["yes", "True", "1", ""])
def test_include_deleted_takes_only_true_or_false(big: httpx.Client, value: str) -> None:
    for path in READ_PATHS:
        error = error_of(big.get(path, params={"include_deleted": value}), 400)
        assert error["code"] == "PLATFORM.INPUT_INVALID"
        assert "include_deleted" in error["message"]


# -- ignore_unsupported_filters and model availability ---------------------------------------------
class NoMailConnector(SandboxConnector):
    """A Sandbox whose users carry no work email and that has no HRIS skills."""

    tool = "nomail"
    label = "No-mail LMS"
    capabilities = Capabilities(
        read_models={
            **{m: c for m, c in SandboxConnector.capabilities.read_models.items() if m != "hris_skills"},
            "lms_users": ModelCoverage(Coverage.SUPPORTED, fields={"work_email": Coverage.UNSUPPORTED}),
        },
        write_actions=SandboxConnector.capabilities.write_actions,
    )


@pytest.fixture
def nomail(server: Server, monkeypatch: pytest.MonkeyPatch) -> Iterator[httpx.Client]:
    monkeypatch.setitem(registry.CONNECTORS, "nomail", NoMailConnector)
    tenant = make_tenant(server)  # for its key
    with server.store.write() as conn:
        integration = create_integration(conn, server.box, tool="nomail", environment="default").id
    with server.client(tenant.key, integration) as api:
        wait_first_sync(api, integration)
        yield api


def test_a_filter_on_a_field_the_tool_lacks_matches_nothing_unless_ignored(nomail: httpx.Client) -> None:
    a, b = page(nomail, USERS, page_size=2)["results"]
    assert page(nomail, USERS, work_emails=a["work_email"]) == {"next": None, "results": []}
    assert (
        page(nomail, USERS, work_emails=a["work_email"], ignore_unsupported_filters="false")["results"] == []
    )
    ignored = page(nomail, USERS, work_emails="nobody@example.com", ignore_unsupported_filters="true")
    assert len(ignored["results"]) == 50 and ignored["next"] is None
    narrowed = page(
        nomail, USERS, work_emails=a["work_email"], ids=b["id"], ignore_unsupported_filters="true"
    )
    assert ids(narrowed["results"]) == {b["id"]}, "the supported filters still apply"


def test_ignore_unsupported_filters_leaves_supported_filters_alone(big: httpx.Client) -> None:
    a = page(big, USERS, page_size=1)["results"][0]
    for flag in ("true", "false"):
        found = page(big, USERS, work_emails=a["work_email"], ignore_unsupported_filters=flag)["results"]
        assert ids(found) == {a["id"]}
    error = error_of(big.get(USERS, params={"ignore_unsupported_filters": "yes"}), 400)
    assert error["code"] == "PLATFORM.INPUT_INVALID"


def test_a_model_the_tool_does_not_read_is_not_available(nomail: httpx.Client) -> None:
    error = error_of(nomail.get(HRIS_SKILLS), 400)
    assert error["code"] == "INTEGRATION.MODEL_NOT_AVAILABLE"
    assert "Skills (HRIS)" in error["message"] and "No-mail LMS" in error["message"]
    for path in (USERS, COURSES, PROGRESSIONS, LMS_SKILLS):
        assert page(nomail, path)["results"]


# -- reads after writes ----------------------------------------------------------------------------
def test_a_course_written_by_a_bulk_task_is_readable_at_once_without_a_sync(
    server: Server, synced: Synced
) -> None:
    tenant, api = synced()
    before = wire_now()
    item = course("onboarding-101", "Onboarding 101", description="Day one.")
    task = wait(api, submit(api, [item], COURSES_BULK))
    assert task["status"] == "COMPLETED"
    course_id = task["data"][0]["data"]["id"]
    found = page(api, COURSES, ids=course_id)["results"]
    assert len(found) == 1
    written = found[0]
    assert written["origin_id"] == "onboarding-101"
    [revision] = written["revisions"]
    assert revision["remote_url"] == item["course"]["course_url"]
    assert revision["title"] == "Onboarding 101"
    assert revision["description"] == "Day one."
    assert revision["status"] == "ACTIVE"
    assert changed_since(api, COURSES, before) == {written["remote_id"]}
    assert sync_runs_of(server, tenant.integration) == ["SUCCEEDED"], "no sync ran for it"
    assert sync_now(server, api) == "SUCCEEDED"
    assert page(api, COURSES, ids=course_id)["results"] == [written], "a later sync agrees"


def test_a_skill_written_by_a_bulk_task_is_readable_at_once_in_hris_skills(synced: Synced) -> None:
    _, api = synced()
    task = wait(api, submit(api, [skill("ts", "TypeScript Programming")], SKILLS_BULK), SKILLS_BULK)
    assert task["status"] == "COMPLETED"
    skill_id = task["data"][0]["data"]["id"]
    [found] = page(api, HRIS_SKILLS, ids=skill_id)["results"]
    assert found["name"] == "TypeScript Programming"


# -- tenant isolation ------------------------------------------------------------------------------
def test_another_environments_key_cannot_read_the_integration(server: Server, big: httpx.Client) -> None:
    integration = big.headers["X-Integration-Id"]
    stranger = make_tenant(server, environment="elsewhere")
    with server.client(stranger.key, integration) as api:
        for path in READ_PATHS:
            error = error_of(api.get(path), 404)
            assert error["code"] == "PLATFORM.INTEGRATION_NOT_FOUND"


def test_ids_of_one_integration_match_nothing_in_another(big: httpx.Client, synced: Synced) -> None:
    _, other = synced()
    theirs = page(big, USERS, page_size=5)["results"]
    assert page(other, USERS, ids=",".join(r["id"] for r in theirs))["results"] == []


# -- paging and polling while the data changes -----------------------------------------------------
def test_paging_and_polling_while_syncs_change_the_data_miss_nothing_and_repeat_nothing(
    server: Server, synced: Synced
) -> None:
    """A background thread changes the Sandbox and forces syncs for a few seconds. Meanwhile one
    client pages through every user (deleted ones included, so none may vanish) and must see each
    user that existed before its walk exactly once; another polls with updated_after = the start
    of its previous poll and must end with exactly the store's final state."""
    settings = {"users": 150, "courses": 10, "progressions": 300, "seed": 7}
    tenant, api = synced(**settings)
    size = SandboxSize(users=150, courses=10, progressions=300, seed=7)
    sandbox = SandboxStateRepository(server.store)

    first_poll = poll_start = wire_now()
    replica = {r["id"]: r for r in every(api, USERS, page_size=7, include_deleted="true")}
    seen_in_polls: set[str] = set()

    failures: list[BaseException] = []
    churned = threading.Event()

    def churn() -> None:
        try:
            with server.client(tenant.key, tenant.integration) as background:
                sandbox_remove(server, tenant.integration, "lms_users", "user-42")
                deadline = time.monotonic() + 3.0
                rounds = 0
                while time.monotonic() < deadline:
                    sandbox.evolve(tenant.integration, 20, size)
                    request_sync(background, "FULL" if rounds % 2 == 0 else "DELTA")
                    rounds += 1
                    time.sleep(0.05)
                assert rounds >= 3
        except BaseException as error:  # reported by the test thread
            failures.append(error)
        finally:
            churned.set()

    thread = threading.Thread(target=churn, daemon=True)
    thread.start()
    walks = polls = 0
    known = set(replica)
    deadline = time.monotonic() + 60
    while not churned.is_set() or walks < 2:
        assert time.monotonic() < deadline, "the churn did not end"
        walked = [r["id"] for r in every(api, USERS, page_size=7, include_deleted="true")]
        duplicates = [i for i, n in Counter(walked).items() if n > 1]
        assert not duplicates, f"walk {walks} repeated users {duplicates}"
        assert known <= set(walked), f"walk {walks} missed users {known - set(walked)}"
        known = set(walked)
        walks += 1

        started = wire_now()
        for record in every(api, USERS, page_size=7, include_deleted="true", updated_after=poll_start):
            replica[record["id"]] = record
            seen_in_polls.add(record["id"])
        poll_start = started
        polls += 1
    thread.join(10)
    assert not failures, failures
    wait_idle(server, tenant.integration)
    assert sync_now(server, api, "FULL") in ("SUCCEEDED", "PARTIALLY_FAILED")
    for record in every(api, USERS, page_size=7, include_deleted="true", updated_after=poll_start):
        replica[record["id"]] = record
        seen_in_polls.add(record["id"])

    final = {r["id"]: r for r in every(api, USERS, include_deleted="true")}
    changed = {i for i, r in final.items() if r["changed_at"] >= first_poll}
    assert len(changed) > 10, "the churn changed users"
    assert any(r["remote_deleted_at"] for r in final.values()), "the churn deleted users"
    assert changed <= seen_in_polls, f"polls missed changes to {changed - seen_in_polls}"
    assert replica == final, "the polled replica differs from the final state"
    assert walks >= 2 and polls >= 2
