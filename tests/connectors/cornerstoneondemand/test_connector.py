"""The Cornerstone connector against its emulator over real HTTP: the mapping of each model,
transcript statuses (a translated name gives no status), the reporting delta, every documented
failure to its contract code, writes and their refusals, preflight and passthrough."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from lmsbridge.connectors.base import CourseUpsert, WriteAction
from lmsbridge.connectors.cornerstoneondemand.connector import CornerstoneConnector
from lmsbridge.connectors.errors import ConnectorError
from lmsbridge.errors import ErrorCode
from lmsbridge.testing.emulators.kit import Fault
from tests.connectors.cornerstoneondemand.conftest import Tenant, read_all


def test_users_come_from_the_employee_api_with_their_creation(tenant: Tenant) -> None:
    users = read_all(tenant.connector(page_size=4), "lms_users")
    assert sorted(u.remote_id for u in users) == sorted(str(e["id"]) for e in tenant.portal.employees)
    assert all(u.remote_created_at is not None and u.work_email for u in users)
    assert {u.status for u in users} <= {"ACTIVE", "INACTIVE"}


def versions_of(portal_training: list[dict[str, Any]]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for row in portal_training:
        found.setdefault(str(row["related_lo_id"] or row["lo_object_id"]), []).append(
            str(row["lo_object_id"])
        )
    return found


def test_courses_carry_every_version_as_a_revision(tenant: Tenant) -> None:
    connector = tenant.connector(page_size=3)
    courses = read_all(connector, "lms_courses")
    expected = versions_of(tenant.portal.training)
    assert sorted(c.remote_id for c in courses) == sorted(expected)
    for c in courses:
        assert sorted(r.remote_id for r in c.revisions) == sorted(expected[c.remote_id])
        assert all("ProcessRedirect.aspx" in (r.remote_url or "") for r in c.revisions)
        starts = [r.remote_created_at for r in c.revisions]
        assert starts == sorted(starts)  # oldest version first, the latest last
        latest = next(t for t in tenant.portal.training if t["lo_object_id"] == c.revisions[-1].remote_id)
        assert latest["is_latest_training_version"] is True
    assert max(len(c.revisions) for c in courses) == 3
    by_lo = {t["lo_object_id"]: t for t in tenant.portal.training}
    inactive = {c.remote_id for c in courses if c.revisions[-1].status == "INACTIVE"}
    assert inactive == {c.remote_id for c in courses if by_lo[c.revisions[-1].remote_id]["lo_active"] == "N"}
    assert inactive, "the seed has an inactive learning object"


def test_progressions_point_at_the_version_taken(tenant: Tenant) -> None:
    progressions = read_all(tenant.connector(), "lms_course_progressions")
    course_of = {lo: root for root, los in versions_of(tenant.portal.training).items() for lo in los}
    latest = {t["lo_object_id"] for t in tenant.portal.training if t["is_latest_training_version"]}
    for p in progressions:
        row = next(r for r in tenant.portal.transcripts if str(r["reg_num"]) == p.remote_id)
        assert p.revision_remote_id == row["transc_object_id"]
        assert p.course_remote_id == course_of[p.revision_remote_id]
    assert any(p.revision_remote_id not in latest for p in progressions)


def test_a_new_version_is_read_whole_by_a_delta(tenant: Tenant) -> None:
    """A delta finds the course whose version was added and reads all its versions, so the
    course record keeps its earlier revisions."""
    original = next(t for t in tenant.portal.training if t["lo_version"] == "2")["related_lo_id"]
    since = datetime.now(UTC) - timedelta(seconds=1)
    added = tenant.portal.add_version(str(original))
    delta = read_all(tenant.connector(), "lms_courses", since)
    assert [c.remote_id for c in delta] == [original]
    assert [r.remote_id for r in delta[0].revisions] == [
        *[lo for lo in versions_of(tenant.portal.training)[str(original)] if lo != added["lo_object_id"]],
        added["lo_object_id"],
    ]
    assert len(delta[0].revisions) == 3


def test_providers_and_skills_come_from_the_views(tenant: Tenant) -> None:
    connector = tenant.connector(page_size=3)
    courses = read_all(connector, "lms_courses")
    skills = read_all(connector, "lms_skills")
    assert {s.remote_id for s in skills} == {str(c["competency_id"]) for c in tenant.portal.competencies}
    assigned = {sid for c in courses for r in c.revisions for sid in r.skill_remote_ids}
    assert assigned and assigned <= {s.remote_id for s in skills}
    providers = read_all(connector, "lms_course_providers")
    assert {p.remote_id for p in providers} == {str(c.provider_remote_id) for c in courses}


def test_transcript_statuses_follow_the_status_group_and_a_translation_gives_none(tenant: Tenant) -> None:
    progressions = {p.remote_id: p for p in read_all(tenant.connector(), "lms_course_progressions")}
    for row in tenant.portal.transcripts:
        got = progressions[str(row["reg_num"])].status
        if row["is_removed"]:
            assert got == "DROPPED"
        elif row["user_lo_status_group_id"] is None:
            assert row["user_lo_status"] == "En attente de validation" and got is None
        else:
            assert got == {11: "COMPLETED", 12: "ENROLLED", 13: "IN_PROGRESS"}[row["user_lo_status_group_id"]]


def test_a_delta_reads_only_rows_touched_since(tenant: Tenant) -> None:
    since = datetime.now(UTC) - timedelta(seconds=1)
    for row in tenant.portal.transcripts[:2]:
        tenant.portal.touch(row)
    delta = read_all(tenant.connector(), "lms_course_progressions", since)
    assert sorted(p.remote_id for p in delta) == sorted(
        str(r["reg_num"]) for r in tenant.portal.transcripts[:2]
    )


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (400, ErrorCode.REMOTE_INPUT_INVALID),
        (401, ErrorCode.INTEGRATION_AUTHENTICATION_INVALID),
        (403, ErrorCode.INTEGRATION_PERMISSION_MISSING),
        (404, ErrorCode.REMOTE_INPUT_INVALID),
        (429, ErrorCode.REMOTE_RATE_LIMIT_EXCEEDED),
        (500, ErrorCode.REMOTE_SERVICE_UNAVAILABLE),
        (503, ErrorCode.REMOTE_SERVICE_UNAVAILABLE),
    ],
)
def test_every_documented_failure_ends_in_its_code(tenant: Tenant, status: int, code: ErrorCode) -> None:
    from json import dumps

    from lmsbridge.testing.emulators.cornerstoneondemand.site import envelope

    tenant.portal.faults.add(
        Fault(
            "status",
            "GET /services/api/x/odata/api/views/vw_rpt_training",
            None,
            status,
            body=dumps(envelope(status, "refused")),
            content_type="application/json",
        )
    )
    with pytest.raises(ConnectorError) as raised:
        read_all(tenant.connector(max_attempts=2), "lms_courses")
    assert raised.value.code == code
    tenant.portal.faults.clear()


def test_wrong_or_missing_credentials(tenant: Tenant) -> None:
    with pytest.raises(ConnectorError) as raised:
        read_all(tenant.connector(("csod-test-client", "nope")), "lms_users")
    assert raised.value.code == ErrorCode.INTEGRATION_AUTHENTICATION_INVALID
    with pytest.raises(ConnectorError) as raised:
        tenant.connector(None).preflight()
    assert raised.value.code == ErrorCode.INTEGRATION_AUTHENTICATION_INVALID


def test_the_token_is_reused_and_renewed_once_on_401(tenant: Tenant) -> None:
    connector = tenant.connector()
    with connector.session(None):
        read_all(connector, "lms_users")
        read_all(connector, "lms_courses")
        assert tenant.portal.issuer.issued == 1  # one token for every call of the session
        tenant.portal.issuer.revoke_all()
        assert read_all(connector, "lms_users")
    assert tenant.portal.issuer.issued == 2


def test_a_429_without_retry_after_is_ridden_out(tenant: Tenant) -> None:
    tenant.portal.faults.add(Fault("status", "GET /services/api/x/users/v2/employees", 1, 429))
    assert read_all(tenant.connector(), "lms_users")


def test_upsert_creates_once_and_refuses_an_update(tenant: Tenant) -> None:
    connector = tenant.connector()
    item = CourseUpsert("ext-1", "External 1", "https://c.example/1", description="d")
    first = list(connector.upsert_courses([item]))
    assert first[0].error is None and first[0].record is not None and first[0].record.origin_id == "ext-1"
    second = list(connector.upsert_courses([CourseUpsert("ext-1", "Renamed", "https://c.example/1")]))
    assert second[0].error is not None and second[0].error.code == ErrorCode.COURSE_UPDATE_NOT_SUPPORTED
    assert [t["lo_title"] for t in tenant.portal.training if t["lo_ref"] == "ext-1"] == ["External 1"]


def test_enrol_and_complete_through_the_transcript_api(tenant: Tenant) -> None:
    connector = tenant.connector()
    employee = next(e for e in tenant.portal.employees if e["workerStatus"]["active"])
    lo = next(t for t in tenant.portal.training if t["lo_active"] == "Y")
    fresh = tenant.portal.add_lo("Fresh", "https://c.example/f", None, "Cornerstone", None)
    enrolled = connector.enrol(str(employee["id"]), fresh["lo_object_id"])
    assert enrolled.status == "ENROLLED" and enrolled.user_remote_id == str(employee["id"])
    done = connector.complete(enrolled.remote_id, datetime(2026, 1, 2, tzinfo=UTC), 90)
    assert done.status == "COMPLETED" and done.completed_at == datetime(2026, 1, 2, tzinfo=UTC)
    assert done.warnings  # Cornerstone's complete takes no score
    inactive = next(t for t in tenant.portal.training if t["lo_active"] == "N")
    with pytest.raises(ConnectorError) as raised:
        connector.enrol(str(employee["id"]), inactive["lo_object_id"])
    assert raised.value.code == ErrorCode.REMOTE_INPUT_INVALID
    with pytest.raises(ConnectorError) as raised:  # not a learning object id: refused before a call
        connector.enrol(str(employee["id"]), "1 or 1 eq 1")
    assert raised.value.code == ErrorCode.REMOTE_INPUT_INVALID
    older = next(t for t in tenant.portal.training if t["lo_active"] == "Y" and t["related_lo_id"])
    on_older = connector.enrol(str(employee["id"]), older["lo_object_id"])
    assert on_older.revision_remote_id == older["lo_object_id"]
    assert on_older.course_remote_id == older["related_lo_id"]
    with pytest.raises(ConnectorError) as raised:
        connector.enrol("999999", lo["lo_object_id"])
    assert raised.value.code == ErrorCode.REMOTE_INPUT_INVALID
    with pytest.raises(ConnectorError) as raised:
        connector.deactivate_course(lo["lo_object_id"])
    assert raised.value.code == ErrorCode.INTEGRATION_ACTION_NOT_AVAILABLE
    caps = CornerstoneConnector.capabilities
    assert caps.write_actions[WriteAction.DEACTIVATE_COURSE].value == "UNSUPPORTED"


def test_preflight_and_passthrough(tenant: Tenant) -> None:
    connector = tenant.connector()
    assert connector.preflight() == []
    answer = connector.passthrough(
        "learning",
        SimpleNamespace(
            method="GET", path="x/users/v2/employees?pageSize=2", headers={}, params={}, data=None
        ),
    )
    assert answer.status == 200 and len(answer.data["data"]) == 2
    assert "csod-test-secret" not in str(answer)
    with pytest.raises(ConnectorError):
        connector.passthrough(
            "learning", SimpleNamespace(method="GET", path="https://evil.example/", headers={})
        )
