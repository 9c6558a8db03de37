"""360Learning's API v2 behind one object: OAuth2 client credentials at `POST /api/v2/oauth2/token`
with a JSON body (not the form most vendors take), `360-api-version: v2.0` on every call, bare
JSON arrays paged by `Link: <...>; rel="next"`, and errors as `{"error": "<code>"}` (auth,
throttle) or `{"error": {"code", "message"}}` (everything else). Every call goes through the
shared HTTP client (retries, pacing, redaction)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import httpx

from lmsbridge.connectors.errors import ConnectorError
from lmsbridge.connectors.http.auth import OAuth2
from lmsbridge.connectors.http.client import RemoteHttpClient
from lmsbridge.connectors.http.paging import LinkHeaderPaginator, paginate
from lmsbridge.connectors.http.resolution import (
    AUTH,
    DEFAULT,
    INPUT,
    NOT_FOUND,
    PERMISSION,
    Intent,
    Resolution,
)
from lmsbridge.connectors.threesixtylearning.settings import API_VERSION, ThreeSixtyLearningSettings
from lmsbridge.errors import ErrorCode

SERVICE = "360Learning"
TOKEN_PATH = "/api/v2/oauth2/token"


def vendor_error(response: httpx.Response) -> tuple[str, str]:
    """(code, message) of an error body in either of the vendor's two shapes."""
    try:
        body = response.json()
    except ValueError:
        return "", ""
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return str(error.get("code", "")), str(error.get("message", ""))
    return (str(error), "") if isinstance(error, str) else ("", "")


def _described(base: Resolution) -> Any:
    def rule(response: httpx.Response) -> Resolution:
        code, message = vendor_error(response)
        if code == "skillSolutionNotEnabled":
            return replace(PERMISSION, message="the skills product is not enabled for this company")
        text = f"{code}: {message}" if code and message else code or message
        return replace(base, message=text) if text else base

    return rule


def _forbidden(response: httpx.Response) -> Resolution:
    _, message = vendor_error(response)
    detail = f" ({message})" if message else ""
    return replace(
        PERMISSION, message=f"the API key lacks a scope this call needs{detail}; add it in Settings > API"
    )


RESOLUTION = DEFAULT.override(
    {
        400: _described(INPUT),
        401: replace(AUTH, message="the access token was refused (invalid_token)"),
        403: _forbidden,
        404: _described(NOT_FOUND),
    }
)


class JsonClientCredentials(OAuth2):
    """360Learning's token endpoint takes the grant as JSON and answers `expires_in` as a number
    (the docs' example shows a string; both are read)."""

    def token_request(self) -> httpx.Request:
        return httpx.Request(
            "POST",
            self.token_url,
            json=self.grant,
            headers={"Accept": "application/json", "360-api-version": API_VERSION},
        )


def iso(moment: datetime) -> str:
    """A filter date as 360Learning wants it: UTC, milliseconds always 0."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


class ThreeSixtyLearningApi:
    def __init__(
        self,
        settings: ThreeSixtyLearningSettings,
        client_id: str,
        client_secret: str,
        *,
        transport: httpx.BaseTransport | None = None,
        pacer: Any = None,
        pace_key: str | None = None,
    ) -> None:
        grant = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": client_secret}
        if settings.company_id:
            grant["company_id"] = settings.company_id
        self.auth = JsonClientCredentials(f"{settings.site_url}{TOKEN_PATH}", grant)
        self.client = RemoteHttpClient(
            settings.site_url,
            service=SERVICE,
            timeout=settings.timeout_seconds,
            retry=settings.retry_policy(),
            headers={"360-api-version": API_VERSION, "Accept": "application/json"},
            secrets=[client_secret],
            transport=transport,
            pacer=pacer,
            pace_key=pace_key,
            pace=settings.pace(),
            auth=self.auth,
        )

    def close(self) -> None:
        self.client.close()

    def pages(self, path: str, params: Mapping[str, Any] | None = None) -> Iterator[Sequence[Any]]:
        """Every page of a listing (bare arrays), following the Link header's next URL."""
        yield from paginate(
            self.client,
            path,
            LinkHeaderPaginator(),
            lambda body: body if isinstance(body, list) else [],
            params=params,
            resolution=RESOLUTION,
        )

    def all(self, path: str, params: Mapping[str, Any] | None = None) -> list[Any]:
        return [row for page in self.pages(path, params) for row in page]

    def call(self, method: str, path: str, body: Any = None) -> httpx.Response:
        response = self.client.request(method, path, json=body)
        return RESOLUTION.check(response, SERVICE)

    def json(self, method: str, path: str, body: Any = None) -> Any:
        response = self.call(method, path, body)
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise ConnectorError(
                f"{SERVICE} answered HTTP {response.status_code} with a body that is not JSON.",
                code=ErrorCode.REMOTE_UNKNOWN_HTTP_ERROR,
            ) from None

    def submit_bulk(self, method: str, path: str, body: Any) -> httpx.Response:
        """A bulk submission, answered 202 with the operation's Location. The raw answer, since a
        429 `bulkOperationsConcurrencyLimitReached` is waited out by the caller, not failed."""
        return self.client.request(method, path, json=body)


def is_concurrency_limit(response: httpx.Response) -> bool:
    return (
        response.status_code == 429 and vendor_error(response)[0] == "bulkOperationsConcurrencyLimitReached"
    )


__all__ = ["RESOLUTION", "SERVICE", "Intent", "ThreeSixtyLearningApi", "iso", "vendor_error"]
