"""The deletion guard: a full sync that would mark more than the integration's share of a model's
live records deleted (default 50%, at least 10) holds them, ends PARTIALLY_FAILED saying why, and
announces nothing; an operator confirms them through the API or the CLI, or fixes access."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select

from lmsbridge.db.tables import sandbox_records
from tests.conftest import Server, Tenant, make_tenant
from tests.contract import checked
from tests.syncs.helpers import (
    deleted_remote_ids,
    events_of,
    sandbox_remote_ids,
    sandbox_remove,
    sync,
    synced_tenant,
)
from tests.syncs.test_evolve_cli import lmsbridge

SIZE = {"users": 30, "courses": 4, "progressions": 40}


def confirm(server: Server, tenant: Tenant, sync_id: str) -> httpx.Response:
    with server.client(tenant.key) as api:
        return api.post(f"/v1/syncs/{sync_id}/confirm-deletions")


def extension_success(response: httpx.Response) -> dict[str, Any]:
    """An extension route answers in the contract's success envelope."""
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "success" and set(body) == {"status", "data"}
    data: dict[str, Any] = body["data"]
    return data


def remove_users(server: Server, tenant: Tenant, count: int) -> set[str]:
    gone = set(sorted(sandbox_remote_ids(server, tenant.integration, "lms_users"))[:count])
    sandbox_remove(server, tenant.integration, "lms_users", *gone)
    return gone


def test_a_sync_that_would_delete_most_users_holds_them_and_says_why(live: Server) -> None:
    tenant = synced_tenant(live, **SIZE)
    changed_before = len(events_of(live, tenant.integration, "data-changed"))
    gone = remove_users(live, tenant, 20)

    run = sync(live, tenant)

    assert run.state == "PARTIALLY_FAILED"
    assert "lms_users: 20 of 30 records" in run.error and "lost access" in run.error
    assert f"confirm-deletions {run.id}" in run.error
    assert deleted_remote_ids(live, "lms_users", tenant.integration) == set()
    assert run.counts["lms_users"]["deleted"] == 0
    assert len(events_of(live, tenant.integration, "data-changed")) == changed_before
    with live.client(tenant.key, tenant.integration) as api:
        status = extension_success(api.get(f"/v1/syncs/{run.id}"))
    assert status["held_deletions"] == {"lms_users": 20}

    # The operator checked: the users really are gone. Confirming applies and announces them.
    data = extension_success(confirm(live, tenant, run.id))
    assert data == {"sync_id": run.id, "deleted": {"lms_users": 20}}
    assert deleted_remote_ids(live, "lms_users", tenant.integration) == gone
    [announced] = events_of(live, tenant.integration, "data-changed")[changed_before:]
    assert announced.payload["data"]["changed_models"] == [{"name": "lms_users"}]
    again = checked(confirm(live, tenant, run.id))
    assert again.status_code == 409 and again.json()["error"]["code"] == "PLATFORM.INPUT_INVALID"


def test_fixing_access_and_syncing_again_keeps_every_record(live: Server) -> None:
    tenant = synced_tenant(live, **SIZE)
    with live.store.read() as conn:
        rows = list(
            conn.execute(
                select(sandbox_records).where(
                    sandbox_records.c.integration_id == tenant.integration,
                    sandbox_records.c.model == "lms_users",
                )
            )
        )
    gone = remove_users(live, tenant, 25)
    held = sync(live, tenant)
    assert held.state == "PARTIALLY_FAILED"
    with live.store.write() as conn:  # access restored: the remote shows them again
        conn.execute(sandbox_records.insert(), [dict(row._mapping) for row in rows if row.remote_id in gone])
    after = sync(live, tenant)
    assert after.state == "SUCCEEDED"
    assert deleted_remote_ids(live, "lms_users", tenant.integration) == set()
    # The held sync is no longer the latest: its deletions can no longer be confirmed.
    late = checked(confirm(live, tenant, held.id))
    assert late.status_code == 409 and "later sync" in late.json()["error"]["message"]


def test_small_deletions_and_an_integrations_own_share_pass_the_guard(live: Server) -> None:
    tenant = synced_tenant(live, **SIZE)
    gone = remove_users(live, tenant, 9)  # below the minimum of 10
    assert sync(live, tenant).state == "SUCCEEDED"
    assert deleted_remote_ids(live, "lms_users", tenant.integration) == gone

    lenient = synced_tenant(live, deletion_guard_share=0.9, **SIZE)
    gone = remove_users(live, lenient, 20)  # 66%, under this integration's 90%
    assert sync(live, lenient).state == "SUCCEEDED"
    assert deleted_remote_ids(live, "lms_users", lenient.integration) == gone


def test_confirming_is_scoped_to_the_keys_environment(live: Server) -> None:
    tenant = synced_tenant(live, **SIZE)
    remove_users(live, tenant, 20)
    run = sync(live, tenant)
    stranger = make_tenant(live, environment="other")
    refused = checked(confirm(live, stranger, run.id))
    assert refused.status_code == 404
    missing = checked(confirm(live, tenant, "x" * 24))
    assert missing.status_code == 404
    assert deleted_remote_ids(live, "lms_users", tenant.integration) == set()


def test_the_cli_confirms_held_deletions(live: Server) -> None:
    tenant = synced_tenant(live, **SIZE)
    gone = remove_users(live, tenant, 20)
    run = sync(live, tenant)
    result = lmsbridge(live, "syncs", "confirm-deletions", run.id)
    assert result.returncode == 0, result.stderr
    assert "lms_users: 20 marked deleted" in result.stdout
    assert deleted_remote_ids(live, "lms_users", tenant.integration) == gone
    refused = lmsbridge(live, "syncs", "confirm-deletions", run.id)
    assert refused.returncode != 0 and "holds no deletions" in refused.stderr
