"""`GET /integrations/{id}`: the contract's shape, filled from the connector's capabilities."""

from __future__ import annotations

import httpx

from tests.conftest import Server, Tenant
from tests.contract import checked


def test_integration_details_follow_the_contract_and_the_connector(
    clean_server: Server, tenant: Tenant
) -> None:
    with clean_server.client(tenant.key) as api:
        data = checked(api.get(f"/v1/integrations/{tenant.integration}")).json()["data"]
    assert data["id"] == tenant.integration
    assert data["tool"]["id"] == "sandbox"
    assert data["category"] == "LMS"
    assert data["status"] == "ACTIVE"
    actions = {a["id"]: a for a in data["write_actions"]}
    assert actions["lms_upsert_courses"]["is_available"] is True
    assert actions["lms_upsert_courses"]["coverage_status"] == "SUPPORTED"
    assert actions["hris_upsert_skills"]["is_available"] is True
    assert {m["id"] for m in data["read_models"]} >= {"lms_users", "lms_courses", "lms_course_progressions"}
    icon = httpx.get(data["tool"]["icon_url"])
    assert icon.status_code == 200
    assert icon.headers["content-type"].startswith("image/svg+xml")
