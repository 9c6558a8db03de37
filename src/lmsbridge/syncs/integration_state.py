"""An integration's state (ACTIVE, INVALID, INACTIVE) moved with its `integration-state-changed`
event in the caller's transaction. Here, below the integrations service, because a sync's outcome
moves it too (rejected credentials make it INVALID, a sync that reads again ACTIVE)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from lmsbridge.clock import to_wire, utc_now
from lmsbridge.events.outbox import EventOutbox, EventType
from lmsbridge.integration_store.repository import Integration, IntegrationRepository, end_user_of
from lmsbridge.syncs.repository import SyncRepository


def setup_status(conn: Connection, integration_id: str) -> str:
    return (
        "COMPLETED"
        if SyncRepository(conn).state(integration_id).first_synced_at is not None
        else "FINAL_SYNC_PENDING"
    )


def state_changed_payload(conn: Connection, integration: Integration, state: str) -> dict[str, Any]:
    return {
        "integration_tool": integration.tool,
        "integration_id": integration.id,
        "integration_category": "LMS",
        "end_user": end_user_of(integration),
        "qa_status": "PASSED",
        "setup_status": setup_status(conn, integration.id),
        "state": state,
        "updated_at": to_wire(utc_now()),
    }


def set_status(conn: Connection, integration: Integration, state: str) -> bool:
    """Move the integration to `state`, with its `integration-state-changed` event; False when it
    was there already."""
    if integration.status == state:
        return False
    IntegrationRepository(conn).save(integration.id, status=state)
    EventOutbox(conn).add(
        integration.environment_id,
        integration.id,
        EventType.INTEGRATION_STATE_CHANGED,
        state_changed_payload(conn, integration, state),
    )
    return True
