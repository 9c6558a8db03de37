"""One TalentLMS emulator for the session (the conformance pair's), a freshly seeded portal per
test, and connectors pointed at it over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from lmsbridge.connectors.base import ConnectorContext
from lmsbridge.connectors.records import Record
from lmsbridge.connectors.talentlms.connector import TalentLmsConnector
from lmsbridge.testing.emulators.talentlms.pair import QUICK, TalentLmsPair
from lmsbridge.testing.emulators.talentlms.site import TalentLmsSite, seeded_site
from lmsbridge.testing.emulators.talentlms.spec import SpecCheck

KEY = "tlms-0f1e2d3c4b5a69788796a5b4c3d2e1"


@dataclass
class Portal:
    url: str
    site: TalentLmsSite

    def connector(self, key: str | None = KEY, **settings: Any) -> TalentLmsConnector:
        return TalentLmsConnector(
            ConnectorContext(
                integration_id="talentlms:test",
                settings={"site_url": self.url, **QUICK, **settings},
                credentials={"api_key": key} if key is not None else {},
            )
        )

    def v1(self, path: str, key: str | None = KEY, **kwargs: Any) -> httpx.Response:
        auth = (key, "") if key is not None else None
        return httpx.request(kwargs.pop("method", "GET"), f"{self.url}/api/v1/{path}", auth=auth, **kwargs)

    def v2(self, method: str, path: str, key: str | None = KEY, **kwargs: Any) -> httpx.Response:
        headers = {
            "X-API-Version": "2024-01-01",
            **({"X-API-Key": key} if key else {}),
            **kwargs.pop("headers", {}),
        }
        return httpx.request(method, f"{self.url}/api/v2/{path}", headers=headers, **kwargs)


@pytest.fixture
def portal() -> Iterator[Portal]:
    served = TalentLmsPair.shared()
    site = served.use(seeded_site(seed=5, api_key=KEY))
    site.spec_check = SpecCheck.load()
    yield Portal(served.url, site)
    served.use(TalentLmsSite())


def read_all(connector: TalentLmsConnector, model: str) -> list[Any]:
    return [record for page in connector.read(model, None) for record in page]


__all__ = ["KEY", "Portal", "Record", "read_all"]
