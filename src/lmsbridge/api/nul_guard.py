"""Refuses a NUL character anywhere in a /v1 request (path, query or body) with 400
PLATFORM.INPUT_INVALID. No valid id, filter or field holds one, and PostgreSQL cannot store one in
a text column: let through, it would surface as a 500."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lmsbridge.api.errors import scope_log_url, send_error
from lmsbridge.errors import InputInvalidError

_NUL_MARKS = (b"\x00", b"\\u0000")  # raw, or escaped inside JSON strings


def _has_nul(raw: bytes) -> bool:
    return any(mark in raw for mark in _NUL_MARKS) or b"%00" in raw.lower()


class NulGuard:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/v1"):
            await self.app(scope, receive, send)
            return
        if "\x00" in scope["path"] or _has_nul(scope.get("query_string", b"")):
            await self._refuse(scope, send, "the URL")
            return
        if scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        # The body is read whole (the framework reads it whole anyway) and replayed to the app.
        messages: list[Message] = []
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request" or not message.get("more_body", False):
                break
        body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.request")
        if any(mark in body for mark in _NUL_MARKS):
            await self._refuse(scope, send, "the request body")
            return

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, send: Send, where: str) -> None:
        await send_error(
            send,
            InputInvalidError(f"{where} contains a NUL character, which no field accepts."),
            scope_log_url(scope),
        )
