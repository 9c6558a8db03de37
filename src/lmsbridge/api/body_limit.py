"""Enforces the request body limit (LMSBRIDGE_MAX_BODY_BYTES): a declared Content-Length over it
is refused before anything is read, and a streamed body is cut off as soon as it passes it; both
answer 413 in the error envelope."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lmsbridge.api.errors import scope_log_url, send_error
from lmsbridge.errors import PayloadTooLargeError


class _BodyTooLarge(Exception):
    pass


class BodyLimit:
    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    def _too_large(self) -> PayloadTooLargeError:
        return PayloadTooLargeError(
            f"The request body is larger than {self.max_body_bytes} bytes "
            "(LMSBRIDGE_MAX_BODY_BYTES); split the items into several requests."
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = chunked = None
        for name, value in scope["headers"]:
            if name == b"content-length" and declared is None:
                declared = value
            elif name == b"transfer-encoding":
                chunked = value
        if declared is not None and declared.isdigit():
            if int(declared) > self.max_body_bytes:
                await send_error(send, self._too_large(), scope_log_url(scope))
                return
            if chunked is None:
                # The server reads exactly the declared length: nothing more can arrive.
                await self.app(scope, receive, send)
                return
        elif declared is None and chunked is None:
            # HTTP/1.1: without Content-Length or Transfer-Encoding a request has no body (a poll).
            await self.app(scope, receive, send)
            return
        received = 0
        overflow = False

        async def receive_counted() -> Message:
            nonlocal received, overflow
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    # The framework turns any error here into its own 400; we answer 413 instead.
                    overflow = True
                    raise _BodyTooLarge
            return message

        async def send_unless_overflowed(message: Message) -> None:
            if not overflow:
                await send(message)

        try:
            await self.app(scope, receive_counted, send_unless_overflowed)
        except _BodyTooLarge:
            pass
        if overflow:
            await send_error(send, self._too_large(), scope_log_url(scope))
