"""Helpers of the client and CLI tests: a tenant whose first sync has finished, and an ASGI
wrapper that injects faults in front of the real app."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import orjson

from lmsbridge.client import Client
from lmsbridge.jobs import wake_workers
from tests.conftest import Server, Tenant, make_tenant
from tests.waiting import wait_until

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


def synced(server: Server, timeout: float = 120.0, **settings: Any) -> Tenant:
    """A Sandbox tenant whose first sync has completed (reads answer 409 before)."""
    tenant = make_tenant(server, **settings)
    wake_workers()
    with Client(server.url, tenant.key, tenant.integration) as client:
        wait_until(
            lambda: client.integrations.get().setup_status == "COMPLETED",
            timeout=timeout,
            message="the first sync did not finish",
        )
    return tenant


def course(origin_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "origin_id": origin_id,
        "course": {
            "type": "EXTERNAL",
            "title": f"Course {origin_id}",
            "course_url": f"https://content.example.com/courses/{origin_id}",
            **extra,
        },
    }


class FaultInjector:
    """Fault injection in front of the real app (not a fake server): the next requests under
    `prefix` are answered with the statuses queued in `faults`, one each, and every request after
    them goes to the real app untouched. With `forward=True` a faulted request first reaches the
    real app and only its answer is replaced, as when a response is lost on the way back. Every
    request's headers are recorded in `seen`."""

    def __init__(
        self,
        app: Any,
        faults: list[int],
        *,
        retry_after: str | None = None,
        forward: bool = False,
        prefix: str = "/v1",
    ) -> None:
        self.app = app
        self.faults = list(faults)
        self.retry_after = retry_after
        self.forward = forward
        self.prefix = prefix
        self.seen: list[dict[str, str]] = []
        self.injected = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            # The real app is already running (the session's server): do not start or stop it twice.
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http" or not scope["path"].startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        self.seen.append({k.decode().lower(): v.decode() for k, v in scope["headers"]})
        if not self.faults:
            await self.app(scope, receive, send)
            return
        status = self.faults.pop(0)
        self.injected += 1
        if self.forward:

            async def discard(_: Message) -> None:
                return None

            await self.app(scope, receive, discard)
        codes = {429: "PLATFORM.RATE_LIMIT_EXCEEDED", 503: "PLATFORM.UNKNOWN_ERROR"}
        body = orjson.dumps(
            {
                "status": "error",
                "error": {
                    "code": codes.get(status, "PLATFORM.UNKNOWN_ERROR"),
                    "title": "Injected fault.",
                    "message": f"injected {status}",
                    "log_url": None,
                },
            }
        )
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        if self.retry_after is not None:
            headers.append((b"retry-after", self.retry_after.encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
