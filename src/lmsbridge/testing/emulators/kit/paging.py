"""Slicing rows as vendors page them: offset/limit, page number, opaque cursors, next links in
the body and RFC 8288 Link headers. `repeat_page` makes a remote answer its first page forever
(a bug some remotes have), so a connector's loop detection can be proved."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import TypeVar
from urllib.parse import urlencode

T = TypeVar("T")


def offset_slice(rows: Sequence[T], offset: int, limit: int) -> list[T]:
    return list(rows[max(0, offset) : max(0, offset) + max(0, limit)])


def page_slice(rows: Sequence[T], page: int, size: int, *, first: int = 1) -> list[T]:
    start = (page - first) * size
    return offset_slice(rows, start, size)


def total_pages(count: int, size: int) -> int:
    return max(1, -(-count // size))


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    padded = cursor + "=" * (-len(cursor) % 4)
    text = base64.urlsafe_b64decode(padded).decode()
    if not text.startswith("o:"):
        raise ValueError("not a cursor this remote issued")
    return int(text[2:])


def next_url(base: str, params: dict[str, object]) -> str:
    return f"{base}?{urlencode({k: str(v) for k, v in params.items()})}"


def link_header(base: str, params: dict[str, object]) -> str:
    return f'<{next_url(base, params)}>; rel="next"'
