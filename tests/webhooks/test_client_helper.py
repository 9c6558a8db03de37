"""lmsbridge.client.webhooks: the receiver's helper agrees with the documented scheme (and with
Kombo's example of it) and refuses what it must."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from lmsbridge.client.webhooks import (
    InvalidWebhook,
    WebhookEvent,
    compute_signature,
    parse_event,
    verify_and_parse,
    verify_signature,
)
from lmsbridge.webhooks.signing import sign

BODY = b'{"id":"5gjAtURLPbnTiwgkaBfiA3WJ","type":"data-changed","data":{"integration_id":"sandbox:x"}}'
SECRET = "whsec_test"


def test_the_signature_is_hmac_sha256_base64url_without_padding() -> None:
    expected = base64.urlsafe_b64encode(hmac.new(SECRET.encode(), BODY, hashlib.sha256).digest()).rstrip(b"=")
    assert compute_signature(SECRET, BODY) == expected.decode() == sign(SECRET, BODY)
    assert "=" not in compute_signature(SECRET, BODY)
    assert compute_signature(SECRET.encode(), BODY.decode()) == expected.decode()


def test_verify_signature() -> None:
    header = sign(SECRET, BODY)
    assert verify_signature(SECRET, BODY, header)
    assert verify_signature(SECRET, BODY, header + "=")  # a padded header is the same signature
    assert not verify_signature(SECRET, BODY + b"\n", header)  # the raw body, byte for byte
    assert not verify_signature("whsec_other", BODY, header)
    assert not verify_signature(SECRET, BODY, None)
    assert not verify_signature(SECRET, BODY, "")
    assert not verify_signature("", BODY, header)
    assert not verify_signature(SECRET, BODY, "é" * 43)


def test_parse_event() -> None:
    event = parse_event(BODY)
    assert event == WebhookEvent("5gjAtURLPbnTiwgkaBfiA3WJ", "data-changed", {"integration_id": "sandbox:x"})
    assert verify_and_parse(SECRET, BODY, sign(SECRET, BODY)) == event
    with pytest.raises(InvalidWebhook):
        verify_and_parse(SECRET, BODY, sign("whsec_other", BODY))
    for bad in (b"not json", b"[]", b'{"id": 1, "type": "x", "data": {}}', b'{"id": "a", "type": "x"}'):
        with pytest.raises(InvalidWebhook):
            parse_event(bad)
