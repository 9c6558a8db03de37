"""Tool slug -> connector class."""

from __future__ import annotations

from typing import Any

from lmsbridge.connectors.base import Connector, ConnectorContext, ConnectorSettings
from lmsbridge.connectors.moodle.connector import MoodleConnector
from lmsbridge.connectors.sandbox.connector import SandboxConnector

CONNECTORS: dict[str, type[Any]] = {
    SandboxConnector.tool: SandboxConnector,
    MoodleConnector.tool: MoodleConnector,
}


class UnknownToolError(ValueError):
    pass


def connector_class(tool: str) -> type[Any]:
    try:
        return CONNECTORS[tool]
    except KeyError:
        known = ", ".join(sorted(CONNECTORS))
        raise UnknownToolError(f"unknown tool {tool!r}; available: {known}") from None


def validate_settings(tool: str, settings: dict[str, Any]) -> dict[str, Any]:
    """Validate an integration's settings against its connector; returns them normalised."""
    model: type[ConnectorSettings] = connector_class(tool).settings_model
    return model.model_validate(settings).model_dump(mode="json")


def build_connector(tool: str, context: ConnectorContext) -> Connector:
    connector: Connector = connector_class(tool)(context)
    return connector
