"""TalentLMS end to end, as an operator runs it: `lmsbridge emulate talentlms --connection-file`
in its own process, `lmsbridge integrations create --connection-file`, then everything through
lmsbridge's own API: the first sync, every model read, every write action and its effect read
back from the emulator, the refusals of what TalentLMS cannot do, and a delta sync. Every API
answer is checked against the contract."""

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
    courses_task,
    create_from_file,
    emulate,
    finished_sync,
    listed,
    ok,
    refused,
)
from tests.connectors.talentlms.conftest import KEY
from tests.processes import Processes


class Emulated:
    """The emulator process and a client of its v1 API, to read effects back."""

    def __init__(self, url: str) -> None:
        self.url = url

    def v1(self, path: str, **kwargs: Any) -> Any:
        response = httpx.request(
            kwargs.pop("method", "GET"), f"{self.url}/api/v1/{path}", auth=(KEY, ""), timeout=10, **kwargs
        )
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture
def emulated(processes: Processes, tmp_path: Path) -> tuple[Emulated, Path]:
    url, connection = emulate(processes, tmp_path, "talentlms", token=KEY)
    return Emulated(url), connection


def test_talentlms_end_to_end(clean_server: Server, emulated: tuple[Emulated, Path], tmp_path: Path) -> None:
    remote, connection = emulated
    assert json.loads(connection.read_text())["tool"] == "talentlms"
    integration_id = create_from_file(clean_server, connection, tmp_path)
    with clean_server.store.write() as conn:
        key = create_key(conn, name="e2e", environment="default")
    wake_workers()
    api = clean_server.client(key.secret, integration_id)

    # -- the first sync, and every model read ------------------------------------------------------
    first = finished_sync(clean_server, integration_id)
    assert first.state == "SUCCEEDED", first
    remote_users = remote.v1("users")
    users = listed(api, "/v1/lms/users")
    assert sorted(u["remote_id"] for u in users) == sorted(u["id"] for u in remote_users)
    assert all(u["remote_created_at"] for u in users)
    remote_courses = remote.v1("courses")
    courses = listed(api, "/v1/lms/courses")
    assert sorted(c["remote_id"] for c in courses) == sorted(c["id"] for c in remote_courses)
    assert all(len(c["revisions"]) == 1 and c["provider_id"] is None for c in courses)
    progressions = listed(api, "/v1/lms/course-progressions")
    learner_pairs = {
        f"{u['id']}:{c['id']}"
        for u in remote_users
        for c in remote.v1(f"users/id:{u['id']}")["courses"]
        if c["role"] == "learner"
    }
    assert {p["remote_id"] for p in progressions} == learner_pairs
    completed = [p for p in progressions if p["status"] == "COMPLETED"]
    assert completed and all(p["completed_at"] for p in completed)
    for path in ("/v1/lms/skills", "/v1/hris/skills"):
        refused(api.get(path), "INTEGRATION.MODEL_NOT_AVAILABLE")

    # -- upsert courses, then rename one: matched by origin_id, the link kept ---------------------
    items = [
        {
            "origin_id": f"e2e-{i}",
            "course": {
                "type": "EXTERNAL",
                "title": f"E2E course {i}",
                "course_url": f"https://content.example.com/{i}",
            },
        }
        for i in range(2)
    ]
    task = courses_task(api, items)
    assert task["status"] == "COMPLETED" and [r["status"] for r in task["data"]] == ["SUCCEEDED"] * 2
    items[0]["course"]["title"] = "E2E course 0, renamed"
    again = courses_task(api, items[:1])
    assert again["data"][0]["data"]["id"] == task["data"][0]["data"]["id"]
    on_remote = {c["code"]: c for c in remote.v1("courses") if c["code"].startswith("e2e-")}
    assert on_remote["e2e-0"]["name"] == "E2E course 0, renamed"
    assert on_remote["e2e-0"]["description"].endswith("Course link: https://content.example.com/0")
    assert len(on_remote) == 2

    # -- enrol, and read the enrolment back --------------------------------------------------------
    by_remote = {c["remote_id"]: c for c in listed(api, "/v1/lms/courses")}
    written = by_remote[on_remote["e2e-1"]["id"]]
    assert written["origin_id"] == "e2e-1"
    assert written["revisions"][0]["remote_url"] == "https://content.example.com/1"
    learner = next(u for u in users if u["status"] == "ACTIVE" and u["remote_id"] != "1")
    progression = ok(
        api.post(
            "/v1/lms/course-progressions",
            json={"user_id": learner["id"], "course_revision_id": written["revisions"][0]["id"]},
        )
    )
    assert progression["status"] == "ENROLLED"
    status = remote.v1(
        f"getuserstatusincourse/course_id:{written['remote_id']},user_id:{learner['remote_id']}"
    )
    assert status["role"] == "learner"

    # -- what TalentLMS cannot do is refused before a task or a call -------------------------------
    refused(
        api.post(f"/v1/lms/course-progressions/{progression['id']}/complete", json={}),
        "INTEGRATION.ACTION_NOT_AVAILABLE",
    )
    refused(
        api.post("/v1/hris/skills/bulk", json={"items": [{"origin_id": "s", "name": "s"}]}),
        "INTEGRATION.ACTION_NOT_AVAILABLE",
    )

    # -- deactivate, and read it back --------------------------------------------------------------
    deactivated = ok(api.post(f"/v1/lms/courses/{written['id']}/deactivate"))
    assert deactivated["revisions"][0]["status"] == "INACTIVE"
    assert remote.v1(f"courses/id:{written['remote_id']}")["status"] == "inactive"

    # -- a change on the remote reaches lmsbridge by a delta sync ----------------------------------
    remote.v1(f"usersetstatus/user_id:{learner['remote_id']},status:inactive")
    sync_id = ok(api.post("/v1/force-sync", json={"type": "DELTA"}))["sync_id"]
    wake_workers()
    delta = finished_sync(clean_server, integration_id, after=first.id)
    assert delta.id == sync_id and delta.type == "DELTA" and delta.state == "SUCCEEDED", delta
    after = {u["id"]: u for u in listed(api, "/v1/lms/users")}
    assert after[learner["id"]]["status"] == "INACTIVE"
    api.close()
