"""The remote HTTP toolkit connectors are built from: the client (retries, pacing, redaction),
authentication flows, paginators, the resolution of answers to intents, and the settings every
HTTP connector shares. The transport stays injectable (`ConnectorContext.transport`)."""

from __future__ import annotations

from lmsbridge.connectors.http.client import (
    REDACTED,
    RETRYABLE_STATUS,
    Exchange,
    Redactor,
    RemoteHttpClient,
    RetryPolicy,
    retry_after_seconds,
    tally_remote_calls,
)

__all__ = [
    "REDACTED",
    "RETRYABLE_STATUS",
    "Exchange",
    "Redactor",
    "RemoteHttpClient",
    "RetryPolicy",
    "retry_after_seconds",
    "tally_remote_calls",
]
