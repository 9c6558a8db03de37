"""Creating integrations and describing them as `GET /integrations/{id}` does."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from sqlalchemy import Connection

from lmsbridge.auth.repository import AuthRepository
from lmsbridge.clock import to_wire, utc_now
from lmsbridge.connectors.base import WRITE_ACTION_LABELS, Coverage
from lmsbridge.connectors.registry import connector_class, validate_settings
from lmsbridge.errors import InputInvalidError
from lmsbridge.ids import integration_id as new_integration_id
from lmsbridge.integration_store.credentials import CredentialBox
from lmsbridge.integration_store.repository import Integration, IntegrationRepository
from lmsbridge.integration_store.repository import get_integration as get_integration
from lmsbridge.schemas.models import READ_MODEL_LABELS
from lmsbridge.syncs.service import request_sync


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
) -> Integration:
    try:
        cls = connector_class(tool)
        clean_settings = validate_settings(tool, settings or {})
    except ValueError as error:  # unknown tool, or settings the connector refuses
        detail = (
            "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
            if isinstance(error, ValidationError)
            else str(error)
        )
        raise InputInvalidError(f"invalid integration: {detail}") from error
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
    )
    IntegrationRepository(conn).insert(integration)
    # The first full sync is queued with the integration, so its data arrives without a schedule tick.
    request_sync(conn, integration.id, "FULL", public_url or "http://127.0.0.1:8000")
    return integration


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
        "end_user": {"organization_name": integration.name, "creator_email": None, "origin_id": None},
        "scope_config": {"id": "default", "name": "Default scope"},
        "data_expired_at": None,
        "created_at": to_wire(integration.created_at),
        "beta": False,
        "read_models": read_models,
        "write_actions": write_actions,
    }
