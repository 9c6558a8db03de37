"""The one place connectors are built and their capabilities checked, for tasks, syncs and direct
actions alike. What the caller brings (credentials opened, a pacer, services such as the
Sandbox's state) arrives in the `ConnectorContext`; nothing here knows the store."""

from __future__ import annotations

from typing import Any

from lmsbridge.connectors.base import ConnectorContext, WriteAction
from lmsbridge.connectors.connector import BaseConnector, not_available_message
from lmsbridge.connectors.registry import connector_class
from lmsbridge.errors import ActionNotAvailableError


def build_connector(tool: str, context: ConnectorContext) -> BaseConnector[Any]:
    return connector_class(tool)(context)


def require_capability(tool: str, action: WriteAction) -> None:
    """Refuses, before anything is stored or called, an action the tool's connector does not offer."""
    cls = connector_class(tool)
    if not cls.capabilities.can(action):
        raise ActionNotAvailableError(not_available_message(cls.label, action))
