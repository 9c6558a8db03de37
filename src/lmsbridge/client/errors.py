"""The client's exceptions: one class per error family of the server's envelope
`{"status": "error", "error": {code, title, message, log_url}}`, plus the transport's failures.

    LmsBridgeClientError
    ├── APIConnectionError          no answer (refused, reset, timed out); retried first
    │   └── APITimeoutError
    ├── WaitTimeoutError            tasks.wait / syncs.wait ran out of time
    └── APIStatusError              an error answer: status, code, title, message, log_url
        ├── AuthenticationError     401 PLATFORM.AUTHENTICATION_INVALID
        ├── NotFoundError           404 (unknown integration, task, record or route)
        ├── InputInvalidError       400/409/413/422 PLATFORM.INPUT_INVALID
        ├── RateLimitError          429 (PLATFORM.* and REMOTE.RATE_LIMIT_EXCEEDED); retried first
        ├── IntegrationError        INTEGRATION.* (credentials, inactive, sync pending, not available)
        ├── RemoteError             REMOTE.* other than the rate limit (the remote LMS failed)
        └── ServerError             5xx (PLATFORM.UNKNOWN_ERROR, store unavailable)
"""

from __future__ import annotations

from typing import Any


class LmsBridgeClientError(Exception):
    """Every exception the client raises."""


class APIConnectionError(LmsBridgeClientError):
    """The server could not be reached, or the connection failed before an answer."""


class APITimeoutError(APIConnectionError):
    """The request timed out."""


class WaitTimeoutError(LmsBridgeClientError, TimeoutError):
    """A task or sync was still running when `wait` gave up; `last` is its last state."""

    def __init__(self, message: str, last: Any = None) -> None:
        super().__init__(message)
        self.last = last


class APIStatusError(LmsBridgeClientError):
    """An error answer from the server."""

    def __init__(
        self,
        status_code: int,
        code: str | None,
        title: str | None,
        message: str,
        log_url: str | None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status_code} {code or ''}: {message}".replace("  ", " "))
        self.status_code = status_code
        self.code = code
        self.title = title
        self.message = message
        self.log_url = log_url
        self.headers = headers or {}


class AuthenticationError(APIStatusError):
    """The API key is missing, unknown or revoked."""


class NotFoundError(APIStatusError):
    """The integration, task or record does not exist (or belongs to another environment)."""


class InputInvalidError(APIStatusError):
    """The request was refused as invalid (schema, limits, idempotency conflict)."""


class RateLimitError(APIStatusError):
    """Too many requests, or too many actions in flight; `retry_after` in seconds when given."""

    @property
    def retry_after(self) -> float | None:
        return parse_retry_after(self.headers.get("retry-after"))


class IntegrationError(APIStatusError):
    """The integration cannot serve the call: credentials rejected, inactive, first sync pending,
    model or action not available."""


class RemoteError(APIStatusError):
    """The remote LMS rejected the call or failed."""


class ServerError(APIStatusError):
    """lmsbridge failed (5xx)."""


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    from datetime import UTC, datetime
    from email.utils import parsedate_to_datetime

    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - datetime.now(UTC)).total_seconds())


def error_for(status_code: int, body: Any, headers: dict[str, str]) -> APIStatusError:
    """The exception for an error answer, by its code's family first, then by its status."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        error = {"message": str(body)[:500] if body else f"HTTP {status_code}"}
    code = error.get("code")
    args = (status_code, code, error.get("title"), str(error.get("message") or ""), error.get("log_url"))
    family = (code or "").split(".", 1)[0]
    cls: type[APIStatusError]
    if status_code == 429:
        cls = RateLimitError
    elif family == "REMOTE":
        cls = RemoteError
    elif family == "INTEGRATION":
        cls = IntegrationError
    elif status_code == 401:
        cls = AuthenticationError
    elif status_code == 404:
        cls = NotFoundError
    elif status_code in (400, 409, 413, 422):
        cls = InputInvalidError
    elif status_code >= 500:
        cls = ServerError
    else:
        cls = APIStatusError
    return cls(*args, headers=headers)
