"""Rest.li query parameters as LinkedIn's clients send them, into nested values: protocol 2.0
(`assetFilteringCriteria=(assetTypes:List(COURSE),locales:List((language:en)))`, structure bare
and leaves percent-encoded) and the protocol 1.0 dotted style of LinkedIn's docs
(`assetFilteringCriteria.assetTypes[0]=COURSE`, `sourceLocale.language=en`)."""

from __future__ import annotations

import itertools
import re
from typing import Any
from urllib.parse import unquote, unquote_plus

_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


class QueryError(ValueError):
    pass


def _parse(text: str, at: int) -> tuple[Any, int]:
    if text.startswith("List(", at):
        items: list[Any] = []
        at += 5
        if text.startswith(")", at):
            return items, at + 1
        while True:
            value, at = _parse(text, at)
            items.append(value)
            if text.startswith(",", at):
                at += 1
            elif text.startswith(")", at):
                return items, at + 1
            else:
                raise QueryError(f"malformed list at {at}")
    if text.startswith("(", at):
        record: dict[str, Any] = {}
        at += 1
        if text.startswith(")", at):
            return record, at + 1
        while True:
            colon = text.find(":", at)
            if colon < 0:
                raise QueryError(f"malformed record at {at}")
            key = unquote(text[at:colon])
            value, at = _parse(text, colon + 1)
            record[key] = value
            if text.startswith(",", at):
                at += 1
            elif text.startswith(")", at):
                return record, at + 1
            else:
                raise QueryError(f"malformed record at {at}")
    end = at
    while end < len(text) and text[end] not in ",)":
        end += 1
    return unquote(text[at:end]), end


def restli_value(raw: str) -> Any:
    value, end = _parse(raw, 0)
    if end != len(raw):
        raise QueryError(f"unexpected text after position {end}")
    return value


def _put(target: dict[str, Any], steps: list[str | int], value: Any) -> None:
    node: Any = target
    for step, following in itertools.pairwise(steps):
        empty: Any = [] if isinstance(following, int) else {}
        if isinstance(step, int):
            while len(node) <= step:
                node.append(None)
            if node[step] is None:
                node[step] = empty
            node = node[step]
        else:
            node = node.setdefault(step, empty)
    last = steps[-1]
    if isinstance(last, int):
        while len(node) <= last:
            node.append(None)
        node[last] = value
    else:
        node[last] = value


def parse(query_string: str) -> dict[str, Any]:
    """The raw query string (before any decoding) into nested values."""
    found: dict[str, Any] = {}
    for pair in filter(None, query_string.split("&")):
        raw_key, _, raw_value = pair.partition("=")
        key = unquote_plus(raw_key)
        if raw_value.startswith(("(", "List(")):
            value: Any = restli_value(raw_value)
        else:
            value = unquote_plus(raw_value)
        steps: list[str | int] = [
            int(m.group(2)) if m.group(2) is not None else m.group(1) for m in _STEP.finditer(key)
        ]
        if not steps:
            continue
        _put(found, steps, value)
    return found
