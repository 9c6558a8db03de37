"""The query of a list endpoint: page size, an opaque cursor bound to its filters, `updated_after`,
`include_deleted`, `ignore_unsupported_filters`, and the endpoint's own filters."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import datetime

import orjson

from lmsbridge.clock import parse_moment
from lmsbridge.errors import InputInvalidError

BOOLEAN = {"true": True, "false": False}
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 250


@dataclass(frozen=True)
class ListQuery:
    page_size: int
    after: str | None
    updated_after: datetime | None
    include_deleted: bool
    ignore_unsupported: bool
    filters: dict[str, tuple[str, ...]] = field(default_factory=dict)


def parse_bool(name: str, value: str | None) -> bool:
    if value is None:
        return False
    if value not in BOOLEAN:
        raise InputInvalidError(f"{name}: must be 'true' or 'false', not {value!r}.")
    return BOOLEAN[value]


def parse_page_size(value: str | None) -> int:
    if value is None:
        return DEFAULT_PAGE_SIZE
    # isascii: str.isdigit() also accepts digits such as '²' that int() refuses.
    if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= MAX_PAGE_SIZE:
        raise InputInvalidError(
            f"page_size: must be a whole number from 1 to {MAX_PAGE_SIZE}, not {value!r}."
        )
    return int(value)


def parse_updated_after(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_moment(value)
    except ValueError as error:
        raise InputInvalidError(f"updated_after: {error}.") from error


def split_list(value: str | None) -> tuple[str, ...]:
    if value is None:
        return ()
    return tuple(part.strip() for part in value.split(",") if part.strip())


class CursorCodec:
    """Cursors are `base64url(json).signature`: opaque to clients, refused when altered, and
    refused when sent with filters other than those of the request that produced them."""

    def __init__(self, key: bytes) -> None:
        self.key = key

    def _sign(self, payload: bytes) -> str:
        return base64.urlsafe_b64encode(hmac.new(self.key, payload, hashlib.sha256).digest()[:18]).decode()

    def encode(self, after: str, fingerprint: str) -> str:
        payload = orjson.dumps({"a": after, "f": fingerprint})
        return base64.urlsafe_b64encode(payload).decode().rstrip("=") + "." + self._sign(payload)

    def decode(self, cursor: str, fingerprint: str) -> str:
        body, _, signature = cursor.partition(".")
        try:
            payload = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        except (binascii.Error, ValueError) as error:
            raise InputInvalidError("cursor: not a cursor this API issued.") from error
        # As bytes: compare_digest refuses str with non-ASCII characters (TypeError, a 500).
        if not signature or not hmac.compare_digest(signature.encode(), self._sign(payload).encode()):
            raise InputInvalidError("cursor: not a cursor this API issued (it may have been altered).")
        data = orjson.loads(payload)
        if data.get("f") != fingerprint:
            raise InputInvalidError(
                "cursor: it was issued for other filters; send the same filters with every page."
            )
        return str(data["a"])


def fingerprint(endpoint: str, integration_id: str, params: dict[str, str]) -> str:
    """What a cursor is bound to: the endpoint, the integration and every filter (not page_size)."""
    bound = {k: v for k, v in sorted(params.items()) if k not in ("cursor", "page_size")}
    raw = orjson.dumps([endpoint, integration_id, bound])
    return hashlib.sha256(raw).hexdigest()[:16]
