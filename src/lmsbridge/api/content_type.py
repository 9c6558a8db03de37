"""Reads request bodies under /v1 as JSON when the client sent no content type, or curl's
default form type: the API only takes JSON, and a wrong header should not turn a valid body into
a confusing validation error."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

_FORM = b"application/x-www-form-urlencoded"


class JsonByDefault:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["path"].startswith("/v1")
            and scope["method"] in ("POST", "PUT", "PATCH")
        ):
            headers = [(k, v) for k, v in scope["headers"] if k != b"content-type"]
            content_type = dict(scope["headers"]).get(b"content-type")
            if content_type is None or content_type.startswith(_FORM):
                scope = dict(scope, headers=[*headers, (b"content-type", b"application/json")])
        await self.app(scope, receive, send)
