"""The events outbox: every finished sync writes a `sync-finished` event, and one that changed
something a `data-changed` event naming the changed models; both in the contract's shape."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from lmsbridge.clock import to_wire
from lmsbridge.sandbox.repository import SandboxStateRepository
from tests.conftest import Server, Tenant
from tests.contract import validate_schema
from tests.syncs.helpers import (
    events_of,
    finished_event,
    runs_of,
    sandbox_edit,
    sandbox_remove,
    set_sandbox_settings,
    sync,
    synced_tenant,
)

LMS_MODELS = [
    "lms_course_progressions",
    "lms_course_providers",
    "lms_course_revisions",
    "lms_courses",
    "lms_skills",
    "lms_users",
]


def new_events(server: Server, tenant: Tenant, seen: int) -> dict[str, list[dict[str, Any]]]:
    """The events written since the first `seen`, by type."""
    written: dict[str, list[dict[str, Any]]] = {}
    for row in events_of(server, tenant.integration)[seen:]:
        assert row.payload["id"] == row.id
        assert row.payload["type"] == row.type
        assert row.environment_id == tenant.environment_id
        written.setdefault(row.type, []).append(dict(row.payload))
    return written


def changed_models(event: dict[str, Any]) -> list[str]:
    validate_schema("DataChangedWebhookPayload", event)
    return [model["name"] for model in event["data"]["changed_models"]]


def test_every_finished_sync_writes_a_sync_finished_event_in_the_contract_shape(live: Server) -> None:
    tenant = synced_tenant(live)
    sync(live, tenant)
    sync(live, tenant, "DELTA")

    runs = runs_of(live, tenant.integration)
    assert len(runs) == 3
    assert len(events_of(live, tenant.integration, "sync-finished")) == 3
    for run in runs:
        event = finished_event(live, tenant.integration, run.id)
        validate_schema("SyncFinishedWebhookPayload", event)
        data = event["data"]
        assert data["sync_state"] == run.state == "SUCCEEDED"
        assert data["sync_started_at"] == to_wire(run.started_at)
        assert data["integration_id"] == tenant.integration
        assert (data["integration_tool"], data["integration_category"]) == ("sandbox", "LMS")
        assert data["log_url"].endswith(f"/logs/syncs/{run.id}")
        started = datetime.fromisoformat(data["sync_started_at"])
        ended = datetime.fromisoformat(data["sync_ended_at"])
        assert started <= ended
        # Whole seconds of the exact times; the wire keeps milliseconds.
        assert abs(data["sync_duration_seconds"] - (ended - started).total_seconds()) < 1.01


def test_syncs_that_fail_still_write_sync_finished_with_their_state(live: Server) -> None:
    tenant = synced_tenant(live, page_size=10)
    set_sandbox_settings(live, tenant.integration, fail_read_models=["lms_users"])
    partial = sync(live, tenant)
    set_sandbox_settings(live, tenant.integration, auth_invalid=True)
    rejected = sync(live, tenant)

    for run, state in ((partial, "PARTIALLY_FAILED"), (rejected, "AUTHENTICATION_FAILED")):
        assert run.state == state
        event = finished_event(live, tenant.integration, run.id)
        validate_schema("SyncFinishedWebhookPayload", event)
        assert event["data"]["sync_state"] == state


def test_the_first_sync_announces_every_lms_model_as_changed(live: Server) -> None:
    tenant = synced_tenant(live)
    written = new_events(live, tenant, 0)
    assert len(written["sync-finished"]) == 1
    [changed] = written["data-changed"]
    assert changed["data"]["integration_id"] == tenant.integration
    assert (changed["data"]["integration_tool"], changed["data"]["integration_category"]) == (
        "sandbox",
        "LMS",
    )
    assert sorted(changed_models(changed)) == LMS_MODELS


def test_a_sync_that_changes_nothing_writes_no_data_changed_event(live: Server) -> None:
    tenant = synced_tenant(live)
    seen = len(events_of(live, tenant.integration))

    sync(live, tenant)
    sync(live, tenant, "DELTA")

    written = new_events(live, tenant, seen)
    assert len(written["sync-finished"]) == 2
    assert "data-changed" not in written


def test_data_changed_names_only_the_models_that_changed(live: Server) -> None:
    tenant = synced_tenant(live)
    seen = len(events_of(live, tenant.integration))
    sandbox_edit(live, tenant.integration, "lms_users", "user-8", first_name="Changed")
    sandbox_remove(live, tenant.integration, "lms_course_progressions", "prog-17")

    sync(live, tenant)

    [changed] = new_events(live, tenant, seen)["data-changed"]
    assert sorted(changed_models(changed)) == ["lms_course_progressions", "lms_users"]


def test_a_changed_revision_names_both_courses_and_revisions(live: Server) -> None:
    tenant = synced_tenant(live)
    seen = len(events_of(live, tenant.integration))
    data = SandboxStateRepository(live.store).get(tenant.integration, "lms_courses", "course-3")
    assert data is not None
    data["revisions"][-1]["title"] = "Retitled"
    sandbox_edit(live, tenant.integration, "lms_courses", "course-3", revisions=data["revisions"])

    sync(live, tenant, "DELTA")

    [changed] = new_events(live, tenant, seen)["data-changed"]
    assert sorted(changed_models(changed)) == ["lms_course_revisions", "lms_courses"]


def test_a_failed_sync_writes_no_data_changed_event(live: Server) -> None:
    tenant = synced_tenant(live)
    seen = len(events_of(live, tenant.integration))
    sandbox_remove(live, tenant.integration, "lms_users", "user-2")
    set_sandbox_settings(live, tenant.integration, auth_invalid=True)

    sync(live, tenant)

    written = new_events(live, tenant, seen)
    assert [e["data"]["sync_state"] for e in written["sync-finished"]] == ["AUTHENTICATION_FAILED"]
    assert "data-changed" not in written
