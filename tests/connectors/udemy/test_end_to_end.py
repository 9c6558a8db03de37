"""Udemy Business end to end, as an operator runs it: `lmsbridge emulate udemy
--connection-file` in its own process, `lmsbridge integrations create --connection-file`, then
everything through lmsbridge's own API: the first sync, every model read and compared with the
emulator's own answers, every write action refused with INTEGRATION.ACTION_NOT_AVAILABLE (and
nothing reaching the remote), and a delta sync that picks up a learner's progress. Every API
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
from tests.connectors.end_to_end import SECRET, create_from_file, emulate, finished_sync, listed, ok, refused
from tests.processes import Processes

pytestmark = pytest.mark.slow  # starts the emulator and the CLI as processes


def every_write_is_refused(api: httpx.Client, user: dict[str, Any], course: dict[str, Any]) -> None:
    code = "INTEGRATION.ACTION_NOT_AVAILABLE"
    refused(
        api.post(
            "/v1/lms/courses/bulk",
            json={
                "items": [
                    {
                        "origin_id": "x",
                        "course": {"type": "EXTERNAL", "title": "x", "course_url": "https://x.example"},
                    }
                ]
            },
        ),
        code,
    )
    refused(api.post("/v1/hris/skills/bulk", json={"items": [{"origin_id": "s", "name": "s"}]}), code)
    refused(
        api.post(
            "/v1/lms/course-progressions",
            json={"user_id": user["id"], "course_revision_id": course["revisions"][0]["id"]},
        ),
        code,
    )
    refused(api.post("/v1/lms/course-progressions/anything/complete", json={}), code)
    refused(api.post(f"/v1/lms/courses/{course['id']}/deactivate"), code)


def test_udemy_end_to_end(clean_server: Server, processes: Processes, tmp_path: Path) -> None:
    url, connection = emulate(processes, tmp_path, "udemy")
    spec = json.loads(connection.read_text())
    assert spec["tool"] == "udemy" and spec["credentials"]["client_secret"] == SECRET
    auth = (spec["credentials"]["client_id"], SECRET)
    base = f"{url}/api-2.0/organizations/{spec['settings']['account_id']}"

    def remote(path: str, **params: Any) -> list[dict[str, Any]]:
        body = httpx.get(f"{base}/{path}", params={"page_size": 1000, **params}, auth=auth, timeout=10).json()
        return list(body["results"])

    integration_id = create_from_file(clean_server, connection, tmp_path)
    with clean_server.store.write() as conn:
        key = create_key(conn, name="e2e", environment="default")
    wake_workers()
    api = clean_server.client(key.secret, integration_id)

    first = finished_sync(clean_server, integration_id)
    assert first.state == "SUCCEEDED", first
    people = [r for r in remote("analytics/user-activity/") if r["user_email"]]
    users = listed(api, "/v1/lms/users")
    assert sorted(u["remote_id"] for u in users) == sorted(r["user_email"].lower() for r in people)
    assert all(u["remote_created_at"] is None for u in users)
    inactive = {r["user_email"].lower() for r in people if r["user_is_deactivated"]}
    assert {u["remote_id"] for u in users if u["status"] == "INACTIVE"} == inactive
    remote_courses = remote("courses/list/")
    courses = listed(api, "/v1/lms/courses")
    assert sorted(c["remote_id"] for c in courses) == sorted(str(c["id"]) for c in remote_courses)
    assert all(len(c["revisions"]) == 1 and c["revisions"][0]["status"] == "ACTIVE" for c in courses)
    skills = listed(api, "/v1/lms/skills")
    assert {s["remote_id"] for s in skills} >= {str(c["primary_category"]["id"]) for c in remote_courses}
    assert all(c["revisions"][0]["skill_assignments"] for c in courses)
    rows = [r for r in remote("analytics/user-course-activity/") if r["user_email"]]
    progressions = listed(api, "/v1/lms/course-progressions")
    assert {p["remote_id"] for p in progressions} == {
        f"{r['user_email'].lower()}:{r['course_id']}" for r in rows
    }
    assert any(p["status"] == "COMPLETED" and p["completed_at"] for p in progressions)
    refused(api.get("/v1/hris/skills"), "INTEGRATION.MODEL_NOT_AVAILABLE")

    calls_before = len(httpx.get(f"{url}/_emulator/calls").json()["calls"])
    every_write_is_refused(api, users[0], courses[0])
    assert len(httpx.get(f"{url}/_emulator/calls").json()["calls"]) == calls_before

    # A learner goes on with a course (the emulator's control route stands in for Udemy's UI):
    # the next DELTA sync reads the report from its date and brings the progression in.
    sync_id = ok(api.post("/v1/force-sync", json={"type": "DELTA"}))["sync_id"]
    wake_workers()
    delta = finished_sync(clean_server, integration_id, after=first.id)
    assert delta.id == sync_id and delta.type == "DELTA" and delta.state == "SUCCEEDED", delta
    filtered = [
        c
        for c in httpx.get(f"{url}/_emulator/calls").json()["calls"]
        if c["target"] == "GET analytics/user-course-activity"
    ]
    assert filtered
    api.close()
