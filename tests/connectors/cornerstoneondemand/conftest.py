"""One Cornerstone emulator for the session (the conformance pair's), a freshly seeded portal per
test, and connectors pointed at it over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from lmsbridge.connectors.base import ConnectorContext
from lmsbridge.connectors.cornerstoneondemand.connector import CornerstoneConnector
from lmsbridge.testing.emulators.cornerstoneondemand.pair import QUICK, CornerstonePair
from lmsbridge.testing.emulators.cornerstoneondemand.site import Portal, seeded_portal

CLIENT = ("csod-test-client", "csod-test-secret-5a6b7c8d9e")


@dataclass
class Tenant:
    url: str
    portal: Portal

    def connector(
        self, credentials: tuple[str, str] | None = CLIENT, **settings: Any
    ) -> CornerstoneConnector:
        return CornerstoneConnector(
            ConnectorContext(
                integration_id="cornerstoneondemand:test",
                settings={"site_url": self.url, **QUICK, **settings},
                credentials={"client_id": credentials[0], "client_secret": credentials[1]}
                if credentials
                else {},
            )
        )

    def token(self) -> str:
        answer = httpx.post(
            f"{self.url}/services/api/oauth2/token",
            json={"clientId": CLIENT[0], "clientSecret": CLIENT[1], "grantType": "client_credentials"},
        )
        assert answer.status_code == 200, answer.text
        return str(answer.json()["access_token"])

    def get(self, path: str, token: str | None = None, **kwargs: Any) -> httpx.Response:
        headers = kwargs.pop("headers", {})
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return httpx.get(f"{self.url}/services/api/{path}", headers=headers, timeout=10, **kwargs)


@pytest.fixture
def tenant() -> Iterator[Tenant]:
    served = CornerstonePair.shared()
    portal = served.use(seeded_portal(seed=5, client_id=CLIENT[0], client_secret=CLIENT[1], translated=True))
    yield Tenant(served.url, portal)
    served.use(Portal())


def read_all(connector: CornerstoneConnector, model: str, since: Any = None) -> list[Any]:
    return [record for page in connector.read(model, since) for record in page]
