"""Udemy Business's REST API (`/api-2.0/organizations/{account_id}/`): HTTP Basic with the API
client on every call, Django REST framework pages (`page`, `page_size`, a `next` link), errors
as `{"detail": "..."}`, 429 with Retry-After. Every answer is resolved to an intent, keeping the
vendor's own message."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any

import httpx

from lmsbridge.connectors.http.client import RemoteHttpClient
from lmsbridge.connectors.http.paging import NextLinkPaginator, paginate
from lmsbridge.connectors.http.resolution import AUTH, DEFAULT, INPUT, NOT_FOUND, PERMISSION, Resolution
from lmsbridge.connectors.udemy.settings import UdemySettings

SERVICE = "Udemy Business"
API_PAGE = "Manage > Settings > API"


def detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    value = body.get("detail") if isinstance(body, dict) else None
    return value if isinstance(value, str) else ""


def _with_detail(base: Resolution) -> Any:
    def rule(response: httpx.Response) -> Resolution:
        message = detail(response)
        return replace(base, message=message) if message else base

    return rule


RESOLUTION = DEFAULT.override(
    {
        400: _with_detail(INPUT),
        401: replace(AUTH, message=f"the API client id or secret was refused; check them in {API_PAGE}"),
        403: replace(
            PERMISSION,
            message=f"the API client may not read this organization (turn on the Courses and reporting "
            f"APIs in {API_PAGE}, and check account_id)",
        ),
        404: _with_detail(NOT_FOUND),
    }
)


class UdemyApi:
    def __init__(
        self,
        settings: UdemySettings,
        client_id: str,
        client_secret: str,
        *,
        transport: httpx.BaseTransport | None = None,
        pacer: Any = None,
        pace_key: str | None = None,
    ) -> None:
        self.settings = settings
        self.client = RemoteHttpClient(
            f"{settings.site_url}/api-2.0/organizations/{settings.account_id}/",
            service=SERVICE,
            timeout=settings.timeout_seconds,
            retry=settings.retry_policy(),
            secrets=[client_secret],
            transport=transport,
            pacer=pacer,
            pace_key=pace_key,
            pace=settings.pace(),
            auth=httpx.BasicAuth(client_id, client_secret),
            headers={"Accept": "application/json"},
        )

    def close(self) -> None:
        self.client.close()

    def pages(self, path: str, params: Mapping[str, Any] | None = None) -> Iterator[Sequence[Any]]:
        """Every page of a list, following `next` until it is null."""
        first = {"page": 1, "page_size": self.settings.page_size, **(params or {})}
        yield from paginate(
            self.client,
            path,
            NextLinkPaginator("next"),
            lambda body: (body or {}).get("results") or [],
            params=first,
            resolution=RESOLUTION,
        )

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        response = RESOLUTION.check(self.client.request("GET", path, params=params), SERVICE)
        return response.json() if response.content else None
