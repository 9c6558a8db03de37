"""SuccessFactors Learning end to end, as an operator runs it: `lmsbridge emulate successfactors
--connection-file` (OCN's pace shortened) in its own process, `lmsbridge integrations create
--connection-file`, then through lmsbridge's own API: the first sync, every model read and
compared with the emulator's own OData answers, a 30-course upsert that waits for OCN's pace and
completes, a completion and a deactivation read back from the emulator, and enrolment refused.
Every API answer is checked against the contract."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from lmsbridge.auth.service import create_key
from lmsbridge.jobs import wake_workers
from tests.conftest import Server
from tests.connectors.end_to_end import SECRET, create_from_file, emulate, finished_sync, listed, ok, refused
from tests.processes import Processes

pytestmark = pytest.mark.slow  # starts the emulator and the CLI as processes
PACE = 0.2  # OCN's pace, shortened: 30 posts take about 6 s
TIMEOUT = 90.0


class Remote:
    """The emulator read as any OData client would: a Learning token, then the services."""

    def __init__(self, url: str, client_id: str) -> None:
        self.url = url
        scope = {
            "userId": "sfadmin",
            "companyId": "ACME01",
            "userType": "admin",
            "resourceType": "learning_public_api",
        }
        answer = httpx.post(
            f"{url}/learning/oauth-api/rest/v1/token",
            auth=(client_id, SECRET),
            json={"grant_type": "client_credentials", "scope": scope},
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["expires_in"] == 1800
        self.token = str(answer.json()["access_token"])

    def rows(self, path: str, filters: str | None = None) -> list[dict[str, Any]]:
        params = {"$top": "1000", **({"$filter": filters} if filters else {})}
        answer = httpx.get(
            f"{self.url}/learning/odatav4/{path}",
            params=params,
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=10,
        )
        if answer.status_code == 404 and "No search results" in answer.text:
            return []
        assert answer.status_code == 200, answer.text
        return list(answer.json()["value"])

    def learner(self, path: str, user_id: str) -> list[dict[str, Any]]:
        return self.rows(path, f"criteria/targetUserID eq '{user_id}'")


HISTORY = "public/user/userlearning-service/v1/learninghistorys"
TODO = "public/user/learningplan-service/v1/UserTodoLearningItems"


def wait_task(api: httpx.Client, task_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The task when it ends, and every progress seen on the way."""
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + TIMEOUT
    while True:
        data = ok(api.get(f"/v1/lms/courses/bulk/{task_id}"))
        if "progress" in data:
            seen.append(data["progress"])
        if data["status"] != "PENDING":
            return data, seen
        assert time.monotonic() < deadline, data
        time.sleep(0.05)


def test_successfactors_end_to_end(clean_server: Server, processes: Processes, tmp_path: Path) -> None:
    url, connection = emulate(processes, tmp_path, "successfactors", "--setting", f"ocn_pace_seconds={PACE}")
    spec = json.loads(connection.read_text())
    assert spec["tool"] == "successfactors" and spec["settings"]["learning_url"] == url
    remote = Remote(url, spec["credentials"]["client_id"])

    integration_id = create_from_file(clean_server, connection, tmp_path)
    with clean_server.store.write() as conn:
        key = create_key(conn, name="e2e", environment="default")
    wake_workers()
    api = clean_server.client(key.secret, integration_id)

    # -- the first sync, and every model read ------------------------------------------------------
    first = finished_sync(clean_server, integration_id)
    assert first.state == "SUCCEEDED", first
    students = remote.rows("searchStudent/v1/Students")
    users = listed(api, "/v1/lms/users")
    assert sorted(u["remote_id"] for u in users) == sorted(s["studentID"] for s in students)
    inactive = {s["studentID"] for s in students if s["notActive"] == "yes"}
    assert {u["remote_id"] for u in users if u["status"] == "INACTIVE"} == inactive
    items = remote.rows("public/admin/searchItem/v1/Items")
    courses = listed(api, "/v1/lms/courses")
    assert sorted(c["remote_id"] for c in courses) == sorted(
        f"{i['itemTypeID']}:{i['itemID']}" for i in items
    )
    revision_ids = {c["revisions"][0]["remote_id"] for c in courses}
    assert revision_ids == {f"{i['itemTypeID']}:{i['itemID']}:{i['revisionDate']}" for i in items}
    by_remote = {f"{i['itemTypeID']}:{i['itemID']}": i["Provider"] for i in items}
    assert all(c["provider"]["remote_id"] == by_remote[c["remote_id"]] for c in courses)
    assert {c["provider"]["name"] for c in courses} == set(by_remote.values())
    progressions = listed(api, "/v1/lms/course-progressions")
    expected: dict[str, str] = {}
    for s in students:
        for row in remote.learner(TODO, s["studentID"]):
            expected[f"{s['studentID']}|COURSE:{row['componentID']}|{row['revisionDate']}"] = "ENROLLED"
        for row in remote.learner(HISTORY, s["studentID"]):
            passed = row["completionStatusID"] == "COMPLETE"
            key_ = f"{s['studentID']}|COURSE:{row['componentID']}|{row['revisionDate']}"
            expected[key_] = "COMPLETED" if passed else "IN_PROGRESS"
    assert {p["remote_id"]: p["status"] for p in progressions} == expected
    assert all(p["completed_at"] for p in progressions if p["status"] == "COMPLETED")
    assert all(p["enrolled_at"] for p in progressions if p["status"] == "ENROLLED")
    for path in ("/v1/lms/skills", "/v1/hris/skills"):
        refused(api.get(path), "INTEGRATION.MODEL_NOT_AVAILABLE")

    # -- 30 courses through OCN, one post per pace window: the task waits and completes -----------
    batch = [
        {
            "origin_id": f"e2e-{i}",
            "course": {
                "type": "EXTERNAL",
                "title": f"E2E course {i}",
                "course_url": f"https://c.example.com/{i}",
            },
        }
        for i in range(30)
    ]
    started = time.monotonic()
    task, progress = wait_task(api, ok(api.post("/v1/lms/courses/bulk", json={"items": batch}))["task_id"])
    assert task["status"] == "COMPLETED", task
    assert [r["status"] for r in task["data"]] == ["SUCCEEDED"] * 30
    assert progress and progress[-1]["succeeded"] == 30
    # While items wait for OCN's pace, the task's progress shows how far it got.
    assert any(0 < p["succeeded"] < 30 for p in progress), progress
    assert time.monotonic() - started >= 29 * PACE
    calls = httpx.get(f"{url}/_emulator/calls").json()["calls"]
    ocn = [c for c in calls if c["target"] == "POST OcnCourses"]
    assert len(ocn) == 30 and all(c["status"] == 200 for c in ocn)
    imported = {
        i["itemID"]: i for i in remote.rows("public/admin/searchItem/v1/Items") if i["itemTypeID"] == "OCN"
    }
    assert sorted(imported) == sorted(b["origin_id"] for b in batch)
    written = {c["origin_id"]: c for c in listed(api, "/v1/lms/courses") if c["origin_id"]}
    assert written["e2e-3"]["remote_id"] == "OCN:e2e-3"
    assert written["e2e-3"]["revisions"][0]["title"] == "E2E course 3"

    # -- complete a learner's to-do item: an OCN learning event, read back as history --------------
    enrolled = next(p for p in listed(api, "/v1/lms/course-progressions") if p["status"] == "ENROLLED")
    done = ok(api.post(f"/v1/lms/course-progressions/{enrolled['id']}/complete", json={}))
    assert done["status"] == "COMPLETED" and done["completed_at"]
    user_id, course_id, _ = done["remote_id"].split("|")
    history = remote.learner(HISTORY, user_id)
    assert any(
        f"COURSE:{h['componentID']}" == course_id and h["completionStatusID"] == "COMPLETE" for h in history
    )

    # -- enrolment has no public service: refused before a task or a call --------------------------
    calls_before = len(httpx.get(f"{url}/_emulator/calls").json()["calls"])
    refused(
        api.post(
            "/v1/lms/course-progressions",
            json={"user_id": users[0]["id"], "course_revision_id": courses[0]["revisions"][0]["id"]},
        ),
        "INTEGRATION.ACTION_NOT_AVAILABLE",
    )
    refused(
        api.post("/v1/hris/skills/bulk", json={"items": [{"origin_id": "s", "name": "s"}]}),
        "INTEGRATION.ACTION_NOT_AVAILABLE",
    )
    assert len(httpx.get(f"{url}/_emulator/calls").json()["calls"]) == calls_before

    # -- deactivate an OCN course: status INACTIVE, read back --------------------------------------
    deactivated = ok(api.post(f"/v1/lms/courses/{written['e2e-3']['id']}/deactivate"))
    assert deactivated["revisions"][0]["status"] == "INACTIVE"
    item = next(i for i in remote.rows("public/admin/searchItem/v1/Items") if i["itemID"] == "e2e-3")
    assert item["active"] is False
    api.close()


def test_a_generic_odata_v4_client_reads_the_emulator(
    clean_server: Server, processes: Processes, tmp_path: Path
) -> None:
    """python-odata, knowing nothing of SuccessFactors, reads users and learning history through
    the services' `$metadata`; every answered row carries exactly the properties it declares."""
    import requests
    from odata import ODataService

    url, connection = emulate(processes, tmp_path, "successfactors", "--setting", f"ocn_pace_seconds={PACE}")
    remote = Remote(url, json.loads(connection.read_text())["credentials"]["client_id"])
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {remote.token}"

    students = ODataService(
        f"{url}/learning/odatav4/searchStudent/v1/",
        reflect_entities=True,
        session=session,
        quiet_progress=True,
    )
    rows = students.query(students.entities["Students"]).all()
    assert sorted(r.studentID for r in rows) == sorted(
        s["studentID"] for s in remote.rows("searchStudent/v1/Students")
    )
    learner = next(
        s["studentID"]
        for s in remote.rows("searchStudent/v1/Students")
        if remote.learner(HISTORY, s["studentID"])
    )
    service = ODataService(
        f"{url}/learning/odatav4/public/user/userlearning-service/v1/",
        reflect_entities=True,
        session=session,
        quiet_progress=True,
    )
    query = service.query(service.entities["learninghistorys"]).filter(
        f"criteria/targetUserID eq '{learner}'"
    )
    history = query.all()
    assert sorted(h.componentID for h in history) == sorted(
        r["componentID"] for r in remote.learner(HISTORY, learner)
    )
    assert all(isinstance(h.completionDate, int) for h in history)
