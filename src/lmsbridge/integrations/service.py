"""The lifecycle of integrations (create, update, pause and resume, delete, each with Kombo's
events) and describing them as `GET /integrations/{id}` does. Services never commit: the caller's
transaction holds the change and its events together."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from sqlalchemy import Connection

from lmsbridge.auth.repository import AuthRepository
from lmsbridge.clock import to_wire, utc_now
from lmsbridge.connectors.base import WRITE_ACTION_LABELS, ConnectorContext, Coverage
from lmsbridge.connectors.errors import ConnectorError
from lmsbridge.connectors.registry import connector_class, validate_settings
from lmsbridge.connectors.runtime import build_connector
from lmsbridge.connectors.sandbox.state import SandboxState
from lmsbridge.errors import ErrorCode, InputInvalidError, PreflightFailedError
from lmsbridge.events.outbox import EventOutbox, EventType
from lmsbridge.ids import integration_id as new_integration_id
from lmsbridge.integration_store.credentials import CredentialBox
from lmsbridge.integration_store.repository import Integration, IntegrationRepository, end_user_of
from lmsbridge.integration_store.repository import get_integration as get_integration
from lmsbridge.records.stamps import take_stamp
from lmsbridge.schemas.models import READ_MODEL_LABELS
from lmsbridge.syncs.integration_state import set_status as set_status
from lmsbridge.syncs.integration_state import setup_status as setup_status
from lmsbridge.syncs.repository import SyncRepository
from lmsbridge.syncs.service import request_sync
from lmsbridge.syncs.states import SyncRunState


def _invalid(error: ValueError, what: str) -> InputInvalidError:
    detail = (
        "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
        if isinstance(error, ValidationError)
        else str(error)
    )
    return InputInvalidError(f"invalid {what}: {detail}")


def run_preflight(
    tool: str,
    settings: dict[str, Any],
    credentials: dict[str, Any],
    *,
    integration_id: str = "preflight",
    sandbox_state: Any = None,
    pacer: Any = None,
) -> list[str]:
    """Validate the settings, then let the connector prove with cheap remote calls that the
    credentials and permissions work. Returns warnings; raises `InputInvalidError` for settings
    the connector refuses and `PreflightFailedError` (the connector's code, a message naming what
    to fix) when the remote refuses. Makes remote calls: run it outside a write transaction."""
    try:
        clean = validate_settings(tool, settings)
    except ValueError as error:
        raise _invalid(error, "settings") from error
    connector = build_connector(
        tool,
        ConnectorContext(
            integration_id=integration_id,
            settings=clean,
            credentials=credentials,
            pacer=pacer,
            # The Sandbox keeps its records in the store; its preflight reads none of them.
            services={SandboxState: sandbox_state if sandbox_state is not None else _NO_SANDBOX_STATE},
        ),
    )
    try:
        return list(connector.preflight())
    except ConnectorError as error:
        raise PreflightFailedError(ErrorCode(error.code), error.message) from error


_NO_SANDBOX_STATE = object()


def create_integration(
    conn: Connection,
    box: CredentialBox,
    *,
    tool: str,
    environment: str,
    name: str | None = None,
    settings: dict[str, Any] | None = None,
    credentials: dict[str, Any] | None = None,
    public_url: str | None = None,
    end_user: dict[str, Any] | None = None,
) -> Integration:
    """Store the integration, queue its first full sync and write `integration-created`.
    `end_user` ({organization_name, creator_email, origin_id}) comes from a connection link."""
    try:
        cls = connector_class(tool)
        clean_settings = validate_settings(tool, settings or {})
    except ValueError as error:  # unknown tool, or settings the connector refuses
        raise _invalid(error, "integration") from error
    env_id = AuthRepository(conn).environment_id(environment, create=True)
    assert env_id is not None
    integration = Integration(
        id=new_integration_id(tool),
        environment_id=env_id,
        tool=tool,
        name=name or f"{cls.label} integration",
        settings=clean_settings,
        credentials=box.seal(credentials or {}),
        status="ACTIVE",
        created_at=utc_now(),
        end_user={k: v for k, v in (end_user or {}).items() if v is not None} or None,
    )
    IntegrationRepository(conn).insert(integration)
    # The first full sync is queued with the integration, so its data arrives without a schedule tick.
    request_sync(conn, integration.id, "FULL", public_url or "")
    EventOutbox(conn).add(
        env_id,
        integration.id,
        EventType.INTEGRATION_CREATED,
        {"id": integration.id, "tool": tool, "category": "LMS", "end_user": end_user_of(integration)},
    )
    return integration


def update_integration(
    conn: Connection,
    box: CredentialBox,
    integration_id: str,
    *,
    environment_id: str,
    settings: dict[str, Any] | None = None,
    credentials: dict[str, Any] | None = None,
    public_url: str | None = None,
    name: str | None = None,
) -> Integration:
    """Replace settings (merged over the current ones: a key set to None is removed) and/or
    credentials (replaced whole), then queue a full sync. The caller runs `run_preflight` on the
    result first (outside the transaction). An INVALID integration stays INVALID until that sync
    succeeds; a FAILED task is not returned again for the same body from now on."""
    integration = get_integration(conn, integration_id, environment_id)
    values: dict[str, Any] = {"updated_at": utc_now()}
    if settings is not None:
        try:
            values["settings"] = validate_settings(integration.tool, merged_settings(integration, settings))
        except ValueError as error:
            raise _invalid(error, "settings") from error
    if credentials is not None:
        values["credentials"] = box.seal(credentials)
    if name:
        values["name"] = name
    IntegrationRepository(conn).save(integration.id, **values)
    updated = get_integration(conn, integration_id, environment_id)
    if updated.status != "INACTIVE":
        request_sync(conn, updated.id, "FULL", public_url or "")
    return updated


def merged_settings(integration: Integration, settings: dict[str, Any] | None) -> dict[str, Any]:
    """The settings an update would leave (what `run_preflight` should check)."""
    if settings is None:
        return integration.settings
    merged = {**integration.settings, **settings}
    return {k: v for k, v in merged.items() if v is not None}


def set_enabled(
    conn: Connection,
    integration_id: str,
    *,
    environment_id: str,
    enabled: bool,
    public_url: str | None = None,
) -> Integration:
    """Pause (INACTIVE: no syncs, actions and tasks answer INTEGRATION.INACTIVE) or resume. A
    resumed integration is ACTIVE and syncs at once; if its credentials are still rejected, that
    sync makes it INVALID again."""
    integration = get_integration(conn, integration_id, environment_id)
    if enabled and integration.status == "INACTIVE":
        set_status(conn, integration, "ACTIVE")
        request_sync(conn, integration.id, "FULL", public_url or "")
    elif not enabled and integration.status != "INACTIVE":
        set_status(conn, integration, "INACTIVE")
        _cancel_queued_syncs(conn, integration.id)
    return get_integration(conn, integration_id, environment_id)


def _cancel_queued_syncs(conn: Connection, integration_id: str) -> None:
    repo = SyncRepository(conn)
    run = repo.active_run(integration_id)
    if run is not None and run.state == "QUEUED":
        repo.finish_run(run.id, SyncRunState.CANCELLED, {}, "the integration was paused")


def delete_integration(conn: Connection, integration_id: str, *, environment_id: str) -> dict[str, int]:
    """Remove the integration and everything of it (credentials, synced records, sync runs,
    tasks, queued jobs, its undelivered events); a running job loses its lease and stops. The
    `integration-deleted` event outlives it, so it carries no integration_id column."""
    integration = get_integration(conn, integration_id, environment_id)
    # Record writers take the stamp lock before they look for their sync or task: holding it
    # here, every write in flight commits first (and is removed), every later one finds nothing.
    take_stamp(conn, integration.id)
    removed = IntegrationRepository(conn).delete_everything_of(integration.id)
    EventOutbox(conn).add(
        integration.environment_id,
        None,
        EventType.INTEGRATION_DELETED,
        {
            "id": integration.id,
            "tool": integration.tool,
            "category": "LMS",
            "end_user": end_user_of(integration),
        },
    )
    return removed


def _coverage_entry(id_: str, label: str, coverage: Coverage, fields: list[dict[str, Any]]) -> dict[str, Any]:
    available = coverage is Coverage.SUPPORTED
    return {
        "id": id_,
        "label": label,
        "is_available": available,
        "coverage_status": coverage.value,
        "scope_config_setting": "ENABLED",
        "opted_out_by_customer": False,
        "fields": fields,
    }


def describe(integration: Integration, public_url: str, *, first_synced: bool) -> dict[str, Any]:
    """The integration in the contract's shape, with models and actions from its connector."""
    cls = connector_class(integration.tool)
    caps = cls.capabilities
    read_models = [
        _coverage_entry(
            model,
            READ_MODEL_LABELS[model],
            cov.coverage,
            [
                {
                    "id": field,
                    "is_available": fcov is Coverage.SUPPORTED,
                    "coverage_status": fcov.value,
                    "scope_config_setting": "ENABLED",
                    "opted_out_by_customer": False,
                }
                for field, fcov in cov.fields.items()
            ],
        )
        for model, cov in caps.read_models.items()
    ]
    write_actions = [
        _coverage_entry(action.value, WRITE_ACTION_LABELS[action], cov, [])
        for action, cov in caps.write_actions.items()
    ]
    icon = f"{public_url}/static/tools/{integration.tool}.svg"
    return {
        "id": integration.id,
        "tool": {
            "id": integration.tool,
            "label": cls.label,
            "internal_label": None,
            "logo_url": icon,
            "icon_url": icon,
        },
        "category": "LMS",
        "status": integration.status,
        "setup_status": "COMPLETED" if first_synced else "FINAL_SYNC_PENDING",
        "end_user": end_user_of(integration),
        "scope_config": {"id": "default", "name": "Default scope"},
        "data_expired_at": None,
        "created_at": to_wire(integration.created_at),
        "beta": False,
        "read_models": read_models,
        "write_actions": write_actions,
    }
