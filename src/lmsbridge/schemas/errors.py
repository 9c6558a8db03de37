"""The error object of the contract's error envelope (`{"status": "error", "error": ...}`), also
carried by a failed task and a failed task item. A pydantic-free dataclass, as schemas/records.py
explains: the server's response models name it, the client returns it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class ErrorBody:
    code: str | None
    title: str | None
    message: str
    log_url: str | None
