"""Request bodies parsed by pydantic's JSON parser (jiter, in Rust) instead of the json module:
a 10,000-item bulk body parses several times faster. What it refuses goes to the json module, so
a body that is not JSON fails exactly as before (FastAPI's `json_invalid` error, same message),
and anything the json module accepts is still accepted."""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute
from pydantic_core import from_json


class _FastJsonRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            body = await self.body()
            try:
                self._json = from_json(body)
            except ValueError:
                self._json = json.loads(body)  # its error, or what only it accepts
        return self._json


class FastJsonRoute(APIRoute):
    """A route whose JSON body FastAPI reads through `_FastJsonRequest`."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def handler(request: Request) -> Response:
            return await handle(_FastJsonRequest(request.scope, request.receive))

        return handler
