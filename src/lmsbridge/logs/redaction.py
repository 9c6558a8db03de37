"""Secrets never reach the interaction log: the values of secret-named headers, query parameters
and body fields (at any depth) are blanked before a call is stored."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl, urlencode

import orjson

REDACTED = "[redacted]"
REDACTED_HEADERS = {"authorization", "cookie", "set-cookie", "proxy-authorization", "x-api-key"}
# Names of headers, query parameters and body fields whose values are secrets, wherever they appear
# (a client may send its key as ?api_key=, or a password in a field the endpoint ignores).
SECRET_NAME = re.compile(
    r"passw(or)?d|passphrase|secret|token|api[-_]?key|private[-_]?key|credential|authori[sz]ation",
    re.IGNORECASE,
)
# `"name": "value"` in JSON the recorder could not parse (cut at log_body_bytes), and name=value.
_SECRET_JSON_MEMBER = re.compile(
    r'("(?:[^"\\]|\\.)*(?:' + SECRET_NAME.pattern + r')(?:[^"\\]|\\.)*"\s*:\s*)'
    r'("(?:[^"\\]|\\.)*"?|[^,}\]\s]+)',
    re.IGNORECASE,
)
# SECRET_NAME.search on ASCII text (nearly every body), about ten times faster on a 64 KiB body:
# among ASCII characters a letter matches only itself and its other case, and the pattern is in
# lower case, so a case-sensitive search of the lowered text finds the same.
_SECRET_NAME_LOWER = re.compile(SECRET_NAME.pattern)
_SECRET_FORM_PAIR = re.compile(
    r"((?:^|[&?\s])[^=&\s]*(?:" + SECRET_NAME.pattern + r")[^=&\s]*=)[^&\s]*", re.I
)


def redact_headers(headers: list[tuple[bytes, bytes]]) -> dict[str, str]:
    shown = {}
    for raw_name, raw_value in headers:
        name = raw_name.decode("latin-1").lower()
        value = raw_value.decode("latin-1")
        if name in REDACTED_HEADERS or SECRET_NAME.search(name):
            scheme = value.split(" ", 1)[0] if " " in value else ""
            value = f"{scheme} {REDACTED}".strip()
        shown[name] = value
    return shown


def redact_query(query: str) -> str:
    if not query or not SECRET_NAME.search(query):
        return query
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        return _SECRET_FORM_PAIR.sub(rf"\1{REDACTED}", query)
    return urlencode([(k, REDACTED if SECRET_NAME.search(k) else v) for k, v in pairs], safe="[],:")


def _redact_value(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: REDACTED if SECRET_NAME.search(str(k)) else _redact_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact_value(v) for v in value]
    return value


def _names_a_secret(text: str) -> bool:
    if text.isascii():
        return _SECRET_NAME_LOWER.search(text.lower()) is not None
    return SECRET_NAME.search(text) is not None


def redact_body(body: str | None) -> str | None:
    """The body with the values of secret-named fields blanked: JSON members at any depth, or
    form pairs. Bodies without such a name (nearly all) are returned as they are, unparsed."""
    if not body or not _names_a_secret(body):
        return body
    try:
        return orjson.dumps(_redact_value(orjson.loads(body))).decode()
    except orjson.JSONDecodeError:
        body = _SECRET_JSON_MEMBER.sub(r'\1"' + REDACTED + '"', body)
        return _SECRET_FORM_PAIR.sub(rf"\1{REDACTED}", body)
