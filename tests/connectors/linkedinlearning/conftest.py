"""One LinkedIn Learning emulator for the session (the conformance pair's), a freshly seeded
account per test, and connectors pointed at it over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from lmsbridge.connectors.base import ConnectorContext
from lmsbridge.connectors.linkedinlearning.connector import LinkedInLearningConnector
from lmsbridge.testing.emulators.linkedinlearning.pair import QUICK, LinkedInLearningPair
from lmsbridge.testing.emulators.linkedinlearning.site import LinkedInSite, seeded_site

CLIENT = ("li-test-client", "li-test-secret-9f8e7d6c5b")


@dataclass
class Account:
    url: str
    site: LinkedInSite

    def connector(
        self, credentials: tuple[str, str] | None = CLIENT, **settings: Any
    ) -> LinkedInLearningConnector:
        return LinkedInLearningConnector(
            ConnectorContext(
                integration_id="linkedinlearning:test",
                settings={
                    "api_url": self.url,
                    "oauth_url": self.url,
                    "report_lag_hours": 0,
                    **QUICK,
                    **settings,
                },
                credentials={"client_id": credentials[0], "client_secret": credentials[1]}
                if credentials
                else {},
            )
        )

    def token(self) -> str:
        answer = httpx.post(
            f"{self.url}/oauth/v2/accessToken",
            data={"grant_type": "client_credentials", "client_id": CLIENT[0], "client_secret": CLIENT[1]},
        )
        assert answer.status_code == 200, answer.text
        return str(answer.json()["access_token"])

    def get(
        self, path_and_query: str, token: str | None = None, protocol: str | None = "2.0.0"
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token or self.token()}"}
        if protocol:
            headers["X-RestLi-Protocol-Version"] = protocol
        return httpx.get(f"{self.url}/v2/{path_and_query}", headers=headers)


@pytest.fixture
def account() -> Iterator[Account]:
    served = LinkedInLearningPair.shared()
    site = served.use(seeded_site(seed=5, client_id=CLIENT[0], client_secret=CLIENT[1]))
    yield Account(served.url, site)
    served.reset()


def read_all(connector: LinkedInLearningConnector, model: str, since: Any = None) -> list[Any]:
    return [record for page in connector.read(model, since) for record in page]
