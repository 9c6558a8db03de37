"""Reads request bodies under /v1 as JSON whatever content type the client sent (none, curl's
default form type, text/plain...): the API only takes JSON, and a wrong header should not turn a
valid body into a confusing validation error. Multipart bodies are left alone (the API takes none,
and they are no JSON to read)."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

_JSON = b"application/json"


class JsonByDefault:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["path"].startswith("/v1")
            and scope["method"] in ("POST", "PUT", "PATCH", "DELETE")
        ):
            content_type = dict(scope["headers"]).get(b"content-type", b"").lower()
            if b"json" not in content_type and not content_type.startswith(b"multipart/"):
                headers = [(k, v) for k, v in scope["headers"] if k != b"content-type"]
                scope = dict(scope, headers=[*headers, (b"content-type", _JSON)])
        await self.app(scope, receive, send)
