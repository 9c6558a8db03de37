"""The rules of the connection flow: links are bound to an environment, expire, and work once; a
customer's attempt is validated against the connector's declared settings and credentials, proved
by its preflight, and only then creates (or, on a relink, updates) the integration."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, SecretStr, ValidationError
from sqlalchemy import Connection

from lmsbridge.auth.repository import AuthRepository
from lmsbridge.clock import utc_now
from lmsbridge.connect.repository import ConnectionLink, ConnectionLinkRepository
from lmsbridge.connectors.registry import CONNECTORS, UnknownToolError, connector_class
from lmsbridge.errors import InputInvalidError, LmsBridgeError, NotFoundError
from lmsbridge.events.outbox import EventOutbox, EventType
from lmsbridge.ids import new_id
from lmsbridge.integration_store.credentials import CredentialBox
from lmsbridge.integration_store.repository import Integration
from lmsbridge.integrations.service import create_integration, get_integration, update_integration
from lmsbridge.syncs.repository import SyncRepository

LINK_PATH = "/connect/"


def normalise_origin(value: str) -> str:
    """An origin as browsers compare them: scheme://host[:port], lower case, no path."""
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/"):
        raise InputInvalidError(
            f"{value!r} is not an origin: give scheme, host and port only, such as https://app.example.com"
        )
    if parts.query or parts.fragment or parts.username or parts.password:
        raise InputInvalidError(f"{value!r} is not an origin: it may not carry a query, fragment or user.")
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname.lower()}{port}"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class LinkUnusableError(LmsBridgeError):
    """A link that expired or was used: the page says so, and how to get a new one."""

    code = None
    status_code = 410
    title = "This link can no longer be used."


def check_tool(tool: str | None) -> str | None:
    if tool is None:
        return None
    try:
        connector_class(tool)
    except UnknownToolError as error:
        raise InputInvalidError(f"integration_tool: {error}") from error
    return tool


def create_link(
    conn: Connection,
    *,
    environment_id: str,
    end_user: dict[str, Any],
    tool: str | None,
    link_type: str,
    language: str | None,
    ttl_seconds: float,
    public_url: str,
    relink_integration_id: str | None = None,
) -> str:
    """A new single-use link; only its hash is stored, so the URL returned is the one copy."""
    token = secrets.token_urlsafe(32)
    now = utc_now()
    link = ConnectionLink(
        id=new_id(),
        environment_id=environment_id,
        link_type=link_type,
        tool=check_tool(tool),
        language=language,
        end_user=end_user,
        relink_integration_id=relink_integration_id,
        created_at=now,
        expires_at=now + timedelta(seconds=ttl_seconds),
        used_at=None,
        integration_id=None,
    )
    ConnectionLinkRepository(conn).insert(link, token_hash(token))
    return f"{public_url.rstrip('/')}{LINK_PATH}{token}"


def relink(
    conn: Connection,
    integration_id: str,
    *,
    environment_id: str,
    link_type: str,
    language: str | None,
    ttl_seconds: float,
    public_url: str,
) -> str:
    """A link through which the customer gives an existing integration new credentials."""
    integration = get_integration(conn, integration_id, environment_id)
    return create_link(
        conn,
        environment_id=environment_id,
        end_user=integration.end_user or {"organization_name": integration.name},
        tool=integration.tool,
        link_type=link_type,
        language=language,
        ttl_seconds=ttl_seconds,
        public_url=public_url,
        relink_integration_id=integration.id,
    )


def find_link(conn: Connection, token: str) -> ConnectionLink:
    link = ConnectionLinkRepository(conn).by_token_hash(token_hash(token))
    if link is None:
        raise NotFoundError("This connection link does not exist. Ask for a new link.")
    return link


def check_usable(link: ConnectionLink) -> None:
    if link.used_at is not None:
        raise LinkUnusableError(
            "This connection link has already been used, and works only once. Ask for a new link."
        )
    if link.expires_at <= utc_now():
        raise LinkUnusableError("This connection link has expired. Ask for a new link.")


def offered_tools(link: ConnectionLink) -> list[type[Any]]:
    if link.tool:
        return [connector_class(link.tool)]
    return [CONNECTORS[name] for name in sorted(CONNECTORS)]


@dataclass
class Attempt:
    """What the customer entered: the tool, settings and credentials as the form gave them
    (strings; an empty field is left out, so the connector's default applies)."""

    tool: str
    settings: dict[str, Any] = field(default_factory=dict)
    credentials: dict[str, Any] = field(default_factory=dict)


class AttemptRejectedError(Exception):
    """An attempt that cannot connect: a plain message, and per-field messages where a field is wrong."""

    def __init__(self, message: str, fields: dict[str, str] | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or {}
        self.code = code


def _field_errors(error: ValidationError, prefix: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for item in error.errors():
        name = str(item["loc"][0]) if item["loc"] else ""
        message = str(item["msg"]).removeprefix("Value error, ")
        found[f"{prefix}{name}"] = message
    return found


def validated(link: ConnectionLink, attempt: Attempt) -> tuple[dict[str, Any], dict[str, Any]]:
    """The attempt's settings (normalised) and credentials (plain values), or the fields to fix."""
    if link.tool and attempt.tool != link.tool:
        raise AttemptRejectedError(f"This link connects {link.tool} only.")
    try:
        cls = connector_class(attempt.tool)
    except UnknownToolError as error:
        raise AttemptRejectedError(str(error)) from error
    errors: dict[str, str] = {}
    settings: dict[str, Any] = {}
    credentials: dict[str, Any] = {}
    try:
        settings = cls.settings_model.model_validate(attempt.settings).model_dump(mode="json")
    except ValidationError as error:
        errors.update(_field_errors(error, "setting:"))
    model: type[BaseModel] = cls.credentials_model
    try:
        parsed = model.model_validate(attempt.credentials)
        credentials = {
            name: value.get_secret_value() if isinstance(value, SecretStr) else value
            for name, value in parsed
        }
    except ValidationError as error:
        errors.update(_field_errors(error, "credential:"))
    if errors:
        raise AttemptRejectedError("Some fields need a change before we can connect.", errors)
    return settings, credentials


def complete(
    conn: Connection,
    box: CredentialBox,
    link: ConnectionLink,
    *,
    tool: str,
    settings: dict[str, Any],
    credentials: dict[str, Any],
    public_url: str,
) -> tuple[Integration, str]:
    """Create the integration (or give the relinked one its new settings and credentials) and use
    up the link; returns the integration and the activation token for `integration-by-token`."""
    activation = secrets.token_urlsafe(32)
    if link.relink_integration_id:
        integration = update_integration(
            conn,
            box,
            link.relink_integration_id,
            environment_id=link.environment_id,
            settings=settings,
            credentials=credentials,
            public_url=public_url,
        )
    else:
        integration = create_integration(
            conn,
            box,
            tool=tool,
            environment=_environment_name(conn, link.environment_id),
            name=f"{link.end_user.get('organization_name') or tool} ({connector_class(tool).label})",
            settings=settings,
            credentials=credentials,
            public_url=public_url,
            end_user=link.end_user,
        )
    if not ConnectionLinkRepository(conn).claim(link.id, integration.id, token_hash(activation)):
        raise LinkUnusableError("This connection link has just been used, and works only once.")
    return integration, activation


def _environment_name(conn: Connection, environment_id: str) -> str:
    name = AuthRepository(conn).environment_name(environment_id)
    assert name is not None, "a link's environment outlives it"
    return name


def record_failure(
    conn: Connection, link: ConnectionLink, tool: str | None, failure: AttemptRejectedError, public_url: str
) -> None:
    """`connection-flow-failed`: informational, the customer may still succeed with the same link."""
    EventOutbox(conn).add(
        link.environment_id,
        link.relink_integration_id,
        EventType.CONNECTION_FLOW_FAILED,
        {
            "integration_tool": tool or link.tool,
            "integration_category": "LMS",
            "end_user": end_user_view(link.end_user),
            "log_url": f"{public_url.rstrip('/')}/logs/connect/{link.id}",
            "error": {"code": failure.code, "message": failure.message},
        },
    )


def end_user_view(end_user: dict[str, Any]) -> dict[str, Any]:
    return {
        "organization_name": end_user.get("organization_name"),
        "creator_email": end_user.get("creator_email"),
        "origin_id": end_user.get("origin_id"),
    }


def integration_by_token(conn: Connection, token: str, environment_id: str) -> dict[str, Any]:
    """What Kombo's `GET /connect/integration-by-token/{token}` answers."""
    link = ConnectionLinkRepository(conn).by_activation_hash(token_hash(token), environment_id)
    if link is None or link.integration_id is None:
        raise NotFoundError("No integration was created with this activation token in this environment.")
    integration = get_integration(conn, link.integration_id, environment_id)
    first_synced = SyncRepository(conn).state(integration.id).first_synced_at is not None
    return {
        "id": integration.id,
        "tool": integration.tool,
        "end_user_origin_id": link.end_user.get("origin_id"),
        "end_user_organization_name": link.end_user.get("organization_name"),
        "end_user_email": link.end_user.get("creator_email"),
        "setup_status": "COMPLETED" if first_synced else "FINAL_SYNC_PENDING",
    }
