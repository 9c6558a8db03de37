"""TalentLMS's two APIs behind one object: v1 (HTTP Basic with the key as user name, arguments
as `key:value` path segments, form-encoded POSTs, errors as `{"error": {"type", "message"}}`) and
the Public API v2 (`X-API-Key` and `X-API-Version` headers, JSON, errors as `{"type",
"message"}`). Both go through the shared HTTP client (retries, pacing, redaction); every answer
is resolved to an intent with the vendor's own message kept."""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import replace
from typing import Any
from urllib.parse import quote

import httpx

from lmsbridge.connectors.errors import ConnectorError
from lmsbridge.connectors.http.auth import ApiKeyHeader
from lmsbridge.connectors.http.client import RemoteHttpClient
from lmsbridge.connectors.http.resolution import (
    AUTH,
    DEFAULT,
    INPUT,
    NOT_FOUND,
    PERMISSION,
    Resolution,
)
from lmsbridge.connectors.talentlms.settings import TalentLmsSettings
from lmsbridge.errors import ErrorCode
from lmsbridge.outbound import guarded_transport

SERVICE = "TalentLMS"
API_PAGE = "Account & Settings > Integrations > API"


def vendor_message(response: httpx.Response) -> str:
    """The message of a v1 (`{"error": {...}}`) or v2 (`{"type", "message"}`) error body."""
    try:
        body = response.json()
    except ValueError:
        return ""
    if isinstance(body, dict):
        inner = body.get("error")
        if isinstance(inner, dict):
            body = inner
        message = body.get("message")
        if isinstance(message, str):
            return message
    return ""


def _with_message(base: Resolution) -> Any:
    def rule(response: httpx.Response) -> Resolution:
        message = vendor_message(response)
        return replace(base, message=message) if message else base

    return rule


RESOLUTION = DEFAULT.override(
    {
        400: _with_message(INPUT),
        401: replace(AUTH, message=f"the API key was refused; copy it again from {API_PAGE}"),
        403: replace(
            PERMISSION,
            message=f"API access is off for this portal (turn it on in {API_PAGE}; paid plans only) "
            "or the portal is inactive",
        ),
        404: _with_message(NOT_FOUND),
        422: _with_message(INPUT),
    }
)


class RateLimitReset(httpx.BaseTransport):
    """TalentLMS signals when a throttled caller may go on with `X-RateLimit-Reset` (a unix
    moment), not Retry-After; this turns the one into the other so the shared client waits
    exactly that long."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        reset = response.headers.get("X-RateLimit-Reset", "")
        if response.status_code == 429 and "Retry-After" not in response.headers and reset.isdigit():
            response.headers["Retry-After"] = str(max(1, math.ceil(int(reset) - time.time())))
        return response

    def close(self) -> None:
        self.inner.close()


def v1_target(action: str, args: Mapping[str, Any] | None = None) -> str:
    """`users`, {"id": 7} -> `users/id:7`: keys sorted, each value URL-encoded (a comma or colon
    inside a value cannot break the pairs)."""
    if not args:
        return action
    pairs = ",".join(f"{key}:{quote(str(value), safe='')}" for key, value in sorted(args.items()))
    return f"{action}/{pairs}"


class TalentLmsApi:
    def __init__(
        self,
        settings: TalentLmsSettings,
        api_key: str,
        *,
        transport: httpx.BaseTransport | None = None,
        pacer: Any = None,
        pace_key: str | None = None,
    ) -> None:
        # site_url was typed by a user: without a transport given, every connection is checked.
        wire = RateLimitReset(transport or guarded_transport())
        common: dict[str, Any] = {
            "service": SERVICE,
            "timeout": settings.timeout_seconds,
            "retry": settings.retry_policy(),
            "secrets": [api_key],
            "transport": wire,
            "pacer": pacer,
            "pace_key": pace_key,
            "pace": settings.pace(),
        }
        self.v1 = RemoteHttpClient(
            f"{settings.site_url}/api/v1/", auth=httpx.BasicAuth(api_key, ""), **common
        )
        self.v2 = RemoteHttpClient(
            f"{settings.site_url}/api/v2/",
            auth=ApiKeyHeader(api_key, "X-API-Key"),
            headers={"X-API-Version": settings.api_version, "Accept": "application/json"},
            **common,
        )

    def close(self) -> None:
        self.v1.close()
        self.v2.close()

    # -- v1 --------------------------------------------------------------------------------------------
    def v1_get(self, action: str, args: Mapping[str, Any] | None = None) -> Any:
        return self._checked(self.v1.request("GET", v1_target(action, args)))

    def v1_post(self, action: str, form: Mapping[str, Any]) -> Any:
        return self._checked(self.v1.request("POST", action, data={k: str(v) for k, v in form.items()}))

    # -- v2 --------------------------------------------------------------------------------------------
    def v2_get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return self._checked(self.v2.request("GET", path, params=params))

    def v2_post(self, path: str, body: Any) -> Any:
        return self._checked(self.v2.request("POST", path, json=body))

    @staticmethod
    def _checked(response: httpx.Response) -> Any:
        RESOLUTION.check(response, SERVICE)
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise ConnectorError(
                f"{SERVICE} answered HTTP {response.status_code} with a body that is not JSON.",
                code=ErrorCode.REMOTE_UNKNOWN_HTTP_ERROR,
            ) from None
