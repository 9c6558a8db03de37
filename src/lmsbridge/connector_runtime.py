"""The connector of an integration, built the one way tasks, syncs and direct actions share: its
credentials opened, its remote calls paced through the store, and the services connectors may
ask for (the Sandbox's state)."""

from __future__ import annotations

from typing import Any

from lmsbridge.connectors.base import ConnectorContext
from lmsbridge.connectors.connector import BaseConnector
from lmsbridge.connectors.runtime import build_connector
from lmsbridge.connectors.sandbox.state import SandboxState
from lmsbridge.db import Store
from lmsbridge.integration_store.credentials import CredentialBox
from lmsbridge.integration_store.repository import Integration
from lmsbridge.remote_pacing import StorePacer
from lmsbridge.sandbox.repository import SandboxStateRepository


def connector_for(
    store: Store, box: CredentialBox, integration: Integration, *, pacer: StorePacer | None = None
) -> BaseConnector[Any]:
    return build_connector(
        integration.tool,
        ConnectorContext(
            integration_id=integration.id,
            settings=integration.settings,
            credentials=box.open(integration.credentials),
            pacer=pacer or StorePacer(store),
            services={SandboxState: SandboxStateRepository(store)},
        ),
    )
