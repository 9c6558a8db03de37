"""Envelopes shared by every endpoint."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator


def _whole(value: Any) -> Any:
    # JSON Schema counts 93.0 as an integer; clients that write numbers as floats send it.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


WholeNumber = Annotated[int, BeforeValidator(_whole)]


class Warning_(BaseModel):
    message: str


class ErrorBody(BaseModel):
    code: str | None
    title: str | None
    message: str
    log_url: str | None


class ErrorResponse(BaseModel):
    status: Literal["error"] = "error"
    error: ErrorBody
