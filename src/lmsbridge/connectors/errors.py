"""Remote failures, ordered by what the caller should do about them.

ConnectorError         a remote failure of no better kind (an unexpected HTTP error): transient
├── IntegrationError   the whole operation cannot run (credentials, permissions): fail the task;
│                      its intent is configuration, so a job that lets it escape fails at once
└── ItemError          this one item failed; the others go on
"""

from __future__ import annotations

from lmsbridge.errors import ErrorCode, Intent


class ConnectorError(Exception):
    code: ErrorCode = ErrorCode.REMOTE_UNKNOWN_HTTP_ERROR
    intent: Intent = Intent.TRANSIENT

    def __init__(self, message: str, *, code: ErrorCode | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class IntegrationError(ConnectorError):
    """Nothing can run for this integration until a person fixes something."""

    intent = Intent.CONFIGURATION


class AuthenticationInvalidError(IntegrationError):
    code = ErrorCode.INTEGRATION_AUTHENTICATION_INVALID


class PermissionMissingError(IntegrationError):
    code = ErrorCode.INTEGRATION_PERMISSION_MISSING


class ItemError(ConnectorError):
    """The remote system refused or failed this item."""
