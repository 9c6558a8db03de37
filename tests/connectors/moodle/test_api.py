"""The Moodle connector end to end, through lmsbridge's own API: an integration pointed at the
emulator, its syncs, the writes, their effect on the emulated site, and Moodle's failures as API
clients see them. Every lmsbridge response is checked against the contract."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from lmsbridge.auth.service import create_key
from lmsbridge.connectors.moodle import functions as fn
from lmsbridge.integrations.service import create_integration
from lmsbridge.jobs import wake_workers
from lmsbridge.syncs.repository import SyncRepository, SyncRun
from lmsbridge.testing.emulators.moodle import Fault
from tests.api.helpers import course, submit, wait
from tests.conftest import Server
from tests.connectors.moodle.conftest import FAST, TOKEN, Moodle
from tests.contract import checked
from tests.waiting import wait_until

SYNC_TIMEOUT = 60.0


@contextmanager
def moodle_api(server: Server, moodle: Moodle, token: str = TOKEN, **settings: Any) -> Iterator[httpx.Client]:
    """An API key and a Moodle integration pointed at the emulator; yields a client for it."""
    with server.store.write() as conn:
        key = create_key(conn, name="moodle", environment="default")
        integration = create_integration(
            conn,
            server.box,
            tool="moodle",
            environment="default",
            name="Emulated Moodle",
            settings={"site_url": moodle.url, **FAST, **settings},
            credentials={"token": token},
        )
    wake_workers()
    with server.client(key.secret, integration.id) as api:
        yield api


def integration_of(api: httpx.Client) -> str:
    return str(api.headers["X-Integration-Id"])


def finished_run(server: Server, integration_id: str, sync_id: str | None = None) -> SyncRun:
    """The latest (or the given) sync run of the integration, once it has ended."""

    def ended() -> SyncRun | None:
        with server.store.read() as conn:
            repo = SyncRepository(conn)
            run = repo.get_run(sync_id) if sync_id else (repo.latest_runs(integration_id, 1) or [None])[0]
        return run if run is not None and run.state not in ("QUEUED", "RUNNING") else None

    return wait_until(ended, timeout=SYNC_TIMEOUT, message=f"the sync of {integration_id} did not end")


def force_sync(server: Server, api: httpx.Client) -> SyncRun:
    response = checked(api.post("/v1/force-sync", json={"type": "FULL"}))
    assert response.status_code == 200, response.text
    wake_workers()
    return finished_run(server, integration_of(api), response.json()["data"]["sync_id"])


def listed(api: httpx.Client, path: str, **params: Any) -> list[dict[str, Any]]:
    """Every record of a read endpoint, following the cursor."""
    results: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = checked(api.get(path, params={**params, **({"cursor": cursor} if cursor else {})}))
        assert page.status_code == 200, page.text
        data = page.json()["data"]
        results += data["results"]
        cursor = data["next"]
        if cursor is None:
            return results


def by_remote_id(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["remote_id"]: r for r in records}


def test_a_moodle_integration_syncs_every_model_and_serves_it(clean_server: Server, moodle: Moodle) -> None:
    with moodle_api(clean_server, moodle) as api:
        run = finished_run(clean_server, integration_of(api))
        assert run.state == "SUCCEEDED", run.error
        assert run.counts["lms_course_progressions"]["added"] == len(moodle.site.enrolments)

        described = checked(api.get(f"/v1/integrations/{integration_of(api)}")).json()["data"]
        assert described["tool"]["id"] == "moodle" and described["setup_status"] == "COMPLETED"
        models = {m["id"]: m for m in described["read_models"]}
        fields = {f["id"]: f for f in models["lms_course_progressions"]["fields"]}
        assert fields["enrolled_at"]["coverage_status"] == "UNSUPPORTED"
        assert fields["enrolled_at"]["is_available"] is False
        assert models["hris_skills"]["is_available"] is False
        actions = {a["id"]: a["coverage_status"] for a in described["write_actions"]}
        assert actions["lms_complete_course_progression"] == "SUPPORTED"
        assert actions["hris_upsert_skills"] == "NOT_IMPLEMENTED"
        assert httpx.get(described["tool"]["icon_url"]).status_code == 200

        users = by_remote_id(listed(api, "/v1/lms/users"))
        assert set(users) == {str(i) for i in range(2, 11)}
        assert users["10"]["status"] == "INACTIVE" and users["3"]["remote_created_at"] is None

        courses = by_remote_id(listed(api, "/v1/lms/courses"))
        assert set(courses) == {"2", "3", "4", "5", "6"}
        (revision,) = courses["2"]["revisions"]
        assert revision["remote_url"] == f"{moodle.url}/course/view.php?id=2"
        assert {a["skill"]["name"] for a in revision["skill_assignments"]} == {"Teamwork", "Data literacy"}

        progressions = by_remote_id(listed(api, "/v1/lms/course-progressions", page_size="7"))
        assert len(progressions) == len(moodle.site.enrolments)
        completed = progressions["3:6"]
        assert completed["status"] == "COMPLETED" and completed["completed_at"] is not None
        assert completed["enrolled_at"] is None
        assert completed["user"]["remote_id"] == "3" and completed["course_revision"]["remote_id"] == "6"
        assert completed["course_revision"]["course"]["id"] == courses["6"]["id"]
        assert {p["status"] for p in progressions.values()} == {
            "COMPLETED",
            "IN_PROGRESS",
            "ENROLLED",
            "DROPPED",
        }

        assert len(listed(api, "/v1/lms/skills")) == 6
        unavailable = checked(api.get("/v1/hris/skills"))
        assert unavailable.status_code == 400
        assert unavailable.json()["error"]["code"] == "INTEGRATION.MODEL_NOT_AVAILABLE"


def test_writes_through_the_api_change_the_site_and_read_back(clean_server: Server, moodle: Moodle) -> None:
    moodle.site.completion_task_interval = 0  # a site whose completion task runs at once
    with moodle_api(clean_server, moodle) as api:
        assert finished_run(clean_server, integration_of(api)).state == "SUCCEEDED"

        # Upsert external courses in bulk.
        items = [
            course("cyber-101", "Intro to Cybersecurity", description="Learn the basics."),
            course("privacy-1", "Data Privacy Basics"),
            course("bad-1", "<script>x</script> Title"),
        ]
        task = wait(api, submit(api, items))
        assert task["status"] == "COMPLETED"
        results = {r["origin_id"]: r for r in task["data"]}
        assert results["cyber-101"]["status"] == results["privacy-1"]["status"] == "SUCCEEDED"
        assert results["bad-1"]["status"] == "FAILED"
        assert results["bad-1"]["error"]["code"] == "REMOTE.INPUT_INVALID"
        created = {c.idnumber: c for c in moodle.site.courses.values() if c.idnumber}
        assert set(created) == {"cyber-101", "privacy-1"}
        assert "https://content.example.com/courses/cyber-101" in created["cyber-101"].summary

        course_id = results["cyber-101"]["data"]["id"]
        (cyber,) = listed(api, "/v1/lms/courses", ids=course_id)
        assert cyber["origin_id"] == "cyber-101"
        (revision,) = cyber["revisions"]
        assert revision["remote_url"] == "https://content.example.com/courses/cyber-101"
        assert revision["description"] == "Learn the basics."

        # Enrol a learner in the new course, by lmsbridge ids.
        (grace,) = listed(api, "/v1/lms/users", remote_ids="9")
        enrolled = checked(
            api.post(
                "/v1/lms/course-progressions",
                json={"user_id": grace["id"], "course_revision_id": revision["id"]},
            )
        )
        assert enrolled.status_code == 200, enrolled.text
        assert enrolled.json()["data"]["status"] == "ENROLLED"
        assert moodle.site.enrolments[(9, int(cyber["remote_id"]))].roleid == 5

        # An external course has no activity Moodle could mark complete: an honest refusal.
        refused = checked(api.post(f"/v1/lms/course-progressions/{enrolled.json()['data']['id']}/complete"))
        assert refused.status_code == 400
        assert refused.json()["error"]["code"] == "REMOTE.INPUT_INVALID"

        # Enrol by remote ids in a Moodle course with activities, then complete.
        seeded = checked(
            api.post(
                "/v1/lms/course-progressions", json={"user_id": "remote:9", "course_revision_id": "remote:2"}
            )
        ).json()["data"]
        assert seeded["remote_id"] == "9:2" and seeded["status"] == "ENROLLED"
        done = checked(api.post(f"/v1/lms/course-progressions/{seeded['id']}/complete", json={"score": 90}))
        assert done.status_code == 200, done.text
        assert done.json()["data"]["status"] == "COMPLETED"
        assert done.json()["data"]["completed_at"] is not None
        assert (2, 9) in moodle.site.course_completions
        assert all(moodle.site.activity_states[(cm, 9)].state == 1 for cm in moodle.site.courses[2].criteria)

        mine = by_remote_id(listed(api, "/v1/lms/course-progressions", user_ids=grace["id"]))
        assert mine["9:2"]["status"] == "COMPLETED"
        assert mine[f"9:{cyber['remote_id']}"]["status"] == "ENROLLED"

        # Deactivate, then upsert again: the same course, visible again.
        hidden = checked(api.post(f"/v1/lms/courses/{course_id}/deactivate"))
        assert hidden.status_code == 200, hidden.text
        assert hidden.json()["data"]["revisions"][0]["status"] == "INACTIVE"
        assert moodle.site.courses[int(cyber["remote_id"])].visible == 0
        again = wait(api, submit(api, [course("cyber-101", "Intro to Cybersecurity, 2nd edition")]))
        assert again["data"][0]["data"]["id"] == course_id
        (cyber,) = listed(api, "/v1/lms/courses", ids=course_id)
        assert cyber["revisions"][0]["status"] == "ACTIVE"
        assert cyber["revisions"][0]["title"] == "Intro to Cybersecurity, 2nd edition"
        assert sum(1 for c in moodle.site.courses.values() if c.idnumber == "cyber-101") == 1


def test_a_second_sync_sees_changes_and_deletions(clean_server: Server, moodle: Moodle) -> None:
    with moodle_api(clean_server, moodle) as api:
        assert finished_run(clean_server, integration_of(api)).state == "SUCCEEDED"
        before = by_remote_id(listed(api, "/v1/lms/users"))
        moodle.site.users[3].lastname = "Okafor-Smith"
        moodle.site.delete_user(4)
        moodle.site.delete_course(5)
        moodle.site.unenrol(6, 3)
        moodle.site.delete_competency(6)

        run = force_sync(clean_server, api)
        assert run.state == "SUCCEEDED", run.error
        assert run.counts["lms_users"]["deleted"] == 1 and run.counts["lms_courses"]["deleted"] == 1

        users = by_remote_id(listed(api, "/v1/lms/users", include_deleted="true"))
        assert users["3"]["last_name"] == "Okafor-Smith"
        assert users["3"]["changed_at"] > before["3"]["changed_at"]
        assert users["4"]["remote_deleted_at"] is not None
        assert "4" not in by_remote_id(listed(api, "/v1/lms/users"))
        assert "5" not in by_remote_id(listed(api, "/v1/lms/courses"))
        progressions = by_remote_id(listed(api, "/v1/lms/course-progressions"))
        assert not {"6:3", "4:2", "4:5"} & set(progressions)
        assert "6" not in by_remote_id(listed(api, "/v1/lms/skills"))


def test_moodle_failures_reach_clients_as_contract_errors_never_as_500(
    clean_server: Server, moodle: Moodle
) -> None:
    with moodle_api(clean_server, moodle, token="f" * 32) as bad:
        assert finished_run(clean_server, integration_of(bad)).state == "AUTHENTICATION_FAILED"
        task = wait(bad, submit(bad, [course("a-1")]))
        assert task["status"] == "FAILED"
        assert task["error"]["code"] == "INTEGRATION.AUTHENTICATION_INVALID"
        refused = checked(
            bad.post(
                "/v1/lms/course-progressions", json={"user_id": "remote:9", "course_revision_id": "remote:2"}
            )
        )
        assert (refused.status_code, refused.json()["error"]["code"]) == (
            403,
            "INTEGRATION.AUTHENTICATION_INVALID",
        )

    with moodle_api(clean_server, moodle, timeout_seconds=0.3) as api:
        assert finished_run(clean_server, integration_of(api)).state == "SUCCEEDED"
        enrol = {"user_id": "remote:9", "course_revision_id": "remote:2"}

        moodle.site.disable_function(fn.ENROL_USERS)
        missing = checked(api.post("/v1/lms/course-progressions", json=enrol))
        assert (missing.status_code, missing.json()["error"]["code"]) == (
            403,
            "INTEGRATION.PERMISSION_MISSING",
        )
        assert fn.ENROL_USERS in missing.json()["error"]["message"]
        moodle.site.enable_function(fn.ENROL_USERS)

        invalid = checked(api.post("/v1/lms/course-progressions", json={**enrol, "user_id": "remote:999"}))
        assert (invalid.status_code, invalid.json()["error"]["code"]) == (400, "REMOTE.INPUT_INVALID")

        moodle.site.add_fault(Fault("http_status", status=503, times=None))
        down = checked(api.post("/v1/lms/courses/remote:2/deactivate"))
        assert (down.status_code, down.json()["error"]["code"]) == (503, "REMOTE.SERVICE_UNAVAILABLE")
        moodle.site.clear_faults()

        moodle.site.add_fault(Fault("timeout", seconds=1.0, times=None))
        slow = checked(api.post("/v1/lms/course-progressions", json=enrol))
        assert (slow.status_code, slow.json()["error"]["code"]) == (503, "REMOTE.SERVICE_UNAVAILABLE")
        moodle.site.clear_faults()

        moodle.site.add_fault(Fault("http_status", function=fn.GET_ENROLLED_USERS, status=502, times=None))
        partial = force_sync(clean_server, api)
        assert partial.state == "PARTIALLY_FAILED"
        assert "HTTP 502" in (partial.error or "") and TOKEN not in (partial.error or "")
        assert len(listed(api, "/v1/lms/course-progressions")) == len(
            moodle.site.enrolments
        )  # nothing deleted


@pytest.mark.parametrize("setting", [{"site_url": "ftp://moodle.example.com"}, {"site_url": "not a url"}])
def test_an_integration_with_a_bad_site_url_is_refused(clean_server: Server, setting: dict[str, str]) -> None:
    from lmsbridge.errors import InputInvalidError

    with clean_server.store.write() as conn, pytest.raises(InputInvalidError) as raised:
        create_integration(conn, clean_server.box, tool="moodle", environment="default", settings=setting)
    assert "site_url" in raised.value.message


def test_a_capability_removed_on_moodle_holds_the_deletions_instead_of_announcing_them(
    clean_server: Server, moodle: Moodle
) -> None:
    """C2 through the API: without moodle/user:viewdetails a real site silently left 25 of 28
    users out; the sync then must not read that as a mass deletion."""
    from lmsbridge.testing.emulators.moodle import seeded_site
    from tests.syncs.helpers import deleted_remote_ids, events_of

    site = moodle.use(seeded_site(users=30, courses=4, token=TOKEN, completion_task_interval=None))
    site.tokens[TOKEN].userid = site.add_user("lmsbridge", "LMS", "Bridge", "lmsbridge@example.com").id
    with moodle_api(clean_server, moodle) as api:
        integration = integration_of(api)
        assert finished_run(clean_server, integration).state == "SUCCEEDED"
        changed = len(events_of(clean_server, integration, "data-changed"))

        site.tokens[TOKEN].missing_capabilities.add("moodle/user:viewdetails")
        held = force_sync(clean_server, api)
        assert held.state == "PARTIALLY_FAILED"
        assert held.error is not None and "lms_users:" in held.error and "lost access" in held.error
        assert "lms_course_progressions:" in held.error
        assert deleted_remote_ids(clean_server, "lms_users", integration) == set()
        assert deleted_remote_ids(clean_server, "lms_course_progressions", integration) == set()
        assert len(events_of(clean_server, integration, "data-changed")) == changed

        site.tokens[TOKEN].missing_capabilities.clear()  # the administrator restores the capability
        again = force_sync(clean_server, api)
        assert again.state == "SUCCEEDED", again.error
        assert deleted_remote_ids(clean_server, "lms_users", integration) == set()
        assert len(events_of(clean_server, integration, "data-changed")) == changed


def test_a_sync_of_a_44_site_that_withholds_names_says_so(clean_server: Server, moodle: Moodle) -> None:
    """C3: Moodle 4.4 returns names only with moodle/site:viewfullnames; the sync succeeds (the
    users are real) and its record says which capability to add."""
    from lmsbridge.testing.emulators.moodle import seeded_site

    site = moodle.use(seeded_site(token=TOKEN, completion_task_interval=None, version="4.4"))
    site.tokens[TOKEN].missing_capabilities.add("moodle/site:viewfullnames")
    with moodle_api(clean_server, moodle) as api:
        run = finished_run(clean_server, integration_of(api))
        assert run.state == "SUCCEEDED"
        assert run.error is not None and "warning:" in run.error and "moodle/site:viewfullnames" in run.error
        users = listed(api, "/v1/lms/users")
        assert users and all(u["first_name"] is None and u["last_name"] is None for u in users)
