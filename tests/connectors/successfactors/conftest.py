"""One SuccessFactors emulator for the session (the conformance pair's), a freshly seeded tenant
per test, and connectors pointed at it over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from lmsbridge.connectors.base import ConnectorContext
from lmsbridge.connectors.successfactors.connector import SuccessFactorsConnector
from lmsbridge.testing.emulators.successfactors.pair import QUICK, SuccessFactorsPair
from lmsbridge.testing.emulators.successfactors.site import SuccessFactorsSite, seeded_site

CLIENT = ("sf-test-client", "sf-test-secret-7a6b5c4d3e")
SCOPE = {
    "userId": "sfadmin",
    "companyId": "ACME01",
    "userType": "admin",
    "resourceType": "learning_public_api",
}


@dataclass
class Tenant:
    url: str
    site: SuccessFactorsSite

    def connector(
        self, credentials: dict[str, Any] | None = None, **settings: Any
    ) -> SuccessFactorsConnector:
        creds = {"client_id": CLIENT[0], "client_secret": CLIENT[1]} if credentials is None else credentials
        return SuccessFactorsConnector(
            ConnectorContext(
                integration_id="successfactors:test",
                settings={
                    "learning_url": self.url,
                    "company_id": "ACME01",
                    "rate_limit_per_second": None,
                    "ocn_pace_seconds": 0.0,
                    **QUICK,
                    **settings,
                },
                credentials=creds,
            )
        )

    def token(self) -> str:
        answer = httpx.post(
            f"{self.url}/learning/oauth-api/rest/v1/token",
            auth=CLIENT,
            json={"grant_type": "client_credentials", "scope": SCOPE},
        )
        assert answer.status_code == 200, answer.text
        return str(answer.json()["access_token"])

    def get(self, path: str, token: str | None = None, **params: str) -> httpx.Response:
        return httpx.get(
            f"{self.url}/learning/odatav4/{path}",
            params=params,
            headers={"Authorization": f"Bearer {token or self.token()}"},
        )


@pytest.fixture
def tenant() -> Iterator[Tenant]:
    served = SuccessFactorsPair.shared()
    site = served.use(seeded_site(seed=5, client_id=CLIENT[0], client_secret=CLIENT[1], ocn_pace_seconds=0.0))
    yield Tenant(served.url, site)
    served.reset()


def read_all(connector: SuccessFactorsConnector, model: str) -> list[Any]:
    return [record for page in connector.read(model, None) for record in page]
