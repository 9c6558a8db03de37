"""Fast JSON responses: bodies are built as plain data and encoded once with orjson."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi.responses import Response

from lmsbridge.schemas.common import ErrorResponse

ERRORS: dict[int | str, dict[str, Any]] = {"default": {"model": ErrorResponse, "description": "Error"}}


def success(
    data: Any, *, warnings: list[dict[str, str]] | None = None, headers: dict[str, str] | None = None
) -> Response:
    body: dict[str, Any] = {"status": "success", "data": data}
    if warnings is not None:
        body["warnings"] = warnings
    return Response(orjson.dumps(body), media_type="application/json", headers=headers)
