"""Cornerstone OnDemand end to end, as an operator runs it: `lmsbridge emulate cornerstoneondemand
--connection-file` in its own process, `lmsbridge integrations create --connection-file`, then
everything through lmsbridge's own API: the first sync, every model read and compared with the
emulator's own views, every write action and its effect read back from the emulator
(create-only course upserts, assignment, completion; deactivation refused), and a delta sync.
Every API answer is checked against the contract."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from lmsbridge.auth.service import create_key
from lmsbridge.jobs import wake_workers
from tests.conftest import Server
from tests.connectors.end_to_end import (
    create_from_file,
    emulate,
    finished_sync,
    listed,
    ok,
    refused,
    wait_task,
)
from tests.processes import Processes

pytestmark = pytest.mark.slow  # starts the emulator and the CLI as processes
SECRET = "csod-e2e-secret-0a1b2c3d4e5f"


class Portal:
    """The emulator process, read through Cornerstone's own APIs to see effects."""

    def __init__(self, url: str, client_id: str) -> None:
        self.url = url
        # The form-encoded token request (as the edX client sends it); the connector sends JSON.
        answer = httpx.post(
            f"{url}/services/api/oauth2/token",
            data={"client_id": client_id, "client_secret": SECRET, "grant_type": "client_credentials"},
            timeout=10,
        )
        assert answer.status_code == 200, answer.text
        self.headers = {"Authorization": f"Bearer {answer.json()['access_token']}"}

    def view(self, name: str, odata_filter: str | None = None) -> list[dict[str, Any]]:
        params = {"$filter": odata_filter} if odata_filter else {}
        url: str | None = f"{self.url}/services/api/x/odata/api/views/{name}"
        rows: list[dict[str, Any]] = []
        while url:
            body = httpx.get(url, params=params, headers=self.headers, timeout=10).json()
            rows += body["value"]
            url, params = body.get("@odata.nextLink"), {}
        return rows

    def employees(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        params: dict[str, Any] = {"pageSize": 100}
        while True:
            body = httpx.get(
                f"{self.url}/services/api/x/users/v2/employees",
                params=params,
                headers=self.headers,
                timeout=10,
            ).json()
            rows += body["data"]
            if not body.get("nextpagetoken"):
                return rows
            params = {"pageSize": 100, "nextPageToken": body["nextpagetoken"]}


def test_cornerstone_end_to_end(clean_server: Server, processes: Processes, tmp_path: Path) -> None:
    url, connection = emulate(processes, tmp_path, "cornerstoneondemand", token=SECRET)
    spec = json.loads(connection.read_text())
    assert spec["tool"] == "cornerstoneondemand" and spec["credentials"]["client_secret"] == SECRET
    portal = Portal(url, spec["credentials"]["client_id"])
    integration_id = create_from_file(clean_server, connection, tmp_path)
    with clean_server.store.write() as conn:
        key = create_key(conn, name="e2e", environment="default")
    wake_workers()
    api = clean_server.client(key.secret, integration_id)

    # -- the first sync, and every model read ------------------------------------------------------
    first = finished_sync(clean_server, integration_id)
    assert first.state == "SUCCEEDED", first
    employees = portal.employees()
    users = listed(api, "/v1/lms/users")
    assert sorted(u["remote_id"] for u in users) == sorted(str(e["id"]) for e in employees)
    assert all(u["remote_created_at"] for u in users)
    inactive = {str(e["id"]) for e in employees if not e["workerStatus"]["active"]}
    assert {u["remote_id"] for u in users if u["status"] == "INACTIVE"} == inactive
    training = portal.view("vw_rpt_training")
    course_of = {str(t["lo_object_id"]): str(t["related_lo_id"] or t["lo_object_id"]) for t in training}
    courses = listed(api, "/v1/lms/courses")
    assert sorted(c["remote_id"] for c in courses) == sorted(set(course_of.values()))
    # Every version of a learning object is a revision of its course.
    revisions = {r["remote_id"]: c for c in courses for r in c["revisions"]}
    assert sorted(revisions) == sorted(course_of)
    assert all(revisions[lo]["remote_id"] == course for lo, course in course_of.items())
    assert max(len(c["revisions"]) for c in courses) == 3
    # Providers have no list route in the contract: each course names its own.
    assert len({c["provider_id"] for c in courses}) == len({t["lo_provider_id"] for t in training})
    assert all(c["provider_id"] for c in courses)
    assert (
        {r["remote_id"] for c in courses for r in c["revisions"] if r["status"] == "INACTIVE"}
        == {t["lo_object_id"] for t in training if t["lo_active"] == "N"}
        != set()
    )
    competencies = portal.view("vw_rpt_lo_competencies_local")
    skills = listed(api, "/v1/lms/skills")
    assert sorted(s["remote_id"] for s in skills) == sorted({str(c["competency_id"]) for c in competencies})
    assert any(r["skill_assignments"] for c in courses for r in c["revisions"])
    transcripts = portal.view("vw_rpt_transcript")
    progressions = listed(api, "/v1/lms/course-progressions")
    assert sorted(p["remote_id"] for p in progressions) == sorted(str(t["reg_num"]) for t in transcripts)
    taken = {str(t["reg_num"]): str(t["transc_object_id"]) for t in transcripts}
    revision_ids = {r["id"]: r["remote_id"] for c in courses for r in c["revisions"]}
    assert all(revision_ids[p["course_revision_id"]] == taken[p["remote_id"]] for p in progressions)
    latest = {str(t["lo_object_id"]) for t in training if t["is_latest_training_version"]}
    assert any(taken[p["remote_id"]] not in latest for p in progressions)  # on an earlier version
    assert any(p["status"] == "COMPLETED" and p["completed_at"] for p in progressions)
    assert any(p["status"] == "DROPPED" for p in progressions)
    # A status name the portal translated, with no status group: null on the wire, as Kombo does.
    untranslatable = {str(t["reg_num"]) for t in transcripts if t["user_lo_status_group_id"] is None}
    assert untranslatable and {p["remote_id"] for p in progressions if p["status"] is None} == untranslatable
    refused(api.get("/v1/hris/skills"), "INTEGRATION.MODEL_NOT_AVAILABLE")

    # -- upsert courses: created as materials; the same origin id again cannot be updated ----------
    items = [
        {
            "origin_id": f"e2e-{i}",
            "course": {
                "type": "EXTERNAL",
                "title": f"E2E course {i}",
                "course_url": f"https://c.example/{i}",
            },
        }
        for i in range(2)
    ]
    task_id = ok(api.post("/v1/lms/courses/bulk", json={"items": items}))["task_id"]
    task = wait_task(api, f"/v1/lms/courses/bulk/{task_id}")
    assert task["status"] == "COMPLETED" and [r["status"] for r in task["data"]] == ["SUCCEEDED"] * 2
    on_remote = portal.view("vw_rpt_training", "lo_ref eq 'e2e-0'")
    assert [(t["lo_title"], t["lo_type"], t["lo_version"]) for t in on_remote] == [
        ("E2E course 0", "Material", None)  # a material has no versioning
    ]
    items[0]["course"]["title"] = "E2E course 0, renamed"
    again_id = ok(api.post("/v1/lms/courses/bulk", json={"items": items[:1]}))["task_id"]
    again = wait_task(api, f"/v1/lms/courses/bulk/{again_id}")
    assert again["data"][0]["status"] == "FAILED"
    assert again["data"][0]["error"]["code"] == "LMS.COURSE_UPDATE_NOT_SUPPORTED"
    assert [t["lo_title"] for t in portal.view("vw_rpt_training", "lo_ref eq 'e2e-0'")] == ["E2E course 0"]

    # -- enrol (Transcript API assign), then complete it -------------------------------------------
    written = {r["origin_id"]: r["data"]["id"] for r in task["data"]}
    by_id = {c["id"]: c for c in listed(api, "/v1/lms/courses")}
    course = by_id[written["e2e-1"]]
    learner = next(u for u in users if u["status"] == "ACTIVE")
    enrolled = ok(
        api.post(
            "/v1/lms/course-progressions",
            json={"user_id": learner["id"], "course_revision_id": course["revisions"][0]["id"]},
        )
    )
    assert enrolled["status"] == "ENROLLED"
    rows = portal.view(
        "vw_rpt_transcript",
        f"transc_user_id eq {learner['remote_id']} and transc_object_id eq {course['remote_id']}",
    )
    assert [str(r["reg_num"]) for r in rows] == [enrolled["remote_id"]]
    completion = ok(api.post(f"/v1/lms/course-progressions/{enrolled['id']}/complete", json={}))
    assert completion["status"] == "COMPLETED" and completion["completed_at"]
    done = portal.view("vw_rpt_transcript", f"reg_num eq {enrolled['remote_id']}")
    assert done[0]["user_lo_status_group_id"] == 11 and done[0]["user_lo_comp_dt"]

    # -- deactivation is not offered by Cornerstone's API: refused before any call -----------------
    refused(api.post(f"/v1/lms/courses/{course['id']}/deactivate"), "INTEGRATION.ACTION_NOT_AVAILABLE")

    # -- a delta sync asks the views for rows touched since the last sync --------------------------
    sync_id = ok(api.post("/v1/force-sync", json={"type": "DELTA"}))["sync_id"]
    wake_workers()
    delta = finished_sync(clean_server, integration_id, after=first.id)
    assert delta.id == sync_id and delta.type == "DELTA" and delta.state == "SUCCEEDED", delta
    calls = httpx.get(f"{url}/_emulator/calls").json()["calls"]
    assert any(c["path"].endswith("/views/vw_rpt_transcript") for c in calls)
    # The tool's icon, which the integration's `tool.logo_url` names, is served.
    icon = httpx.get(f"{clean_server.url}/static/tools/cornerstoneondemand.svg", timeout=10)
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml")
    api.close()
