"""One 360Learning emulator for the session (the conformance pair's), a freshly seeded company per
test with every answer checked against the vendor's OpenAPI files, and connectors pointed at it
over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from lmsbridge.connectors.base import ConnectorContext
from lmsbridge.connectors.threesixtylearning.connector import ThreeSixtyLearningConnector
from lmsbridge.testing.emulators.threesixtylearning.pair import QUICK, ThreeSixtyLearningPair
from lmsbridge.testing.emulators.threesixtylearning.site import Company, seeded_company
from lmsbridge.testing.emulators.threesixtylearning.spec import SpecCheck

CLIENT_ID = "test-client"
SECRET = "test-secret-5a6978"
SPEC = SpecCheck.load()


@dataclass
class Tenant:
    url: str
    company: Company

    def connector(self, secret: str | None = SECRET, **settings: Any) -> ThreeSixtyLearningConnector:
        base = {"site_url": self.url, "author_id": self.company.admin_id, "group_id": self.company.group_id}
        return ThreeSixtyLearningConnector(
            ConnectorContext(
                integration_id="360learning:test",
                settings={**base, **QUICK, **settings},
                credentials={"client_id": CLIENT_ID, "client_secret": secret} if secret is not None else {},
            )
        )

    def token(self) -> str:
        answer = httpx.post(
            f"{self.url}/api/v2/oauth2/token",
            json={"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": SECRET},
        )
        assert answer.status_code == 200, answer.text
        return str(answer.json()["access_token"])

    def call(self, method: str, path: str, token: str | None = None, **kwargs: Any) -> httpx.Response:
        headers = {"360-api-version": "v2.0", **kwargs.pop("headers", {})}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return httpx.request(method, f"{self.url}{path}", headers=headers, timeout=10, **kwargs)


@pytest.fixture
def tenant() -> Iterator[Tenant]:
    served = ThreeSixtyLearningPair.shared()
    company = served.use(seeded_company(seed=5, client_id=CLIENT_ID, client_secret=SECRET))
    company.spec_check = SPEC
    yield Tenant(served.url, company)
    served.use(Company())


def read_all(connector: ThreeSixtyLearningConnector, model: str, since: Any = None) -> list[Any]:
    return [record for page in connector.read(model, since) for record in page]
