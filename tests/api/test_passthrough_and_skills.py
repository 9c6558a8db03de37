"""The Sandbox's passthrough API (`sandbox/v1`) and the HRIS skill writes (`POST /hris/skills`,
`PATCH` and `DELETE /hris/skills/{skill_id}`), through the API and the Sandbox connector,
written through to the store so they read back at once."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import Server
from tests.contract import checked
from tests.syncs.helpers import synced_tenant, wait_until_idle

PASSTHROUGH = "/v1/passthrough/sandbox/v1"


@pytest.fixture
def api(clean_server: Server) -> Any:
    tenant = synced_tenant(clean_server, users=5, courses=3, progressions=4)
    with clean_server.client(tenant.key, tenant.integration) as client:
        yield client
    wait_until_idle(clean_server)


def passthrough(api: httpx.Client, body: dict[str, Any], path: str = PASSTHROUGH) -> httpx.Response:
    return checked(api.post(path, json=body))


def hris_skills(api: httpx.Client, **params: str) -> list[dict[str, Any]]:
    response = checked(api.get("/v1/hris/skills", params={"include_deleted": "true", **params}))
    assert response.status_code == 200, response.text
    results: list[dict[str, Any]] = response.json()["data"]["results"]
    return results


def test_the_sandbox_passthrough_lists_and_reads_its_records(api: httpx.Client) -> None:
    listed = passthrough(api, {"method": "GET", "path": "/users", "params": {"limit": "3"}})
    assert listed.status_code == 200, listed.text
    data = listed.json()["data"]
    assert data["url"] == "https://sandbox.lmsbridge.invalid/api/v1/users?limit=3"
    assert data["status"] == 200
    assert data["headers"] == {"content-type": "application/json"}
    assert len(data["data"]["results"]) == 3
    first = data["data"]["results"][0]
    one = passthrough(api, {"method": "GET", "path": f"users/{first['id']}"}).json()["data"]
    assert one["status"] == 200 and one["data"] == first
    synced = checked(api.get("/v1/lms/users", params={"remote_ids": first["id"]})).json()["data"]["results"]
    assert synced[0]["work_email"] == first["email"]

    missing = passthrough(api, {"method": "GET", "path": "/users/nobody"}).json()["data"]
    assert missing["status"] == 404  # the remote's answer, relayed
    assert passthrough(api, {"method": "DELETE", "path": "/users"}).json()["data"]["status"] == 404


@pytest.mark.parametrize(
    "path", ["https://attacker.example.com/users", "//attacker.example.com/users", "../../v2/users", "/../x"]
)
def test_the_sandbox_passthrough_refuses_another_host_or_base(api: httpx.Client, path: str) -> None:
    response = passthrough(api, {"method": "GET", "path": path})
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "PLATFORM.INPUT_INVALID"


def test_a_passthrough_for_another_tool_answers_400(api: httpx.Client) -> None:
    response = passthrough(api, {"method": "GET", "path": "/users"}, "/v1/passthrough/moodle/rest")
    assert response.status_code == 400
    assert "is a Sandbox integration" in response.json()["error"]["message"]
    assert "/v1/passthrough/sandbox/" in response.json()["error"]["message"]


def test_rejected_credentials_reach_the_caller_as_the_remotes_401(clean_server: Server) -> None:
    tenant = synced_tenant(clean_server)
    from lmsbridge.integration_store.repository import IntegrationRepository

    with clean_server.store.write() as conn:  # through the repository: the API sees it at once
        IntegrationRepository(conn).save(tenant.integration, settings={"auth_invalid": True})
    with clean_server.client(tenant.key, tenant.integration) as api:
        data = passthrough(api, {"method": "GET", "path": "/users"}).json()["data"]
    assert data["status"] == 401


def test_a_skill_created_updated_and_deleted_reads_back_at_once(api: httpx.Client) -> None:
    before = {s["id"] for s in hris_skills(api)}
    created = checked(
        api.post("/v1/hris/skills", json={"name": "TypeScript", "levels": ["Novice", "Expert"]})
    )
    assert created.status_code == 200, created.text
    skill = created.json()["data"]
    assert "warnings" not in created.json()
    assert skill["name"] == "TypeScript"
    assert skill["ordered_levels"] == ["Novice", "Expert"]
    assert skill["remote_deleted_at"] is None
    assert {s["id"] for s in hris_skills(api)} == before | {skill["id"]}

    renamed = checked(api.patch(f"/v1/hris/skills/{skill['id']}", json={"name": "TypeScript Programming"}))
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["data"]["name"] == "TypeScript Programming"
    assert renamed.json()["data"]["ordered_levels"] == ["Novice", "Expert"]  # left out: kept
    by_remote = checked(
        api.patch(f"/v1/hris/skills/remote:{skill['remote_id']}", json={"levels": ["1", "2", "3"]})
    )
    assert by_remote.json()["data"]["ordered_levels"] == ["1", "2", "3"]
    [stored] = [s for s in hris_skills(api) if s["id"] == skill["id"]]
    assert (stored["name"], stored["ordered_levels"]) == ("TypeScript Programming", ["1", "2", "3"])

    deleted = checked(api.delete(f"/v1/hris/skills/{skill['id']}"))
    assert deleted.status_code == 200, deleted.text
    assert deleted.json()["data"]["remote_deleted_at"] is not None
    [stored] = [s for s in hris_skills(api) if s["id"] == skill["id"]]
    assert stored["remote_deleted_at"] is not None
    visible = checked(api.get("/v1/hris/skills")).json()["data"]["results"]
    assert skill["id"] not in {s["id"] for s in visible}
    # The Sandbox no longer has it: deleting again is the remote's refusal.
    again = checked(api.delete(f"/v1/hris/skills/{skill['id']}"))
    assert again.status_code == 400
    assert again.json()["error"]["code"] == "REMOTE.INPUT_INVALID"


def test_skill_writes_check_their_input_and_ids(api: httpx.Client) -> None:
    for body in ({}, {"name": ""}, {"name": 5}, {"name": "x", "levels": "a,b"}):
        response = checked(api.post("/v1/hris/skills", json=body))
        assert response.status_code == 400, body
        assert response.json()["error"]["code"] == "PLATFORM.INPUT_INVALID"
    for method in ("PATCH", "DELETE"):
        response = checked(
            api.request(
                method, "/v1/hris/skills/no-such-skill", json={"name": "x"} if method == "PATCH" else None
            )
        )
        assert response.status_code == 404, response.text
