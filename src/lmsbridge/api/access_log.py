"""The access log: one line per request with its method, path, status, duration and interaction
id (the id its `log_url` names). The path only: no query string, header or body reaches it, so
no secret does either."""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("lmsbridge.access")


class AccessLog:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 0

        async def send_watched(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_watched)
        finally:
            duration_ms = (time.perf_counter() - started) * 1000
            interaction_id = (scope.get("state") or {}).get("interaction_id")
            log.info(
                "%s %s %d %.1fms interaction=%s",
                scope["method"],
                scope["path"],
                status or 500,
                duration_ms,
                interaction_id or "-",
                extra={
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status or 500,
                    "duration_ms": round(duration_ms, 1),
                    "interaction_id": interaction_id,
                },
            )
