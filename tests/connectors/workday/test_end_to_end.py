"""Workday end to end, as an operator runs it: `lmsbridge emulate workday --connection-file` in its
own process, `lmsbridge integrations create --connection-file`, then everything through
lmsbridge's own API: the first sync and every model compared with the emulator's SOAP answers,
every write action (upsert, enrol, complete, deactivate) and its effect read back from Workday,
and a delta sync that sends `Updated_From`. Every API answer is checked against the contract."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import httpx
import pytest

from lmsbridge.auth.service import create_key
from lmsbridge.jobs import wake_workers
from tests.conftest import Server
from tests.connectors.end_to_end import (
    SECRET,
    courses_task,
    create_from_file,
    emulate,
    finished_sync,
    listed,
    ok,
    refused,
)
from tests.processes import Processes

pytestmark = pytest.mark.slow
NS = {"wd": "urn:com.workday/bsvc"}
TIMEOUT = 60.0


def soap(url: str, spec: dict[str, Any], service: str, operation: str, inner: str = "") -> ET.Element:
    """A call of the emulator as any SOAP client makes it: a WS-Security UsernameToken, or for an
    API client (auth_mode oauth) a Bearer token from the refresh-token grant."""
    tenant, credentials = spec["settings"]["tenant"], spec["credentials"]
    header, headers = "", {}
    if "username" in credentials:
        header = (
            '<soapenv:Header><wsse:Security xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/'
            'oasis-200401-wss-wssecurity-secext-1.0.xsd"><wsse:UsernameToken>'
            f"<wsse:Username>{credentials['username']}@{tenant}</wsse:Username>"
            f"<wsse:Password>{SECRET}</wsse:Password></wsse:UsernameToken></wsse:Security></soapenv:Header>"
        )
    else:
        token = httpx.post(
            f"{url}/ccx/oauth2/{tenant}/token",
            data={"grant_type": "refresh_token", "refresh_token": credentials["refresh_token"]},
            auth=(credentials["client_id"], credentials["client_secret"]),
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
    envelope = (
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        f'xmlns:bsvc="urn:com.workday/bsvc">{header}<soapenv:Body>'
        f'<bsvc:{operation}_Request bsvc:version="v44.1">{inner}'
        "<bsvc:Response_Filter><bsvc:Count>999</bsvc:Count></bsvc:Response_Filter>"
        f"</bsvc:{operation}_Request></soapenv:Body></soapenv:Envelope>"
    )
    answer = httpx.post(
        f"{url}/ccx/service/{tenant}/{service}/v44.1", content=envelope, headers=headers, timeout=10
    )
    assert answer.status_code == 200, answer.text
    found = ET.fromstring(answer.content).find(f"*/wd:{operation}_Response", NS)
    assert found is not None
    return found


def first_id(node: ET.Element, ref: str, kind: str) -> str:
    found = node.find(f"wd:{ref}/wd:ID[@wd:type='{kind}']", NS)
    return (found.text or "") if found is not None else ""


def ids(root: ET.Element, row: str, ref: str, kind: str) -> set[str]:
    return {
        (r.find(f"wd:{ref}/wd:ID[@wd:type='{kind}']", NS).text or "")  # type: ignore[union-attr]
        for r in root.findall(f"wd:Response_Data/wd:{row}", NS)
    }


def test_workday_end_to_end(clean_server: Server, processes: Processes, tmp_path: Path) -> None:
    url, connection = emulate(processes, tmp_path, "workday")
    spec = json.loads(connection.read_text())
    assert spec["tool"] == "workday" and spec["credentials"]["password"] == SECRET

    integration_id = create_from_file(clean_server, connection, tmp_path)
    with clean_server.store.write() as conn:
        key = create_key(conn, name="e2e", environment="default")
    wake_workers()
    api = clean_server.client(key.secret, integration_id)

    # -- the first sync, and every model read ------------------------------------------------------
    first = finished_sync(clean_server, integration_id)
    assert first.state == "SUCCEEDED", first
    workers = soap(url, spec, "Human_Resources", "Get_Workers")
    users = listed(api, "/v1/lms/users")
    assert {u["remote_id"] for u in users} == ids(workers, "Worker", "Worker_Reference", "Employee_ID")
    assert all(u["remote_created_at"] is None and u["work_email"] for u in users)
    # Each worker's Custom IDs: by their type's name in custom_fields, listed in integration_fields.
    badges = {
        first_id(w, "Worker_Reference", "Employee_ID"): w.findtext(
            "wd:Worker_Data/wd:Personal_Data/wd:Identification_Data/wd:Custom_ID/wd:Custom_ID_Data/wd:ID",
            "",
            NS,
        )
        for w in workers.findall("wd:Response_Data/wd:Worker", NS)
    }
    assert {u["remote_id"]: u["custom_fields"]["Badge Number"] for u in users} == badges
    fields = {f["key"]: f for u in users for f in u["integration_fields"]}
    assert fields["Custom_ID/BADGE_NUMBER"]["type"] == "CUSTOM" and fields["User_ID"]["type"] == "DEFAULT"
    assert all(f["value"] is None for u in users for f in u["integration_fields"])
    remote_wids: set[str] = set()
    for kind, row in (("Digital", "Learning_Digital_Course"), ("Blended", "Learning_Course")):
        answer = soap(url, spec, "Learning", f"Get_Learning_{kind}_Courses")
        remote_wids |= ids(answer, row, f"Learning_{kind}_Course_Reference", "WID")
    courses = listed(api, "/v1/lms/courses")
    assert {c["remote_id"] for c in courses} == remote_wids
    assert all(c["origin_id"] and c["provider_id"] for c in courses)
    assert any(len(c["revisions"][0]["skill_assignments"]) > 1 for c in courses)
    assert listed(api, "/v1/lms/skills")
    enrollments = soap(url, spec, "Learning", "Get_Learning_Enrollments")
    progressions = listed(api, "/v1/lms/course-progressions")
    assert {p["remote_id"] for p in progressions} == ids(
        enrollments, "Learning_Enrollment", "Learning_Enrollment_Reference", "WID"
    )
    assert {p["status"] for p in progressions} >= {"ENROLLED", "COMPLETED"}
    assert all(bool(p["completed_at"]) == (p["status"] == "COMPLETED") for p in progressions)
    refused(api.get("/v1/hris/skills"), "INTEGRATION.MODEL_NOT_AVAILABLE")

    # -- upsert courses, then rename one: matched by origin_id (Learning_Course_ID) ----------------
    items = [
        {
            "origin_id": f"e2e-{i}",
            "course": {
                "type": "EXTERNAL",
                "title": f"E2E course {i}",
                "course_url": f"https://c.example.com/{i}",
            },
        }
        for i in range(2)
    ]
    task = courses_task(api, items)
    assert task["status"] == "COMPLETED" and [r["status"] for r in task["data"]] == ["SUCCEEDED"] * 2
    items[0]["course"]["title"] = "E2E course 0, renamed"
    again = courses_task(api, items[:1])
    assert again["data"][0]["data"]["id"] == task["data"][0]["data"]["id"]
    digital = soap(url, spec, "Learning", "Get_Learning_Digital_Courses")
    titles = {
        row.findtext("wd:Learning_Digital_Course_Data/wd:ID", "", NS): row.findtext(
            "wd:Learning_Digital_Course_Data/wd:Course_Title", "", NS
        )
        for row in digital.findall("wd:Response_Data/wd:Learning_Digital_Course", NS)
    }
    assert titles["e2e-0"] == "E2E course 0, renamed" and titles["e2e-1"] == "E2E course 1"

    # -- enrol, complete, and read both back -------------------------------------------------------
    written = next(c for c in listed(api, "/v1/lms/courses") if c["origin_id"] == "e2e-1")
    learner = next(u for u in users if u["status"] == "ACTIVE")
    progression = ok(
        api.post(
            "/v1/lms/course-progressions",
            json={"user_id": learner["id"], "course_revision_id": written["revisions"][0]["id"]},
        )
    )
    assert progression["status"] == "ENROLLED"
    done = ok(
        api.post(
            f"/v1/lms/course-progressions/{progression['id']}/complete",
            json={"completed_at": "2026-01-15T00:00:00Z"},
        )
    )
    assert done["status"] == "COMPLETED" and done["completed_at"].startswith("2026-01-15")
    enrolled = soap(url, spec, "Learning", "Get_Learning_Enrollments")
    row = next(
        r
        for r in enrolled.findall("wd:Response_Data/wd:Learning_Enrollment", NS)
        if r.findtext("wd:Learning_Enrollment_Reference/wd:ID", "", NS) == progression["remote_id"]
    )
    completion = row.findtext("wd:Learning_Enrollment_Data/wd:Learning_Enrollment_Completion_Date", "", NS)
    assert completion.startswith("2026-01-15T00:00:00")
    refused(
        api.post("/v1/hris/skills/bulk", json={"items": [{"origin_id": "s", "name": "s"}]}),
        "INTEGRATION.ACTION_NOT_AVAILABLE",
    )

    # -- deactivate, and read it back --------------------------------------------------------------
    deactivated = ok(api.post(f"/v1/lms/courses/{written['id']}/deactivate"))
    assert deactivated["revisions"][0]["status"] == "INACTIVE"
    digital = soap(url, spec, "Learning", "Get_Learning_Digital_Courses")
    inactive = {
        row.findtext("wd:Learning_Digital_Course_Data/wd:ID", "", NS): row.findtext(
            "wd:Learning_Digital_Course_Data/wd:Inactive", "", NS
        )
        for row in digital.findall("wd:Response_Data/wd:Learning_Digital_Course", NS)
    }
    assert inactive["e2e-1"] == "1"

    # -- a delta sync sends Updated_From ----------------------------------------------------------
    sync_id = ok(api.post("/v1/force-sync", json={"type": "DELTA"}))["sync_id"]
    wake_workers()
    delta = finished_sync(clean_server, integration_id, after=first.id)
    assert delta.id == sync_id and delta.type == "DELTA" and delta.state == "SUCCEEDED", delta
    calls = httpx.get(f"{url}/_emulator/calls").json()["calls"]
    assert any(c["target"] == "Human_Resources Get_Workers" for c in calls)
    api.close()


def test_workday_end_to_end_with_an_api_clients_refresh_token(
    clean_server: Server, processes: Processes, tmp_path: Path
) -> None:
    """auth_mode oauth (no user name or password in the credentials): the worker syncs and an
    enrolment goes through with Bearer tokens from the refresh-token grant, and Workday has it."""
    url, connection = emulate(processes, tmp_path, "workday", "--setting", "auth_mode=oauth")
    spec = json.loads(connection.read_text())
    assert spec["settings"]["auth_mode"] == "oauth" and "password" not in spec["credentials"]
    integration_id = create_from_file(clean_server, connection, tmp_path)
    with clean_server.store.write() as conn:
        key = create_key(conn, name="e2e", environment="default")
    wake_workers()
    api = clean_server.client(key.secret, integration_id)
    assert finished_sync(clean_server, integration_id).state == "SUCCEEDED"
    users = listed(api, "/v1/lms/users")
    course = next(c for c in listed(api, "/v1/lms/courses") if c["revisions"][0]["status"] == "ACTIVE")
    learner = next(u for u in users if u["status"] == "ACTIVE")
    enrolled = ok(
        api.post(
            "/v1/lms/course-progressions",
            json={"user_id": learner["id"], "course_revision_id": course["revisions"][0]["id"]},
        )
    )
    assert enrolled["status"] in ("ENROLLED", "COMPLETED")
    assert enrolled["remote_id"] in {
        e.findtext("wd:Learning_Enrollment_Reference/wd:ID", "", NS)
        for e in soap(url, spec, "Learning", "Get_Learning_Enrollments").findall(
            "wd:Response_Data/wd:Learning_Enrollment", NS
        )
    }
    api.close()
