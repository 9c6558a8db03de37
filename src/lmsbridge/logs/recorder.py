"""ASGI middleware that records every /v1 call in the interaction log: it gives the call an
interaction id (for log_url), and stores the call with secrets redacted. A successful call is
stored in the background; an error answer is held until its interaction is stored, so the
log_url it carries already leads to its page when the client reads it."""

from __future__ import annotations

import time
from typing import Any

import anyio
import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lmsbridge.clock import utc_now
from lmsbridge.ids import new_id
from lmsbridge.logs.redaction import redact_body, redact_headers, redact_query
from lmsbridge.logs.repository import InteractionWriter


def public_url(scope: Scope, configured: str | None) -> str:
    if configured:
        return configured.rstrip("/")
    headers = dict(scope.get("headers") or [])
    host = headers.get(b"host", b"").decode("latin-1")
    if not host:
        server = scope.get("server") or ("localhost", 80)
        host = f"{server[0]}:{server[1]}"
    return f"{scope.get('scheme', 'http')}://{host}"


class InteractionRecorder:
    def __init__(
        self,
        app: ASGIApp,
        *,
        writer: InteractionWriter,
        log_body_bytes: int,
        configured_public_url: str | None,
    ) -> None:
        self.app = app
        self.writer = writer
        self.log_body_bytes = log_body_bytes
        self.configured_public_url = configured_public_url

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/v1"):
            await self.app(scope, receive, send)
            return
        interaction_id = new_id()
        state = scope.setdefault("state", {})
        state["interaction_id"] = interaction_id
        state["public_url"] = public_url(scope, self.configured_public_url)
        started = time.perf_counter()
        request_body = bytearray()
        response_body = bytearray()
        status_code = 0
        held: list[Message] = []

        def row() -> dict[str, Any]:
            return self._row(scope, interaction_id, started, request_body, response_body, status_code)

        async def receive_recorded() -> Message:
            message = await receive()
            if message["type"] == "http.request" and len(request_body) < self.log_body_bytes:
                request_body.extend(message.get("body", b"")[: self.log_body_bytes - len(request_body)])
            return message

        async def send_recorded(message: Message) -> None:
            nonlocal status_code
            if message["type"] == "http.response.start":
                status_code = message["status"]
            elif message["type"] == "http.response.body" and len(response_body) < self.log_body_bytes:
                response_body.extend(message.get("body", b"")[: self.log_body_bytes - len(response_body)])
            if status_code < 400:
                await send(message)
                return
            held.append(message)
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                await anyio.to_thread.run_sync(self.writer.write_now, row())
                for part in held:
                    await send(part)

        await self.app(scope, receive_recorded, send_recorded)
        if status_code < 400:
            self.writer.write_later(row())

    def _row(
        self,
        scope: Scope,
        interaction_id: str,
        started: float,
        request_body: bytearray,
        response_body: bytearray,
        status_code: int,
    ) -> dict[str, Any]:
        state = scope.get("state", {})
        return {
            "id": interaction_id,
            "environment_id": state.get("environment_id"),
            "integration_id": state.get("integration_id"),
            "method": scope["method"],
            "path": _storable(scope["path"]),
            "query": _storable(redact_query(scope.get("query_string", b"").decode("latin-1"))),
            "status_code": status_code,
            "duration_ms": int((time.perf_counter() - started) * 1000),
            "request_headers": redact_headers(scope["headers"]),
            "request_body": _storable(redact_body(bytes(request_body).decode("utf-8", "replace") or None)),
            "response_body": _storable(redact_body(bytes(response_body).decode("utf-8", "replace") or None)),
            "error_code": _error_code(response_body) if status_code >= 400 else None,
            "created_at": utc_now(),
        }


def _storable(text: str | None) -> str | None:
    """PostgreSQL text refuses NUL characters: a call that carried one is recorded all the same."""
    return text.replace("\x00", "\ufffd") if text and "\x00" in text else text


def _error_code(body: bytearray) -> str | None:
    try:
        code = orjson.loads(bytes(body))["error"]["code"]
    except Exception:
        return None
    return code if isinstance(code, str) else None
