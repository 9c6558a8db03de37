"""ASGI middleware around the whole API: gives each call an interaction id (for log_url),
enforces the request body limit, turns any unexpected exception into a 500 envelope without a
stack trace, and records the call with secrets redacted."""

from __future__ import annotations

import logging
import time
from typing import Any

import anyio
import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lmsbridge.clock import utc_now
from lmsbridge.errors import LmsBridgeError, PayloadTooLargeError, StoreUnavailableError, UnknownError
from lmsbridge.ids import new_id
from lmsbridge.logs.repository import InteractionWriter

log = logging.getLogger("lmsbridge.api")

REDACTED_HEADERS = {"authorization", "cookie", "proxy-authorization", "x-api-key"}


def redact_headers(headers: list[tuple[bytes, bytes]]) -> dict[str, str]:
    shown = {}
    for raw_name, raw_value in headers:
        name = raw_name.decode("latin-1").lower()
        value = raw_value.decode("latin-1")
        if name in REDACTED_HEADERS:
            scheme = value.split(" ", 1)[0] if " " in value else ""
            value = f"{scheme} [redacted]".strip()
        shown[name] = value
    return shown


def public_url(scope: Scope, configured: str | None) -> str:
    if configured:
        return configured.rstrip("/")
    headers = dict(scope.get("headers") or [])
    host = headers.get(b"host", b"").decode("latin-1")
    if not host:
        server = scope.get("server") or ("localhost", 80)
        host = f"{server[0]}:{server[1]}"
    return f"{scope.get('scheme', 'http')}://{host}"


def error_body(error: LmsBridgeError, log_url: str | None) -> bytes:
    return orjson.dumps(
        {
            "status": "error",
            "error": {
                "code": error.code.value if error.code else None,
                "title": error.display_title,
                "message": error.message,
                "log_url": log_url,
            },
        }
    )


class InteractionRecorder:
    def __init__(
        self,
        app: ASGIApp,
        *,
        writer: InteractionWriter,
        max_body_bytes: int,
        log_body_bytes: int,
        configured_public_url: str | None,
    ) -> None:
        self.app = app
        self.writer = writer
        self.max_body_bytes = max_body_bytes
        self.log_body_bytes = log_body_bytes
        self.configured_public_url = configured_public_url

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/v1"):
            await self.app(scope, receive, send)
            return
        interaction_id = new_id()
        base = public_url(scope, self.configured_public_url)
        state = scope.setdefault("state", {})
        state["interaction_id"] = interaction_id
        state["public_url"] = base
        log_url = f"{base}/logs/{interaction_id}"
        started = time.perf_counter()
        request_body = bytearray()
        response_body = bytearray()
        status = {"code": 0, "started": False}
        held: list[Message] = []

        async def finish_with(error: LmsBridgeError) -> None:
            await self._send_error(send, error, log_url, status, response_body)
            await self._store_now(
                self._row(scope, interaction_id, started, request_body, response_body, status["code"])
            )

        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            await finish_with(self._too_large())
            return

        received = 0
        overflow = False

        async def receive_counted() -> Message:
            nonlocal received, overflow
            message = await receive()
            if message["type"] == "http.request":
                chunk = message.get("body", b"")
                received += len(chunk)
                if received > self.max_body_bytes:
                    # The framework turns any error here into its own 400; we answer 413 instead.
                    overflow = True
                    raise _BodyTooLarge
                if len(request_body) < self.log_body_bytes:
                    request_body.extend(chunk[: self.log_body_bytes - len(request_body)])
            return message

        async def send_recorded(message: Message) -> None:
            if overflow:
                return
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                status["started"] = True
            elif message["type"] == "http.response.body":
                if len(response_body) < self.log_body_bytes:
                    response_body.extend(message.get("body", b"")[: self.log_body_bytes - len(response_body)])
                if status["code"] >= 400:
                    # Hold an error response until its interaction is stored (see repository.py).
                    held.append(message)
                    if message.get("more_body", False):
                        return
                    await self._store_now(
                        self._row(scope, interaction_id, started, request_body, response_body, status["code"])
                    )
                    for part in held:
                        await send(part)
                    return
            elif status["code"] >= 400:
                held.append(message)
                return
            await send(message)

        try:
            await self.app(scope, receive_counted, send_recorded)
        except _BodyTooLarge:
            pass
        except Exception as error:
            if isinstance(error, StoreUnavailableError):
                failure: LmsBridgeError = error
            else:
                log.exception(
                    "unexpected error in %s %s (interaction %s)",
                    scope["method"],
                    scope["path"],
                    interaction_id,
                )
                failure = UnknownError(
                    f"An unexpected error occurred. Share interaction {interaction_id} with the operator."
                )
            if not status["started"]:
                await finish_with(failure)
            return
        if overflow:
            await finish_with(self._too_large())
        elif status["code"] < 400:
            self.writer.write_later(
                self._row(scope, interaction_id, started, request_body, response_body, status["code"])
            )

    async def _store_now(self, row: dict[str, Any]) -> None:
        await anyio.to_thread.run_sync(self.writer.write_now, row)

    def _too_large(self) -> PayloadTooLargeError:
        return PayloadTooLargeError(
            f"The request body is larger than {self.max_body_bytes} bytes "
            "(LMSBRIDGE_MAX_BODY_BYTES); split the items into several requests."
        )

    async def _send_error(
        self,
        send: Send,
        error: LmsBridgeError,
        log_url: str,
        status: dict[str, Any],
        response_body: bytearray,
    ) -> None:
        body = error_body(error, log_url)
        status["code"] = error.status_code
        status["started"] = True
        response_body.extend(body[: self.log_body_bytes])
        await send(
            {
                "type": "http.response.start",
                "status": error.status_code,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

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
        row = {
            "id": interaction_id,
            "environment_id": state.get("environment_id"),
            "integration_id": state.get("integration_id"),
            "method": scope["method"],
            "path": scope["path"],
            "query": scope.get("query_string", b"").decode("latin-1"),
            "status_code": status_code,
            "duration_ms": int((time.perf_counter() - started) * 1000),
            "request_headers": redact_headers(scope["headers"]),
            "request_body": bytes(request_body).decode("utf-8", "replace") or None,
            "response_body": bytes(response_body).decode("utf-8", "replace") or None,
            "error_code": _error_code(response_body) if status_code >= 400 else None,
            "created_at": utc_now(),
        }
        return row


class _BodyTooLarge(Exception):
    pass


def _error_code(body: bytearray) -> str | None:
    try:
        code = orjson.loads(bytes(body))["error"]["code"]
    except Exception:
        return None
    return code if isinstance(code, str) else None
