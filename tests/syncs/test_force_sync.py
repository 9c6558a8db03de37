"""POST /v1/force-sync: one sync queued or running per integration, FULL unless DELTA is asked for."""

from __future__ import annotations

import threading

import pytest

from lmsbridge.ids import ALPHABET
from lmsbridge.syncs import runner as sync_runner
from tests.conftest import Server, make_tenant
from tests.contract import checked
from tests.syncs.helpers import (
    HookAfterCourses,
    request_sync,
    run_row,
    runs_of,
    synced_tenant,
    wait_for_run,
    worker_paused,
)


def test_force_sync_queues_a_full_sync_and_answers_per_the_contract(live: Server) -> None:
    tenant = synced_tenant(live)
    with worker_paused(live):
        data = request_sync(live, tenant, type_=None)  # no body at all

        assert data["already_queued"] is False
        assert data["type"] == "FULL"
        assert len(data["sync_id"]) == 24 and set(data["sync_id"]) <= set(ALPHABET)
        run = run_row(live, data["sync_id"])
        assert (run.integration_id, run.type, run.state) == (tenant.integration, "FULL", "QUEUED")
    assert wait_for_run(live, data["sync_id"]).state == "SUCCEEDED"


def test_an_empty_body_also_means_a_full_sync(live: Server) -> None:
    tenant = synced_tenant(live)
    with worker_paused(live), live.client(tenant.key, tenant.integration) as api:
        response = checked(api.post("/v1/force-sync", json={}))
        assert response.status_code == 200, response.text
        assert response.json()["data"]["type"] == "FULL"
    wait_for_run(live, response.json()["data"]["sync_id"])


def test_a_second_request_while_a_sync_is_queued_returns_that_sync(live: Server) -> None:
    tenant = synced_tenant(live)
    with worker_paused(live):
        first = request_sync(live, tenant)
        second = request_sync(live, tenant)
        third = request_sync(live, tenant, "DELTA")

    assert first["already_queued"] is False
    assert second == {"already_queued": True, "sync_id": first["sync_id"], "type": "FULL"}
    # The type answered is the queued sync's, not the one asked for.
    assert third == {"already_queued": True, "sync_id": first["sync_id"], "type": "FULL"}
    wait_for_run(live, first["sync_id"])
    assert len(runs_of(live, tenant.integration)) == 2  # the initial sync and this one


def test_a_request_while_the_initial_sync_is_queued_returns_the_initial_sync(live: Server) -> None:
    with worker_paused(live):
        tenant = make_tenant(live)
        [initial] = runs_of(live, tenant.integration)
        data = request_sync(live, tenant, "DELTA")
    assert data == {"already_queued": True, "sync_id": initial.id, "type": "FULL"}
    assert wait_for_run(live, initial.id).state == "SUCCEEDED"


def test_a_request_while_a_sync_is_running_returns_the_running_sync(
    live: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = synced_tenant(live)
    reading, release = threading.Event(), threading.Event()

    def hold() -> None:
        reading.set()
        release.wait(30)

    build = sync_runner.connector_for
    monkeypatch.setattr(sync_runner, "connector_for", lambda *args: HookAfterCourses(build(*args), hold))
    try:
        first = request_sync(live, tenant)
        assert reading.wait(30), "the sync never reached its courses"
        assert run_row(live, first["sync_id"]).state == "RUNNING"
        second = request_sync(live, tenant)
    finally:
        release.set()
    assert second == {"already_queued": True, "sync_id": first["sync_id"], "type": "FULL"}
    assert wait_for_run(live, first["sync_id"]).state == "SUCCEEDED"


def test_once_a_sync_finished_the_next_request_queues_a_new_one(live: Server) -> None:
    tenant = synced_tenant(live)
    first = request_sync(live, tenant)
    wait_for_run(live, first["sync_id"])
    second = request_sync(live, tenant)
    assert second["already_queued"] is False
    assert second["sync_id"] != first["sync_id"]
    wait_for_run(live, second["sync_id"])


def test_a_delta_request_queues_a_delta_sync(live: Server) -> None:
    tenant = synced_tenant(live)
    with worker_paused(live):
        data = request_sync(live, tenant, "DELTA")
        assert data["already_queued"] is False
        assert data["type"] == "DELTA"
        assert run_row(live, data["sync_id"]).type == "DELTA"
    run = wait_for_run(live, data["sync_id"])
    assert (run.type, run.state) == ("DELTA", "SUCCEEDED")


@pytest.mark.parametrize("body", [{"type": "BOGUS"}, {"type": "full"}, {"type": 1}, [1]])
def test_a_body_that_names_no_sync_type_is_rejected_with_400(live: Server, body: object) -> None:
    tenant = synced_tenant(live)
    with live.client(tenant.key, tenant.integration) as api:
        response = checked(api.post("/v1/force-sync", json=body))
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "PLATFORM.INPUT_INVALID"
    assert len(runs_of(live, tenant.integration)) == 1  # nothing queued


def test_force_sync_needs_an_integration_of_the_key_environment(live: Server) -> None:
    tenant = synced_tenant(live)
    other = make_tenant(live, environment="other")
    with live.client(tenant.key, other.integration) as api:
        response = checked(api.post("/v1/force-sync", json={"type": "FULL"}))
    assert response.status_code == 404
    assert len(runs_of(live, other.integration)) == 1  # its initial sync only
