"""The Cornerstone emulator as a client other than lmsbridge sees it: both token bodies, the
three paging styles where Cornerstone uses them, filters, and the error and 429 shapes."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from lmsbridge.testing.emulators.cornerstoneondemand.site import user_row
from lmsbridge.testing.emulators.kit import Fault
from tests.connectors.cornerstoneondemand.conftest import CLIENT, Tenant


def test_tokens_are_issued_for_json_or_form_bodies(tenant: Tenant) -> None:
    url = f"{tenant.url}/services/api/oauth2/token"
    by_json = httpx.post(
        url,
        json={
            "clientId": CLIENT[0],
            "clientSecret": CLIENT[1],
            "grantType": "client_credentials",
            "scope": "a b",
        },
    )
    assert by_json.status_code == 200
    assert set(by_json.json()) == {"access_token", "expires_in", "scope", "token_type"}
    assert by_json.json()["token_type"] == "Bearer" and by_json.json()["scope"] == "a b"
    by_form = httpx.post(
        url, data={"client_id": CLIENT[0], "client_secret": CLIENT[1], "grant_type": "client_credentials"}
    )
    assert by_form.status_code == 200
    wrong = httpx.post(
        url, json={"clientId": CLIENT[0], "clientSecret": "x", "grantType": "client_credentials"}
    )
    assert wrong.status_code == 401 and wrong.json()["error"]["message"]
    grant = httpx.post(url, json={"clientId": CLIENT[0], "clientSecret": CLIENT[1], "grantType": "password"})
    assert grant.status_code == 400


def test_employees_page_by_next_page_token(tenant: Tenant) -> None:
    token = tenant.token()
    seen, params = [], {"pageSize": "5"}
    while True:
        body = tenant.get("x/users/v2/employees", token, params=params).json()
        assert len(body["data"]) <= 5
        seen += [e["id"] for e in body["data"]]
        assert body["count"] == len(body["data"]) and body["timestamp"]
        if "nextpagetoken" not in body:
            break
        params = {"pageSize": "5", "nextPageToken": body["nextpagetoken"]}
    assert sorted(seen) == sorted(e["id"] for e in tenant.portal.employees)
    one = tenant.get(f"x/users/v2/employees/{seen[0]}", token).json()["data"]
    assert one["id"] == seen[0] and one["guid"]


def test_views_page_by_prefer_and_next_link_and_filter(tenant: Tenant) -> None:
    token = tenant.token()
    url: str | None = f"{tenant.url}/services/api/x/odata/api/views/vw_rpt_transcript?$count=true"
    rows: list[dict[str, object]] = []
    pages = 0
    while url:
        body = httpx.get(
            url, headers={"Authorization": f"Bearer {token}", "Prefer": "odata.maxpagesize=7"}
        ).json()
        assert len(body["value"]) <= 7 and body["@odata.count"] == len(tenant.portal.transcripts)
        rows += body["value"]
        url, pages = body.get("@odata.nextLink"), pages + 1
    assert pages > 1 and len(rows) == len(tenant.portal.transcripts)
    done = tenant.get(
        "x/odata/api/views/vw_rpt_transcript", token, params={"$filter": "user_lo_status_group_id eq 11"}
    )
    assert done.json()["value"] and all(r["user_lo_status_group_id"] == 11 for r in done.json()["value"])
    bad = tenant.get("x/odata/api/views/vw_rpt_transcript", token, params={"$filter": "nope eq 1"})
    assert bad.status_code == 400 and bad.json()["error"]["message"]


def test_transcript_search_pages_by_number_in_24_hour_windows(tenant: Tenant) -> None:
    token = tenant.token()
    for i in range(60):
        tenant.portal.touch(tenant.portal.transcripts[i % len(tenant.portal.transcripts)])
    touched = [r["_last_touched_dt_utc"] for r in tenant.portal.transcripts]
    start, end = min(touched), max(touched)
    window = {"ModificationStartDate": start, "ModificationEndDate": end}
    first = tenant.get("LOTranscript/TranscriptSearch", token, params={**window, "PageNumber": "1"}).json()
    assert 0 < len(first["data"]) <= 50
    wide = tenant.get(
        "LOTranscript/TranscriptSearch",
        token,
        params={
            "ModificationStartDate": "2024-01-01T00:00:00Z",
            "ModificationEndDate": "2024-01-03T00:00:00Z",
        },
    )
    assert wide.status_code == 400


def test_errors_and_the_429_carry_cornerstone_shapes(tenant: Tenant) -> None:
    assert tenant.get("x/users/v2/employees").status_code == 401
    token = tenant.token()
    missing = tenant.get("x/odata/api/views/vw_rpt_nothing", token)
    assert missing.status_code == 404
    assert set(missing.json()) == {"status", "timeStamp", "error"} and missing.json()["status"] == "404"
    tenant.portal.faults.add(Fault("status", None, 1, 503))
    assert tenant.get("x/users/v2/employees", token).status_code == 503
    tenant.portal.limiter.set(0.01, 1)
    try:
        answers = [tenant.get("x/users/v2/employees", token) for _ in range(2)]
    finally:
        tenant.portal.limiter.set(None)
    throttled = answers[-1]
    assert throttled.status_code == 429
    assert throttled.json()["error"]["message"] == "CSOD Too many requests."
    assert int(throttled.headers["x-csod-throttling-rate-limit-urilevel"]) > 0
    assert throttled.headers["x-csod-requests-remaining-urilevel"] == "0"


def _view(tenant: Tenant, token: str, name: str, **params: str) -> httpx.Response:
    return tenant.get(f"x/odata/api/views/{name}", token, params=params)


def test_filters_read_as_cornerstone_clients_write_them(tenant: Tenant) -> None:
    """Unquoted GUIDs, booleans, `or` with parentheses and cast(...) dates, as the reference's and
    public clients' filters are written; `$select` narrows the columns."""
    token = tenant.token()
    lo = tenant.portal.training[0]["lo_object_id"]
    one = _view(tenant, token, "vw_rpt_training", **{"$filter": f"lo_object_id eq {lo}"}).json()["value"]
    assert [r["lo_object_id"] for r in one] == [lo]
    active = (
        "is_removed eq false and is_archive eq 0 and "
        "(user_lo_status_group_id eq 12 or user_lo_status_group_id eq 13)"
    )
    got = _view(tenant, token, "vw_rpt_transcript", **{"$filter": active}).json()["value"]
    expected = [
        r["reg_num"]
        for r in tenant.portal.transcripts
        if r["is_removed"] is False and r["user_lo_status_group_id"] in (12, 13)
    ]
    assert expected and sorted(r["reg_num"] for r in got) == sorted(expected)
    since = "user_lo_assigned_dt ge cast('2000-01-01T00:00:00Z', Edm.DateTimeOffset)"
    assert len(_view(tenant, token, "vw_rpt_transcript", **{"$filter": since}).json()["value"]) == len(
        tenant.portal.transcripts
    )
    narrow = _view(tenant, token, "vw_rpt_training", **{"$select": "lo_object_id,related_lo_id"}).json()
    assert all(set(r) == {"lo_object_id", "related_lo_id"} for r in narrow["value"])
    for broken in ("(lo_version eq '1'", "lo_version eq '1' or", "lo_version eq"):
        answer = _view(tenant, token, "vw_rpt_training", **{"$filter": broken})
        assert answer.status_code == 400, broken
    assert _view(tenant, token, "vw_rpt_training", **{"$select": "nope"}).status_code == 400


def test_versions_are_rows_of_their_own_and_transcripts_name_theirs(tenant: Tenant) -> None:
    training = tenant.portal.training
    by_course: dict[str, list[dict[str, object]]] = {}
    for row in training:
        by_course.setdefault(str(row["related_lo_id"] or row["lo_object_id"]), []).append(row)
    assert max(len(v) for v in by_course.values()) == 3 and min(len(v) for v in by_course.values()) == 1
    for original, versions in by_course.items():
        assert sum(1 for v in versions if v["is_latest_training_version"] is True) == 1
        assert {v["lo_version"] for v in versions} == {str(n) for n in range(1, len(versions) + 1)}
        assert all(v["related_lo_id"] in (None, original) for v in versions)
    assert {row["lo_active"] for row in training} <= {"Y", "N"}
    latest = {str(r["lo_object_id"]) for r in training if r["is_latest_training_version"]}
    taken = {str(r["transc_object_id"]) for r in tenant.portal.transcripts}
    assert taken - latest, "some transcripts are on an earlier version"
    newer = tenant.portal.add_version(str(training[0]["lo_object_id"]))
    assert newer["related_lo_id"] == training[0]["lo_object_id"] and newer["lo_version"] == "2"
    assert [
        r["is_latest_training_version"] for r in training if r["lo_object_id"] == training[0]["lo_object_id"]
    ] == [False]


def test_transcript_assign_names_the_learner_by_external_id_or_guid(tenant: Tenant) -> None:
    headers = {"Authorization": f"Bearer {tenant.token()}"}
    first, second = tenant.portal.employees[0], tenant.portal.employees[1]
    fresh = tenant.portal.add_lo("Fresh", "https://c.example/f", None, "Cornerstone")

    def assign(**learner: str) -> httpx.Response:
        body = {"learningObjectId": fresh["lo_object_id"], **learner}
        return httpx.post(f"{tenant.url}/services/api/v1/transcripts/assign", headers=headers, json=body)

    by_external = assign(externalId=first["externalId"], assignment="assigned")
    by_guid = assign(userGuid=second["guid"])
    assert by_external.status_code == by_guid.status_code == 200
    assert by_external.json()["status"] == "success"
    on_fresh = {
        r["transc_user_id"]
        for r in tenant.portal.transcripts
        if r["transc_object_id"] == fresh["lo_object_id"]
    }
    assert on_fresh == {first["id"], second["id"]}
    nobody = assign(externalId="nobody")
    assert nobody.status_code == 404 and nobody.json()["error"]["message"]
    assert assign(externalId=first["externalId"], assignment="x").status_code == 400


COLUMNS = json.loads((Path(__file__).parent / "view_columns.json").read_text())
SAMPLES = (
    Path(__file__).resolve().parents[4]
    / "shared/reference/vendor-specs/cornerstone/digitregroup-sample-payloads"
)
KINDS = {"String": (str,), "Number": (int, float), "Date": (str,), "Boolean": (bool,)}


def json_kind(value: object) -> str:
    return {bool: "boolean", int: "number", float: "number", str: "string"}.get(
        type(value), type(value).__name__
    )


def test_view_rows_carry_only_the_views_listed_columns_with_their_types(tenant: Tenant) -> None:
    """vw_rpt_training and vw_rpt_transcript rows against the views' field lists (view_columns.json)."""
    for view, rows in (
        ("vw_rpt_training", tenant.portal.training),
        ("vw_rpt_transcript", tenant.portal.transcripts),
    ):
        listed = set(COLUMNS[view]) | set(COLUMNS["also"].get(view, []))
        types = COLUMNS["types"][view]
        for row in rows:
            assert set(row) <= listed, (view, set(row) - listed)
            for name, value in row.items():
                assert value is None or isinstance(value, KINDS[types[name]]), (view, name, value)
                if types[name] == "Number":
                    assert not isinstance(value, bool), (view, name, value)


@pytest.mark.skipif(not SAMPLES.is_dir(), reason="../shared/reference is not at hand")
def test_user_rows_and_employees_follow_the_captured_samples(tenant: Tenant) -> None:
    """vw_rpt_user rows and Employee API records: keys of the captured samples (the v2 record names
    the external id `externalId`, as csod.dev's pagination example shows), values of their JSON kinds."""
    for sample, served, renamed in (
        ("user.json", [user_row(e) for e in tenant.portal.employees], {}),
        ("employee.json", tenant.portal.employees, {"externalId": "userId"}),
    ):
        captured = json.loads((SAMPLES / sample).read_text())
        for record in served:
            for key, value in record.items():
                name = renamed.get(key, key)
                assert name in captured, (sample, key)
                if value is not None and captured[name] is not None:
                    assert json_kind(value) == json_kind(captured[name]), (sample, key, value)
