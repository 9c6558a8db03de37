"""The one HTTP client every connector calls its remote system through: timeouts, bounded retries
with exponential backoff and jitter on 429, 5xx, timeouts and connection failures (honouring
Retry-After), and secrets kept out of every log line and error message.

It knows nothing of any remote API: a connector interprets the answers it returns. What it
raises after the last attempt is a `ConnectorError` with REMOTE.RATE_LIMIT_EXCEEDED (429) or
REMOTE.SERVICE_UNAVAILABLE (5xx, timeouts, connection failures)."""

from __future__ import annotations

import logging
import random
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx

from lmsbridge.connectors.errors import ConnectorError
from lmsbridge.errors import ErrorCode
from lmsbridge.outbound import AddressRefusedError, guarded_transport

if TYPE_CHECKING:
    from lmsbridge.connectors.pacing import Pace, Pacer

log = logging.getLogger("lmsbridge.connectors.http")  # the name predates the package

# Remote calls made by the current job (a sync counts them for its one INFO summary line).
_call_tally: ContextVar[list[int] | None] = ContextVar("remote_call_tally", default=None)


@contextmanager
def tally_remote_calls() -> Iterator[list[int]]:
    """Counts the remote calls (attempts) made in this thread until the block ends: `tally[0]`."""
    tally = [0]
    token = _call_tally.set(tally)
    try:
        yield tally
    finally:
        _call_tally.reset(token)


REDACTED = "[redacted]"


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try. `attempts` counts the first call; delays grow as base * 2^n, capped at
    `max_delay`, with up to `jitter` of each delay drawn at random so that many workers retrying
    at once spread out. A Retry-After longer than `max_retry_after` is not waited for."""

    attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 20.0
    jitter: float = 0.5
    max_retry_after: float = 60.0

    def backoff(self, retry: int) -> float:
        """The delay before retry number `retry` (1 for the first retry)."""
        delay = min(self.max_delay, self.base_delay * 2.0 ** (retry - 1))
        return delay * (1 - self.jitter) + random.uniform(0, delay * self.jitter)


@dataclass(frozen=True)
class Exchange:
    """One attempt, as the interaction log may record it: the URL has its secrets redacted."""

    method: str
    url: str
    attempt: int
    status: int | None
    elapsed_ms: int
    error: str | None = None


RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504, 507, 508, 509, 520, 521, 522, 523, 524})


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - (now or datetime.now(UTC))).total_seconds())


class Redactor:
    """Blanks secret values wherever they appear, and the values of secret query parameters."""

    def __init__(self, secrets: Iterable[str] = (), secret_params: Iterable[str] = ()) -> None:
        self.secrets = sorted({s for s in secrets if s}, key=len, reverse=True)
        self.secret_params = {p.lower() for p in secret_params}

    def text(self, value: str) -> str:
        for secret in self.secrets:
            value = value.replace(secret, REDACTED)
        for param in self.secret_params:
            value = re.sub(rf"(?i)({re.escape(param)}=)[^&\s\"']*", rf"\1{REDACTED}", value)
        return value

    def url(self, url: str | httpx.URL) -> str:
        parts = urlsplit(str(url))
        query = urlencode(
            [
                (k, REDACTED if k.lower() in self.secret_params else v)
                for k, v in parse_qsl(parts.query, keep_blank_values=True)
            ],
            safe="[]",
        )
        return self.text(urlunsplit(parts._replace(query=query)))


class RemoteHttpClient:
    """A synchronous client for one remote system. `service` names it in messages ("Moodle").

    With a `pacer` and a `pace_key` (the integration's id), every attempt first takes a slot from
    the integration's shared bucket, and a 429 pauses every caller of that integration for its
    Retry-After (instead of this caller's own backoff)."""

    def __init__(
        self,
        base_url: str,
        *,
        service: str,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        headers: Mapping[str, str] | None = None,
        secrets: Iterable[str] = (),
        secret_params: Iterable[str] = (),
        on_exchange: Callable[[Exchange], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
        pacer: Pacer | None = None,
        pace_key: str | None = None,
        pace: Pace | None = None,
        auth: httpx.Auth | None = None,
    ) -> None:
        self.service = service
        self.pacing = (pacer, pace_key, pace) if pacer and pace_key is not None and pace is not None else None
        self.retry = retry or RetryPolicy()
        self.redactor = Redactor(secrets, secret_params)
        self.on_exchange = on_exchange
        self.sleep = sleep
        self._client = httpx.Client(
            base_url=base_url,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            headers={"User-Agent": "lmsbridge", **(headers or {})},
            # The remote's address was typed by a user (site_url): every connection is checked.
            transport=transport if transport is not None else guarded_transport(),
            trust_env=transport is not None,
            auth=auth,
            follow_redirects=False,
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> RemoteHttpClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | list[tuple[str, Any]] | None = None,
        data: Mapping[str, Any] | list[tuple[str, Any]] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        content: bytes | None = None,
    ) -> httpx.Response:
        """The first answer that is neither retryable nor a transport failure. A 4xx other than
        429 is returned for the caller to interpret; retryable failures are retried, then raised.
        `content` is a raw body (a SOAP envelope, a passthrough request's) sent as it is."""
        form: Mapping[str, Any] | None = None
        if isinstance(data, Mapping):
            form = data
        elif data is not None:  # repeated or ordered keys: a form body encoded here
            content = urlencode([(k, str(v)) for k, v in data]).encode()
            headers = {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})}
        request = self._client.build_request(
            method, path, params=params, data=form, content=content, json=json, headers=headers
        )
        shown = self.redactor.url(request.url)
        attempts = max(1, self.retry.attempts)
        for attempt in range(1, attempts + 1):
            if self.pacing is not None:
                pacer, key, pace = self.pacing
                pacer.acquire(key, pace)
            started = time.monotonic()
            try:
                response = self._client.send(request)
                response.read()
            except httpx.TimeoutException as error:
                failure = self._failure(method, shown, attempt, started, error, "did not answer in time")
                if attempt == attempts:
                    raise failure from None
                self._pause(attempt, None, shown, failure.message)
                continue
            except httpx.TransportError as error:
                failure = self._failure(method, shown, attempt, started, error, "could not be reached")
                if attempt == attempts:
                    raise failure from None
                self._pause(attempt, None, shown, failure.message)
                continue
            except AddressRefusedError as refused:
                self._record(method, shown, attempt, started, None, refused.message)
                raise ConnectorError(
                    f"{self.service}: {refused.message}", code=ErrorCode.REMOTE_INPUT_INVALID
                ) from None
            except httpx.HTTPError as error:  # an answer that cannot be read (bad encoding, ...)
                failure = self._failure(method, shown, attempt, started, error, "answered unreadably")
                raise ConnectorError(failure.message, code=ErrorCode.REMOTE_UNKNOWN_HTTP_ERROR) from None
            self._record(method, shown, attempt, started, response.status_code, None)
            if response.status_code not in RETRYABLE_STATUS:
                return response
            wait = retry_after_seconds(response.headers.get("Retry-After"))
            give_up = attempt == attempts or (wait is not None and wait > self.retry.max_retry_after)
            if response.status_code == 429 and self.pacing is not None:
                # The pause is shared: every worker calling this integration waits it out.
                pacer, key, pace = self.pacing
                pacer.throttled(key, pace, wait)
                if give_up:
                    raise self._status_error(response.status_code, attempt, wait)
                continue
            if give_up:
                raise self._status_error(response.status_code, attempt, wait)
            self._pause(attempt, wait, shown, f"HTTP {response.status_code}")
        raise AssertionError("unreachable")  # pragma: no cover

    # -- helpers ------------------------------------------------------------------------------------
    def _pause(self, attempt: int, retry_after: float | None, shown: str, reason: str) -> None:
        delay = self.retry.backoff(attempt)
        if retry_after is not None:
            delay = max(delay, retry_after)
        log.warning(
            "%s: %s (%s); retry %d of %d in %.2fs",
            self.service,
            shown,
            reason,
            attempt,
            self.retry.attempts - 1,
            delay,
        )
        self.sleep(delay)

    def _record(
        self, method: str, url: str, attempt: int, started: float, status: int | None, error: str | None
    ) -> None:
        elapsed = int((time.monotonic() - started) * 1000)
        tally = _call_tally.get()
        if tally is not None:
            tally[0] += 1
        log.debug(
            "%s %s %s -> %s in %dms (attempt %d)",
            self.service,
            method,
            url,
            status or error,
            elapsed,
            attempt,
        )
        if self.on_exchange is not None:
            self.on_exchange(Exchange(method, url, attempt, status, elapsed, error))

    def _failure(
        self, method: str, shown: str, attempt: int, started: float, error: Exception, what: str
    ) -> ConnectorError:
        detail = self.redactor.text(f"{type(error).__name__}: {error}".rstrip(": "))
        self._record(method, shown, attempt, started, None, detail)
        return ConnectorError(
            f"{self.service} {what} after {attempt} attempt{'s' if attempt > 1 else ''} ({detail}).",
            code=ErrorCode.REMOTE_SERVICE_UNAVAILABLE,
        )

    def _status_error(self, status: int, attempt: int, retry_after: float | None) -> ConnectorError:
        tries = f"{attempt} attempt{'s' if attempt > 1 else ''}"
        if status == 429:
            later = f"; it asks to wait {retry_after:g}s" if retry_after is not None else ""
            return ConnectorError(
                f"{self.service} kept answering HTTP 429 (too many requests) after {tries}{later}.",
                code=ErrorCode.REMOTE_RATE_LIMIT_EXCEEDED,
            )
        return ConnectorError(
            f"{self.service} answered HTTP {status} after {tries}.",
            code=ErrorCode.REMOTE_SERVICE_UNAVAILABLE,
        )
