"""LinkedIn Learning end to end, as an operator runs it: `lmsbridge emulate linkedinlearning
--connection-file` in its own process, `lmsbridge integrations create --connection-file`, then
through lmsbridge's own API: the first sync, every model read and compared with the emulator's
own answers, every write action refused with INTEGRATION.ACTION_NOT_AVAILABLE (nothing reaching
the remote), and a delta sync on LinkedIn's own filters. Every API answer is checked against the
contract."""

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
from tests.connectors.udemy.test_end_to_end import every_write_is_refused
from tests.processes import Processes

pytestmark = pytest.mark.slow  # starts the emulator and the CLI as processes


def test_linkedinlearning_end_to_end(clean_server: Server, processes: Processes, tmp_path: Path) -> None:
    url, connection = emulate(processes, tmp_path, "linkedinlearning")
    spec = json.loads(connection.read_text())
    assert spec["tool"] == "linkedinlearning" and spec["settings"]["api_url"] == url
    token = httpx.post(
        f"{url}/oauth/v2/accessToken",
        data={
            "grant_type": "client_credentials",
            "client_id": spec["credentials"]["client_id"],
            "client_secret": SECRET,
        },
    ).json()["access_token"]

    def remote(path_and_query: str) -> list[dict[str, Any]]:
        body = httpx.get(
            f"{url}/v2/{path_and_query}&count=100",
            headers={"Authorization": f"Bearer {token}", "X-RestLi-Protocol-Version": "2.0.0"},
            timeout=10,
        ).json()
        return list(body["elements"])

    integration_id = create_from_file(clean_server, connection, tmp_path)
    with clean_server.store.write() as conn:
        key = create_key(conn, name="e2e", environment="default")
    wake_workers()
    api = clean_server.client(key.secret, integration_id)

    first = finished_sync(clean_server, integration_id)
    assert first.state == "SUCCEEDED", first
    assets = remote(
        "learningAssets?q=localeAndType&assetType=COURSE&sourceLocale=(language:en,country:US)&includeRetired=true"
    )
    courses = listed(api, "/v1/lms/courses")
    assert sorted(c["remote_id"] for c in courses) == sorted(a["urn"] for a in assets)
    retired = {a["urn"] for a in assets if a["details"]["availability"] == "RETIRED"}
    assert {c["remote_id"] for c in courses if c["revisions"][0]["status"] == "INACTIVE"} == retired
    skills = listed(api, "/v1/lms/skills")
    remote_skills = remote("learningClassifications?q=localeAndType&type=SKILL")
    assert sorted(s["remote_id"] for s in skills) == sorted(c["urn"] for c in remote_skills)
    rows = remote(
        "learningActivityReports?q=criteria&startedAt=0&timeOffset=(unit:MONTH,duration:1200)"
        "&aggregationCriteria=(primary:INDIVIDUAL,secondary:CONTENT)"
    )
    users = listed(api, "/v1/lms/users")
    assert sorted(u["remote_id"] for u in users) == sorted(
        {r["learnerDetails"]["uniqueUserId"] for r in rows}
    )
    progressions = listed(api, "/v1/lms/course-progressions")
    assert {p["remote_id"] for p in progressions} == {
        f"{r['learnerDetails']['uniqueUserId']}:{r['contentDetails']['contentUrn']}" for r in rows
    }
    assert any(p["status"] == "COMPLETED" and p["completed_at"] for p in progressions)
    refused(api.get("/v1/hris/skills"), "INTEGRATION.MODEL_NOT_AVAILABLE")

    calls_before = len(httpx.get(f"{url}/_emulator/calls").json()["calls"])
    every_write_is_refused(api, users[0], courses[0])
    assert len(httpx.get(f"{url}/_emulator/calls").json()["calls"]) == calls_before

    sync_id = ok(api.post("/v1/force-sync", json={"type": "DELTA"}))["sync_id"]
    wake_workers()
    delta = finished_sync(clean_server, integration_id, after=first.id)
    assert delta.id == sync_id and delta.type == "DELTA" and delta.state == "SUCCEEDED", delta
    calls = httpx.get(f"{url}/_emulator/calls").json()["calls"][calls_before:]
    assert any(c["target"] == "GET learningAssets" for c in calls)
    api.close()
