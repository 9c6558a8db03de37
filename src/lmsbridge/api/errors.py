"""Renders every failure in the contract's error envelope, in one place: for the framework's
exception handlers and for the ASGI middlewares that answer before or around it."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.routing import iter_route_contexts
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path
from starlette.types import Scope, Send

from lmsbridge.errors import (
    InputInvalidError,
    LmsBridgeError,
    MethodNotAllowedError,
    NotFoundError,
)


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


def scope_log_url(scope: Scope) -> str | None:
    """The page of the call's interaction, once the recorder has given it an id."""
    state = scope.get("state", {})
    if "interaction_id" not in state:
        return None
    return f"{state['public_url']}/logs/{state['interaction_id']}"


async def send_error(
    send: Send, error: LmsBridgeError, log_url: str | None, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    """Answer an ASGI call with the error's envelope (for middlewares, which run outside the
    framework's exception handlers)."""
    body = error_body(error, log_url)
    await send(
        {
            "type": "http.response.start",
            "status": error.status_code,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def render(request: Request, error: LmsBridgeError) -> Response:
    return render_scope(request.scope, error)


def render_scope(scope: Scope, error: LmsBridgeError) -> Response:
    """The response `render` gives, for a call handled outside the framework's routing."""
    return Response(
        error_body(error, scope_log_url(scope)),
        status_code=error.status_code,
        media_type="application/json",
        headers=error.headers,
    )


def _location(loc: tuple[Any, ...]) -> str:
    parts = list(loc[1:] if loc and loc[0] in ("body", "query", "path", "header") else loc)
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "body"


def describe_validation(error: RequestValidationError, limit: int = 20) -> str:
    problems = []
    for entry in error.errors():
        if entry.get("type") == "json_invalid":
            return "The request body is not valid JSON: " + str(entry.get("ctx", {}).get("error", "")).strip()
        message = str(entry.get("msg", "invalid"))
        message = message.removeprefix("Value error, ")
        problems.append(f"{_location(tuple(entry.get('loc', ())))}: {message}")
    more = f" (and {len(problems) - limit} more)" if len(problems) > limit else ""
    return "Invalid request: " + "; ".join(problems[:limit]) + more + "."


def allowed_methods(request: Request) -> str:
    """Every method some route answers on this path (Starlette's own 405 names only the first
    route's), with HEAD wherever GET is."""
    methods: set[str] = set()
    path = request.scope["path"]
    for route in iter_route_contexts(request.app.routes):
        if route.path and route.methods and compile_path(route.path)[0].match(path):
            methods |= set(route.methods)
    if "GET" in methods:
        methods.add("HEAD")
    return ", ".join(sorted(methods))


def install(app: FastAPI) -> None:
    @app.exception_handler(LmsBridgeError)
    async def _known(request: Request, error: LmsBridgeError) -> Response:
        return render(request, error)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, error: RequestValidationError) -> Response:
        return render(request, InputInvalidError(describe_validation(error)))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> Response:
        if error.status_code == 404:
            failure: LmsBridgeError = NotFoundError(f"No route {request.method} {request.url.path}.")
        elif error.status_code == 405:
            allowed = allowed_methods(request)
            failure = MethodNotAllowedError(
                f"{request.method} is not allowed on {request.url.path}; allowed: {allowed}.",
                headers={"Allow": allowed},
            )
        elif error.status_code == 400:
            failure = InputInvalidError(f"The request body could not be read: {error.detail}.")
        else:
            failure = LmsBridgeError(str(error.detail))
            failure.status_code = error.status_code
            failure.code = None
        return render(request, failure)
