"""360Learning end to end, as an operator runs it: `lmsbridge emulate 360learning
--connection-file` in its own process, `lmsbridge integrations create --connection-file`, then
everything through lmsbridge's own API: the first sync, every model read, every write action and
its effect read back from the emulator, the refusal of enrolment, and a delta sync. Every API
answer is checked against the contract."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx

from lmsbridge.auth.service import create_key
from lmsbridge.jobs.wakeup import wake_workers
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
from tests.contract import checked
from tests.processes import Processes

SECRET = "e2e-client-secret-0f1e2d3c4b5a6978"


class Emulated:
    """The emulator process, read through 360Learning's own API to see effects."""

    def __init__(self, url: str, client_id: str) -> None:
        self.url = url
        token = httpx.post(
            f"{url}/api/v2/oauth2/token",
            json={"grant_type": "client_credentials", "client_id": client_id, "client_secret": SECRET},
            timeout=10,
        )
        assert token.status_code == 200, token.text
        self.headers = {"Authorization": f"Bearer {token.json()['access_token']}", "360-api-version": "v2.0"}

    def all(self, path: str, **params: Any) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        url: str | None = f"{self.url}{path}"
        while url:
            response = httpx.get(url, headers=self.headers, params=params or None, timeout=10)
            assert response.status_code == 200, response.text
            rows += response.json()
            url, params = response.links.get("next", {}).get("url"), {}
        return rows

    def bulk(self, method: str, path: str, inputs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        submitted = httpx.request(method, f"{self.url}{path}", headers=self.headers, json={"input": inputs})
        assert submitted.status_code == 202, submitted.text
        while self.get(submitted.headers["Location"])["status"] not in ("completed", "error"):
            time.sleep(0.02)
        results: list[dict[str, Any]] = self.get(submitted.headers["Location"] + "/results")
        assert all(r["status"] == "success" for r in results), results
        return results

    def get(self, path: str) -> Any:
        response = httpx.get(f"{self.url}{path}", headers=self.headers, timeout=10)
        assert response.status_code == 200, response.text
        return response.json()


def test_360learning_end_to_end(clean_server: Server, processes: Processes, tmp_path: Path) -> None:
    url, connection = emulate(processes, tmp_path, "360learning", token=SECRET)
    described = json.loads(connection.read_text())
    assert described["tool"] == "360learning"
    remote = Emulated(url, described["credentials"]["client_id"])
    integration_id = create_from_file(clean_server, connection, tmp_path)
    with clean_server.store.write() as conn:
        key = create_key(conn, name="e2e", environment="default")
    wake_workers()
    api = clean_server.client(key.secret, integration_id)

    # -- the first sync, and every model read ------------------------------------------------------
    first = finished_sync(clean_server, integration_id)
    assert first.state == "SUCCEEDED", first
    remote_users = remote.all("/api/v2/users")
    users = listed(api, "/v1/lms/users")
    assert sorted(u["remote_id"] for u in users) == sorted(u["_id"] for u in remote_users)
    deleted = {u["_id"] for u in remote_users if u["status"] == "deleted"}
    assert deleted and all(u["status"] == "INACTIVE" for u in users if u["remote_id"] in deleted)
    remote_courses = remote.all("/api/v2/courses")
    courses = listed(api, "/v1/lms/courses")
    assert sorted(c["remote_id"] for c in courses) == sorted(c["_id"] for c in remote_courses)
    external = {c["_id"] for c in remote_courses if c["type"] == "external"}
    assert external and all((c["provider_id"] is not None) == (c["remote_id"] in external) for c in courses)
    progressions = listed(api, "/v1/lms/course-progressions")
    attempts = remote.all("/api/v2/courses/stats")
    assert len(progressions) == len(attempts)
    assert any(p["status"] == "COMPLETED" and p["completed_at"] for p in progressions)
    skills = listed(api, "/v1/lms/skills")
    assert sorted(s["remote_id"] for s in skills) == sorted(s["_id"] for s in remote.all("/api/v2/skills"))
    assert len(listed(api, "/v1/hris/skills")) == len(skills)

    # -- upsert courses through a bulk operation, then rename one: matched by externalId -----------
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
    task_id = ok(api.post("/v1/lms/courses/bulk", json={"items": items}))["task_id"]
    task = wait_task(api, f"/v1/lms/courses/bulk/{task_id}")
    assert task["status"] == "COMPLETED" and [r["status"] for r in task["data"]] == ["SUCCEEDED"] * 2
    items[0]["course"]["title"] = "E2E course 0, renamed"
    again_id = ok(api.post("/v1/lms/courses/bulk", json={"items": items[:1]}))["task_id"]
    again = wait_task(api, f"/v1/lms/courses/bulk/{again_id}")
    assert again["data"][0]["data"]["id"] == task["data"][0]["data"]["id"]
    written = {r["origin_id"]: r["data"]["id"] for r in task["data"]}
    by_id = {c["id"]: c for c in listed(api, "/v1/lms/courses")}
    course_0 = remote.get(f"/api/v2/courses/{by_id[written['e2e-0']]['remote_id']}")
    assert course_0["name"] == "E2E course 0, renamed" and course_0["type"] == "external"
    assert course_0["externalPlatform"] == "lmsbridge"  # the connector created its own integration
    assert [i["externalPlatform"] for i in remote.all("/api/v2/integrations")] == [
        "Acme Academy",
        "lmsbridge",
    ]

    # -- upsert skills through the skills bulk API -------------------------------------------------
    skill_task = ok(
        api.post("/v1/hris/skills/bulk", json={"items": [{"origin_id": "sk-1", "name": "Negotiation"}]})
    )
    done = wait_task(api, f"/v1/hris/skills/bulk/{skill_task['task_id']}")
    assert done["status"] == "COMPLETED", done
    assert any(
        s.get("externalId") == "sk-1" and s["name"] == "Negotiation" for s in remote.all("/api/v2/skills")
    )

    # -- enrolment is refused before any call ------------------------------------------------------
    learner = next(u for u in users if u["status"] == "ACTIVE")
    revision = by_id[written["e2e-1"]]["revisions"][0]
    refused(
        api.post(
            "/v1/lms/course-progressions",
            json={"user_id": learner["id"], "course_revision_id": revision["id"]},
        ),
        "INTEGRATION.ACTION_NOT_AVAILABLE",
    )

    # -- complete an attempt on a course of lmsbridge's integration -------------------------------
    # The learner's activity on the written course arrives as 360Learning statistics (progress 30).
    ours = next(i["_id"] for i in remote.all("/api/v2/integrations") if i["externalPlatform"] == "lmsbridge")
    course_1 = by_id[written["e2e-1"]]["remote_id"]
    remote.bulk(
        "POST",
        f"/api/v2/bulk/integrations/{ours}/stats",
        [
            {
                "courseIdentifier": {"type": "internalId", "value": course_1},
                "userIdentifier": {"type": "internalId", "value": learner["remote_id"]},
                "progress": 30,
                "timeSpent": 60000,
                "firstActivityAt": "2026-01-05T10:00:00.000Z",
                "lastActivityAt": "2026-01-05T10:30:00.000Z",
            }
        ],
    )
    sync_id = ok(api.post("/v1/force-sync", json={"type": "FULL"}))["sync_id"]
    wake_workers()
    full = finished_sync(clean_server, integration_id, after=first.id)
    assert full.id == sync_id and full.state == "SUCCEEDED", full
    attempt = next(
        p for p in listed(api, "/v1/lms/course-progressions") if p["remote_id"].startswith(course_1)
    )
    assert attempt["status"] == "IN_PROGRESS"
    completion = ok(api.post(f"/v1/lms/course-progressions/{attempt['id']}/complete", json={}))
    assert completion["status"] == "COMPLETED" and completion["completed_at"]
    on_remote = remote.all("/api/v2/courses/stats", **{"courseId[eq]": course_1})
    assert [(a["progress"], bool(a.get("completedAt"))) for a in on_remote] == [(100, True)]
    # A native course's attempt cannot take imported statistics: the remote's per-input error.
    native = next(
        p for p in progressions if p["status"] != "COMPLETED" and p["remote_id"].split(":")[0] not in external
    )
    failed = api.post(f"/v1/lms/course-progressions/{native['id']}/complete", json={})
    checked(failed)
    assert failed.status_code == 400 and failed.json()["error"]["code"] == "REMOTE.INPUT_INVALID"

    # -- deactivate, and read it back --------------------------------------------------------------
    deactivated = ok(api.post(f"/v1/lms/courses/{written['e2e-1']}/deactivate"))
    assert deactivated["revisions"][0]["status"] == "INACTIVE"
    assert remote.get(f"/api/v2/courses/{deactivated['remote_id']}")["status"] == "archived"

    # -- a change on the remote reaches lmsbridge by a delta sync ----------------------------------
    sync_id = ok(api.post("/v1/force-sync", json={"type": "DELTA"}))["sync_id"]
    wake_workers()
    delta = finished_sync(clean_server, integration_id, after=first.id)
    assert delta.id == sync_id and delta.type == "DELTA" and delta.state == "SUCCEEDED", delta
    api.close()
