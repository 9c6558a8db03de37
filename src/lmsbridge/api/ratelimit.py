"""Per-API-key rate limiting (DESIGN.md section 5): a token bucket per key, refilled continuously,
that answers 429 PLATFORM.RATE_LIMIT_EXCEEDED with Retry-After once it is empty. Every limited
response, successful or not, carries `ratelimit-limit`, `ratelimit-remaining` and `ratelimit-reset`.

The buckets live in the API process: with several API processes each enforces its own limit, so a
key may make up to N times the limit across N processes. A store-backed bucket would cost a write
per request, more than the limit is meant to protect."""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lmsbridge.api.errors import send_error
from lmsbridge.errors import ErrorCode, LmsBridgeError

WINDOW_SECONDS = 60.0
# Beyond this many tracked keys, buckets that have refilled completely are forgotten: a full
# bucket is what a new key gets, so forgetting it changes nothing (random keys cannot grow memory).
PRUNE_ABOVE = 10_000


class RateLimitExceededError(LmsBridgeError):
    code = ErrorCode.RATE_LIMIT_EXCEEDED
    status_code = 429


@dataclass
class Bucket:
    tokens: float
    updated: float


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int  # until the bucket is full again
    retry_after: int  # until one request is allowed (0 when allowed now)

    def headers(self) -> list[tuple[bytes, bytes]]:
        return [
            (b"ratelimit-limit", str(self.limit).encode()),
            (b"ratelimit-remaining", str(self.remaining).encode()),
            (b"ratelimit-reset", str(self.reset_seconds).encode()),
        ]


class TokenBuckets:
    """`limit` requests per minute per key, in bursts of at most `limit`."""

    def __init__(self, limit: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.rate = limit / WINDOW_SECONDS  # tokens per second
        self.clock = clock
        self._buckets: dict[str, Bucket] = {}
        self._prune_at = PRUNE_ABOVE

    def take(self, key: str) -> Decision:
        # No await in here: on one event loop this read-modify-write cannot interleave.
        now = self.clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self._prune_at:
                self._prune(now)
                # When few could be forgotten, wait for as many again (pruning stays linear overall).
                self._prune_at = max(PRUNE_ABOVE, 2 * len(self._buckets))
            bucket = self._buckets[key] = Bucket(float(self.limit), now)
        else:
            bucket.tokens = min(float(self.limit), bucket.tokens + (now - bucket.updated) * self.rate)
            bucket.updated = now
        allowed = bucket.tokens >= 1.0
        if allowed:
            bucket.tokens -= 1.0
        return Decision(
            allowed=allowed,
            limit=self.limit,
            remaining=int(bucket.tokens),
            reset_seconds=math.ceil((self.limit - bucket.tokens) / self.rate),
            retry_after=0 if allowed else max(1, math.ceil((1.0 - bucket.tokens) / self.rate)),
        )

    def _prune(self, now: float) -> None:
        full = [
            key
            for key, bucket in self._buckets.items()
            if bucket.tokens + (now - bucket.updated) * self.rate >= self.limit
        ]
        for key in full:
            del self._buckets[key]


def bearer_key(scope: Scope) -> str | None:
    """The SHA-256 of the bearer token, so no key is kept in memory in the clear."""
    for name, value in scope.get("headers") or []:
        if name == b"authorization":
            scheme, _, token = value.partition(b" ")
            token = token.strip()
            if scheme.lower() != b"bearer" or not token:
                return None
            return hashlib.sha256(token).hexdigest()
    return None


class RateLimiter:
    """Pure ASGI middleware over /v1. Calls without a bearer token are not counted: they are
    refused as 401 before they touch the store."""

    def __init__(self, app: ASGIApp, *, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.app = app
        self.buckets = TokenBuckets(per_minute, clock) if per_minute > 0 else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.buckets is None or scope["type"] != "http" or not scope["path"].startswith("/v1"):
            await self.app(scope, receive, send)
            return
        key = bearer_key(scope)
        if key is None:
            await self.app(scope, receive, send)
            return
        decision = self.buckets.take(key)
        if not decision.allowed:
            await self._refuse(send, decision)
            return
        extra = decision.headers()

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)

    async def _refuse(self, send: Send, decision: Decision) -> None:
        # Answered before the interaction recorder, so a flood costs no store write (log_url null).
        error = RateLimitExceededError(
            f"More than {decision.limit} requests a minute with this API key; "
            f"retry after {decision.retry_after} s."
        )
        await send_error(
            send, error, None, [(b"retry-after", str(decision.retry_after).encode()), *decision.headers()]
        )
