"""The one error hierarchy. Every failure the API reports is a `LmsBridgeError` carrying the
contract's code, a static title and an HTTP status; it is rendered in one place (`api/errors.py`).

    LmsBridgeError
    ├── InputInvalidError            400 PLATFORM.INPUT_INVALID
    │   └── IdempotencyConflictError 409 PLATFORM.INPUT_INVALID
    ├── AuthenticationInvalidError   401 PLATFORM.AUTHENTICATION_INVALID
    ├── IntegrationNotFoundError     404 PLATFORM.INTEGRATION_NOT_FOUND
    ├── NotFoundError                404 PLATFORM.INPUT_INVALID (the contract has no not-found code)
    ├── PayloadTooLargeError         413 PLATFORM.INPUT_INVALID
    ├── ActionNotAvailableError      400 INTEGRATION.ACTION_NOT_AVAILABLE
    ├── IntegrationInactiveError     403 INTEGRATION.INACTIVE
    ├── PreflightFailedError         400 with the connector's code (an update the remote refuses)
    ├── StoreUnavailableError        503 PLATFORM.UNKNOWN_ERROR
    └── UnknownError                 500 PLATFORM.UNKNOWN_ERROR
"""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    RATE_LIMIT_EXCEEDED = "PLATFORM.RATE_LIMIT_EXCEEDED"
    CONCURRENCY_LIMIT_EXCEEDED = "PLATFORM.CONCURRENCY_LIMIT_EXCEEDED"
    INTEGRATION_NOT_FOUND = "PLATFORM.INTEGRATION_NOT_FOUND"
    INPUT_INVALID = "PLATFORM.INPUT_INVALID"
    UNKNOWN_ERROR = "PLATFORM.UNKNOWN_ERROR"
    AUTHENTICATION_INVALID = "PLATFORM.AUTHENTICATION_INVALID"
    TASK_TIMED_OUT = "PLATFORM.TASK_TIMED_OUT"
    INTEGRATION_PERMISSION_MISSING = "INTEGRATION.PERMISSION_MISSING"
    INTEGRATION_AUTHENTICATION_INVALID = "INTEGRATION.AUTHENTICATION_INVALID"
    INTEGRATION_SETUP_SYNC_PENDING = "INTEGRATION.SETUP_SYNC_PENDING"
    INTEGRATION_INACTIVE = "INTEGRATION.INACTIVE"
    INTEGRATION_MODEL_NOT_AVAILABLE = "INTEGRATION.MODEL_NOT_AVAILABLE"
    INTEGRATION_ACTION_NOT_AVAILABLE = "INTEGRATION.ACTION_NOT_AVAILABLE"
    REMOTE_SERVICE_UNAVAILABLE = "REMOTE.SERVICE_UNAVAILABLE"
    REMOTE_RATE_LIMIT_EXCEEDED = "REMOTE.RATE_LIMIT_EXCEEDED"
    REMOTE_INPUT_INVALID = "REMOTE.INPUT_INVALID"
    REMOTE_UNKNOWN_HTTP_ERROR = "REMOTE.UNKNOWN_HTTP_ERROR"
    COURSE_UPDATE_NOT_SUPPORTED = "LMS.COURSE_UPDATE_NOT_SUPPORTED"


# Static, human-readable labels: the envelope's `title`. `message` carries the instance's detail.
TITLES: dict[ErrorCode, str] = {
    ErrorCode.RATE_LIMIT_EXCEEDED: "Rate limit exceeded.",
    ErrorCode.CONCURRENCY_LIMIT_EXCEEDED: "Too many actions in flight for this integration.",
    ErrorCode.INTEGRATION_NOT_FOUND: "The integration was not found.",
    ErrorCode.INPUT_INVALID: "The request is invalid.",
    ErrorCode.UNKNOWN_ERROR: "An unexpected error occurred.",
    ErrorCode.AUTHENTICATION_INVALID: "The API key is missing or invalid.",
    ErrorCode.TASK_TIMED_OUT: "The task did not finish before its deadline.",
    ErrorCode.INTEGRATION_PERMISSION_MISSING: "The integration lacks a permission in the remote system.",
    ErrorCode.INTEGRATION_AUTHENTICATION_INVALID: "The remote system rejected the integration's credentials.",
    ErrorCode.INTEGRATION_SETUP_SYNC_PENDING: "The integration's first sync has not finished yet.",
    ErrorCode.INTEGRATION_INACTIVE: "The integration is inactive.",
    ErrorCode.INTEGRATION_MODEL_NOT_AVAILABLE: "This data model isn't supported for the selected integration.",  # noqa: E501 (Kombo's title)
    ErrorCode.INTEGRATION_ACTION_NOT_AVAILABLE: "This action isn't supported for the selected integration.",
    ErrorCode.REMOTE_SERVICE_UNAVAILABLE: "The remote system is unavailable.",
    ErrorCode.REMOTE_RATE_LIMIT_EXCEEDED: "The remote system's rate limit was exceeded.",
    ErrorCode.REMOTE_INPUT_INVALID: "The remote system rejected the input.",
    ErrorCode.REMOTE_UNKNOWN_HTTP_ERROR: "The remote system returned an unexpected error.",
    ErrorCode.COURSE_UPDATE_NOT_SUPPORTED: "The remote system cannot update an existing course.",
}


def title_of(code: str | None) -> str | None:
    if code is None:
        return None
    try:
        return TITLES[ErrorCode(code)]
    except ValueError:
        return None


class Intent(StrEnum):
    """What trying again can do about a failure; job kinds' retry policies read it (jobs/retry.py).
    An error class says it with an `intent` class attribute; without one, the intent is unknown."""

    TRANSIENT = "transient"  # it may pass by itself: try again later
    CONFIGURATION = "configuration"  # a person must change something first: fail now


def intent_of(error: BaseException) -> Intent | None:
    intent = getattr(error, "intent", None)
    return intent if isinstance(intent, Intent) else None


class LmsBridgeError(Exception):
    """A failure with a contract code, a static title and an HTTP status."""

    code: ErrorCode | None = ErrorCode.UNKNOWN_ERROR
    status_code: int = 500
    title: str | None = None
    intent: Intent | None = None

    def __init__(self, message: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.headers = headers or {}

    @property
    def display_title(self) -> str | None:
        return self.title or title_of(self.code)


class InputInvalidError(LmsBridgeError):
    code = ErrorCode.INPUT_INVALID
    status_code = 400


class IdempotencyConflictError(InputInvalidError):
    status_code = 409


class PayloadTooLargeError(InputInvalidError):
    status_code = 413


class AuthenticationInvalidError(LmsBridgeError):
    code = ErrorCode.AUTHENTICATION_INVALID
    status_code = 401


class IntegrationNotFoundError(LmsBridgeError):
    code = ErrorCode.INTEGRATION_NOT_FOUND
    status_code = 404


class NotFoundError(LmsBridgeError):
    # The contract's enum has no "not found"; the id the caller gave is its nearest: invalid input.
    code = ErrorCode.INPUT_INVALID
    status_code = 404
    title = "Not found."


def not_found(what: str, value: str, where: str = "in this integration") -> NotFoundError:
    """The one wording of a missing task, sync or record."""
    return NotFoundError(f"No {what} with id {value!r} {where}.")


class MethodNotAllowedError(LmsBridgeError):
    code = None
    status_code = 405
    title = "Method not allowed."


class ActionNotAvailableError(LmsBridgeError):
    code = ErrorCode.INTEGRATION_ACTION_NOT_AVAILABLE
    status_code = 400


class IntegrationInactiveError(LmsBridgeError):
    code = ErrorCode.INTEGRATION_INACTIVE
    status_code = 403


def require_active(status: str, integration_id: str) -> None:
    """Writes, syncs and passthrough of a paused integration answer INTEGRATION.INACTIVE."""
    if status == "INACTIVE":
        raise IntegrationInactiveError(
            f"The integration {integration_id} is paused (INACTIVE). Resume it with `lmsbridge integrations "
            f'activate {integration_id}` or PUT /v1/integrations/{integration_id}/enabled {{"value": true}}.'
        )


class StoreUnavailableError(LmsBridgeError):
    code = ErrorCode.UNKNOWN_ERROR
    status_code = 503
    title = "The service is temporarily unavailable."
    intent = Intent.TRANSIENT

    def __init__(self, message: str = "The store is unreachable; try again shortly.") -> None:
        super().__init__(message)


class StoreTooOldError(LmsBridgeError):
    """A store from before lmsbridge 0.1.0's last migration, which the baseline cannot take over."""

    code = ErrorCode.UNKNOWN_ERROR
    status_code = 500
    intent = Intent.CONFIGURATION


class UnknownError(LmsBridgeError):
    code = ErrorCode.UNKNOWN_ERROR
    status_code = 500


class ModelNotAvailableError(LmsBridgeError):
    code = ErrorCode.INTEGRATION_MODEL_NOT_AVAILABLE
    status_code = 400


class ConcurrencyLimitError(LmsBridgeError):
    code = ErrorCode.CONCURRENCY_LIMIT_EXCEEDED
    status_code = 429


# HTTP statuses of remote failures met in a direct action.
REMOTE_STATUS: dict[str, int] = {
    ErrorCode.REMOTE_INPUT_INVALID: 400,
    ErrorCode.REMOTE_RATE_LIMIT_EXCEEDED: 429,
    ErrorCode.REMOTE_SERVICE_UNAVAILABLE: 503,
    ErrorCode.REMOTE_UNKNOWN_HTTP_ERROR: 502,
    ErrorCode.INTEGRATION_AUTHENTICATION_INVALID: 403,
    ErrorCode.INTEGRATION_PERMISSION_MISSING: 403,
    ErrorCode.INTEGRATION_INACTIVE: 403,
}


class PreflightFailedError(LmsBridgeError):
    """The remote refused an integration's new settings or credentials; nothing was saved."""

    status_code = 400

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code


class RemoteActionError(LmsBridgeError):
    """A direct action the remote system refused or failed."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.status_code = REMOTE_STATUS.get(code, 502)
