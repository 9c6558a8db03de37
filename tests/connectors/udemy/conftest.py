"""One Udemy emulator for the session (the conformance pair's), a freshly seeded organization per
test, and connectors pointed at it over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from lmsbridge.connectors.base import ConnectorContext
from lmsbridge.connectors.udemy.connector import UdemyConnector
from lmsbridge.testing.emulators.udemy.pair import QUICK, UdemyPair
from lmsbridge.testing.emulators.udemy.site import UdemySite, seeded_site

CLIENT = ("udemy-test-client", "udemy-test-secret-5a6b7c8d9e")


@dataclass
class Org:
    url: str
    site: UdemySite

    def connector(self, credentials: tuple[str, str] | None = CLIENT, **settings: Any) -> UdemyConnector:
        return UdemyConnector(
            ConnectorContext(
                integration_id="udemy:test",
                settings={
                    "site_url": self.url,
                    "account_id": "123456",
                    "report_lag_hours": 0,
                    **QUICK,
                    **settings,
                },
                credentials={"client_id": credentials[0], "client_secret": credentials[1]}
                if credentials
                else {},
            )
        )

    def get(self, path: str, auth: tuple[str, str] | None = CLIENT, **kwargs: Any) -> httpx.Response:
        return httpx.get(f"{self.url}/api-2.0/organizations/123456/{path}", auth=auth, **kwargs)


@pytest.fixture
def org() -> Iterator[Org]:
    served = UdemyPair.shared()
    site = served.use(seeded_site(seed=5, client_id=CLIENT[0], client_secret=CLIENT[1]))
    yield Org(served.url, site)
    served.reset()


def read_all(connector: UdemyConnector, model: str, since: Any = None) -> list[Any]:
    return [record for page in connector.read(model, since) for record in page]
