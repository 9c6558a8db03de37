"""Envelopes shared by every endpoint."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel


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
