"""ASGI middleware around the whole API: gives each call an interaction id (for log_url),
enforces the request body limit, turns any unexpected exception into a 500 envelope without a
stack trace, and records the call with secrets redacted."""

from __future__ import annotations

import logging
import re
import time
from typing import Any
from urllib.parse import parse_qsl, urlencode

import anyio
import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lmsbridge.clock import utc_now
from lmsbridge.errors import LmsBridgeError, PayloadTooLargeError, StoreUnavailableError, UnknownError
from lmsbridge.ids import new_id
from lmsbridge.logs.repository import InteractionWriter

log = logging.getLogger("lmsbridge.api")

REDACTED = "[redacted]"
REDACTED_HEADERS = {"authorization", "cookie", "set-cookie", "proxy-authorization", "x-api-key"}
# Names of headers, query parameters and body fields whose values are secrets, wherever they appear
# (a client may send its key as ?api_key=, or a password in a field the endpoint ignores).
SECRET_NAME = re.compile(
    r"passw(or)?d|passphrase|secret|token|api[-_]?key|private[-_]?key|credential|authori[sz]ation",
    re.IGNORECASE,
)
# `"name": "value"` in JSON the recorder could not parse (cut at log_body_bytes), and name=value.
_SECRET_JSON_MEMBER = re.compile(
    r'("(?:[^"\\]|\\.)*(?:' + SECRET_NAME.pattern + r')(?:[^"\\]|\\.)*"\s*:\s*)'
    r'("(?:[^"\\]|\\.)*"?|[^,}\]\s]+)',
    re.IGNORECASE,
)
# SECRET_NAME.search on ASCII text (nearly every body), about ten times faster on a 64 KiB body:
# among ASCII characters a letter matches only itself and its other case, and the pattern is in
# lower case, so a case-sensitive search of the lowered text finds the same.
_SECRET_NAME_LOWER = re.compile(SECRET_NAME.pattern)
_SECRET_FORM_PAIR = re.compile(
    r"((?:^|[&?\s])[^=&\s]*(?:" + SECRET_NAME.pattern + r")[^=&\s]*=)[^&\s]*", re.I
)


def redact_headers(headers: list[tuple[bytes, bytes]]) -> dict[str, str]:
    shown = {}
    for raw_name, raw_value in headers:
        name = raw_name.decode("latin-1").lower()
        value = raw_value.decode("latin-1")
        if name in REDACTED_HEADERS or SECRET_NAME.search(name):
            scheme = value.split(" ", 1)[0] if " " in value else ""
            value = f"{scheme} {REDACTED}".strip()
        shown[name] = value
    return shown


def redact_query(query: str) -> str:
    if not query or not SECRET_NAME.search(query):
        return query
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        return _SECRET_FORM_PAIR.sub(rf"\1{REDACTED}", query)
    return urlencode([(k, REDACTED if SECRET_NAME.search(k) else v) for k, v in pairs], safe="[],:")


def _redact_value(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: REDACTED if SECRET_NAME.search(str(k)) else _redact_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact_value(v) for v in value]
    return value


def _names_a_secret(text: str) -> bool:
    if text.isascii():
        return _SECRET_NAME_LOWER.search(text.lower()) is not None
    return SECRET_NAME.search(text) is not None


def redact_body(body: str | None) -> str | None:
    """The body with the values of secret-named fields blanked: JSON members at any depth, or
    form pairs. Bodies without such a name (nearly all) are returned as they are, unparsed."""
    if not body or not _names_a_secret(body):
        return body
    try:
        return orjson.dumps(_redact_value(orjson.loads(body))).decode()
    except orjson.JSONDecodeError:
        body = _SECRET_JSON_MEMBER.sub(r'\1"' + REDACTED + '"', body)
        return _SECRET_FORM_PAIR.sub(rf"\1{REDACTED}", body)


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
            # Stored before it is sent, like every error response: the client may open its
            # log_url the moment it has the answer.
            body = error_body(error, log_url)
            status["code"] = error.status_code
            status["started"] = True
            response_body.extend(body[: self.log_body_bytes])
            await self._store_now(
                self._row(scope, interaction_id, started, request_body, response_body, status["code"])
            )
            await self._send_error(send, error.status_code, body)

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

    async def _send_error(self, send: Send, status_code: int, body: bytes) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": status_code,
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
        return row


def _storable(text: str | None) -> str | None:
    """PostgreSQL text refuses NUL characters: a call that carried one is recorded all the same."""
    return text.replace("\x00", "\ufffd") if text and "\x00" in text else text


class _BodyTooLarge(Exception):
    pass


def _error_code(body: bytearray) -> str | None:
    try:
        code = orjson.loads(bytes(body))["error"]["code"]
    except Exception:
        return None
    return code if isinstance(code, str) else None
