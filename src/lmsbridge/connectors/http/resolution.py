"""One table from a remote's answer to what it means for lmsbridge, by intent: the whole
integration needs a person (configuration), the call may succeed later (transient, with the
remote's Retry-After), or this item failed (item). Each connector starts from `DEFAULT` and
overrides the rows where its remote differs (a vendor that answers 400 for an expired token, a
throttle signalled in the body...)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum

import httpx

from lmsbridge.connectors.errors import (
    AuthenticationInvalidError,
    ConnectorError,
    IntegrationError,
    ItemError,
    PermissionMissingError,
)
from lmsbridge.connectors.http.client import retry_after_seconds
from lmsbridge.errors import ErrorCode


class Intent(StrEnum):
    OK = "ok"
    CONFIGURATION = "configuration"  # credentials or permissions: nothing runs until fixed
    TRANSIENT = "transient"  # try again later (the client already retried)
    ITEM = "item"  # this item failed; the others go on


@dataclass(frozen=True)
class Resolution:
    intent: Intent
    code: ErrorCode | None = None
    message: str = ""
    retry_after: float | None = None

    def error(self, service: str, detail: str = "") -> ConnectorError:
        text = f"{service}: {self.message}" + (f" ({detail})" if detail else "")
        if self.intent is Intent.CONFIGURATION:
            if self.code is ErrorCode.INTEGRATION_AUTHENTICATION_INVALID:
                return AuthenticationInvalidError(text)
            if self.code is ErrorCode.INTEGRATION_PERMISSION_MISSING:
                return PermissionMissingError(text)
            return IntegrationError(text, code=self.code)
        if self.intent is Intent.ITEM:
            return ItemError(text, code=self.code or ErrorCode.REMOTE_INPUT_INVALID)
        return ConnectorError(text, code=self.code or ErrorCode.REMOTE_SERVICE_UNAVAILABLE)


OK = Resolution(Intent.OK)
AUTH = Resolution(Intent.CONFIGURATION, ErrorCode.INTEGRATION_AUTHENTICATION_INVALID, "credentials rejected")
PERMISSION = Resolution(Intent.CONFIGURATION, ErrorCode.INTEGRATION_PERMISSION_MISSING, "permission missing")
INPUT = Resolution(Intent.ITEM, ErrorCode.REMOTE_INPUT_INVALID, "input refused")
NOT_FOUND = Resolution(Intent.ITEM, ErrorCode.REMOTE_INPUT_INVALID, "no such record")
RATE = Resolution(Intent.TRANSIENT, ErrorCode.REMOTE_RATE_LIMIT_EXCEEDED, "rate limit exceeded")
DOWN = Resolution(Intent.TRANSIENT, ErrorCode.REMOTE_SERVICE_UNAVAILABLE, "unavailable")
UNKNOWN = Resolution(Intent.ITEM, ErrorCode.REMOTE_UNKNOWN_HTTP_ERROR, "unexpected answer")

Rule = Resolution | Callable[[httpx.Response], Resolution | None]


@dataclass(frozen=True)
class ResolutionTable:
    """Status -> resolution; a rule may be a function of the response (to read a vendor's error
    body) that answers None to fall through to the status class (4xx, 5xx)."""

    rules: Mapping[int, Rule] = field(default_factory=dict)

    def override(self, rules: Mapping[int, Rule]) -> ResolutionTable:
        return replace(self, rules={**self.rules, **rules})

    def resolve(self, response: httpx.Response) -> Resolution:
        status = response.status_code
        rule = self.rules.get(status)
        found = rule(response) if callable(rule) else rule
        if found is None:
            found = OK if status < 300 else DOWN if status >= 500 else UNKNOWN
        if found.intent is Intent.TRANSIENT:
            found = replace(found, retry_after=retry_after_seconds(response.headers.get("Retry-After")))
        return found

    def check(self, response: httpx.Response, service: str) -> httpx.Response:
        """The response when it is a success; otherwise raises the error its resolution names."""
        resolution = self.resolve(response)
        if resolution.intent is Intent.OK:
            return response
        raise resolution.error(service, f"HTTP {response.status_code}")


DEFAULT = ResolutionTable(
    {
        400: INPUT,
        401: AUTH,
        403: PERMISSION,
        404: NOT_FOUND,
        409: INPUT,
        422: INPUT,
        429: RATE,
    }
)
