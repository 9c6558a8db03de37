"""Receiving lmsbridge (and Kombo) webhooks: verify the `X-Kombo-Signature` header and parse the
event. Standard library only, so a receiver can copy this file as it is.

    from lmsbridge.client.webhooks import verify_signature, parse_event

    raw = request.body()                      # the raw bytes, before any JSON parsing
    if not verify_signature(SECRET, raw, request.headers.get("X-Kombo-Signature")):
        return 401
    event = parse_event(raw)                  # event.id is stable across redeliveries: dedupe on it
    if event.type == "sync-finished": ...

The signature is HMAC-SHA256 of the raw body keyed with the endpoint's secret (its UTF-8 bytes),
encoded base64url without `=` padding."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass, field
from typing import Any

SIGNATURE_HEADER = "X-Kombo-Signature"


def compute_signature(secret: str | bytes, raw_body: bytes | str) -> str:
    """The signature a sender with `secret` puts on `raw_body`."""
    key = secret.encode() if isinstance(secret, str) else secret
    body = raw_body.encode() if isinstance(raw_body, str) else raw_body
    digest = hmac.new(key, body, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def verify_signature(secret: str | bytes, raw_body: bytes | str, header: str | None) -> bool:
    """True when `header` (the X-Kombo-Signature value) signs `raw_body` with `secret`. Compared
    in constant time; trailing `=` padding on the header is tolerated."""
    if not header or not secret:
        return False
    expected = compute_signature(secret, raw_body)
    return hmac.compare_digest(
        expected.encode("ascii"), header.strip().rstrip("=").encode("ascii", "replace")
    )


@dataclass(frozen=True)
class WebhookEvent:
    id: str
    type: str
    data: dict[str, Any] = field(default_factory=dict)


class InvalidWebhook(ValueError):
    """The body is not a webhook event, or its signature does not verify."""


def parse_event(raw_body: bytes | str) -> WebhookEvent:
    """The event of a webhook body: `{"id", "type", "data"}`. Raises InvalidWebhook otherwise."""
    try:
        value = json.loads(raw_body)
    except ValueError as error:
        raise InvalidWebhook(f"the body is not JSON: {error}") from error
    if not isinstance(value, dict):
        raise InvalidWebhook("the body is not a JSON object")
    event_id, event_type, data = value.get("id"), value.get("type"), value.get("data")
    if not isinstance(event_id, str) or not isinstance(event_type, str) or not isinstance(data, dict):
        raise InvalidWebhook('the body lacks "id" and "type" strings and a "data" object')
    return WebhookEvent(event_id, event_type, data)


def verify_and_parse(secret: str | bytes, raw_body: bytes | str, header: str | None) -> WebhookEvent:
    """verify_signature, then parse_event; raises InvalidWebhook when either fails."""
    if not verify_signature(secret, raw_body, header):
        raise InvalidWebhook(f"the {SIGNATURE_HEADER} header does not match the body")
    return parse_event(raw_body)
