"""LinkedIn's API (`{api_url}/v2/`): a bearer token from the client-credentials grant (about 90
days, no refresh token: requested again before it expires and once on a 401), Rest.li 2.0
queries, `start`/`count` pages with relative `paging.links`, errors as `{"message",
"serviceErrorCode", "status"}`, and daily quotas answered by a 429 without headers."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

import httpx

from lmsbridge.connectors.http.auth import OAuth2
from lmsbridge.connectors.http.client import RemoteHttpClient
from lmsbridge.connectors.http.paging import PagingLoopError
from lmsbridge.connectors.http.resolution import AUTH, DEFAULT, INPUT, NOT_FOUND, PERMISSION, RATE, Resolution
from lmsbridge.connectors.linkedinlearning import restli
from lmsbridge.connectors.linkedinlearning.settings import LinkedInLearningSettings

SERVICE = "LinkedIn Learning"
PROTOCOL = {"X-RestLi-Protocol-Version": "2.0.0", "Accept": "application/json"}


def message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    value = body.get("message") if isinstance(body, dict) else None
    return value if isinstance(value, str) else ""


def _with_message(base: Resolution) -> Any:
    def rule(response: httpx.Response) -> Resolution:
        found = message(response)
        return replace(base, message=found) if found else base

    return rule


RESOLUTION = DEFAULT.override(
    {
        400: _with_message(INPUT),
        401: replace(
            AUTH, message="the access token was refused; check the application's client id and secret"
        ),
        403: _with_message(
            replace(PERMISSION, message="the application may not use this API (tick Content and Reporting)")
        ),
        404: _with_message(NOT_FOUND),
        429: replace(RATE, message="the application's daily quota is spent (it resets at midnight UTC)"),
    }
)


class LinkedInLearningApi:
    def __init__(
        self,
        settings: LinkedInLearningSettings,
        client_id: str,
        client_secret: str,
        *,
        transport: httpx.BaseTransport | None = None,
        pacer: Any = None,
        pace_key: str | None = None,
    ) -> None:
        self.settings = settings
        self.oauth = OAuth2.client_credentials(
            f"{settings.oauth_url}/oauth/v2/accessToken", client_id, client_secret, in_body=True
        )
        self.client = RemoteHttpClient(
            f"{settings.api_url}/v2/",
            service=SERVICE,
            timeout=settings.timeout_seconds,
            retry=settings.retry_policy(),
            secrets=[client_secret],
            secret_params=["client_secret"],
            transport=transport,
            pacer=pacer,
            pace_key=pace_key,
            pace=settings.pace(),
            auth=self.oauth,
            headers=PROTOCOL,
        )

    def close(self) -> None:
        self.client.close()

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        target = f"{path}?{restli.query(params)}" if params else path
        response = RESOLUTION.check(self.client.request("GET", target), SERVICE)
        return response.json() if response.content else None

    def pages(self, resource: str, params: Mapping[str, Any]) -> Iterator[Sequence[dict[str, Any]]]:
        """Every page of a finder: `start`/`count`, following the `next` link LinkedIn gives
                (relative to the API host) until there is none. A link already followed, or a page already
        read, stops the read."""
        body = self.get(resource, {**params, "start": 0, "count": self.settings.page_size})
        seen: set[str] = set()
        pages: set[int] = set()
        while True:
            rows = (body or {}).get("elements") or []
            fingerprint = hash(repr(rows))
            if rows and fingerprint in pages:  # a remote answering one page for every start
                raise PagingLoopError(f"{SERVICE} answered the same page twice; paging stopped.")
            pages.add(fingerprint)
            if rows:
                yield rows
            links = ((body or {}).get("paging") or {}).get("links") or []
            following = next((link.get("href") for link in links if link.get("rel") == "next"), None)
            if not following or not rows:
                return
            if following in seen:
                raise PagingLoopError(f"{SERVICE} gave a page already read ({following}); paging stopped.")
            seen.add(following)
            parts = urlsplit(following)
            path = parts.path.removeprefix("/v2/").lstrip("/")
            target = f"{path}?{parts.query}" if parts.query else path
            body = RESOLUTION.check(self.client.request("GET", target), SERVICE).json()
