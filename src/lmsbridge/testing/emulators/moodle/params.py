"""Moodle's external parameter descriptions (value, single structure, multiple), the cleaning
and validation they imply, PHP's bracket form decoding, and the JSON and XML encodings."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from html import escape
from typing import Any

from lmsbridge.testing.emulators.moodle.errors import MoodleError, invalid_parameter

# ---------------------------------------------------------------------------------------------------
# Parameter descriptions and Moodle's validation rules (external_api::validate_parameters)
# ---------------------------------------------------------------------------------------------------

REQUIRED, DEFAULT, OPTIONAL = 1, 0, 2
INT, FLOAT, BOOL, RAW, RAW_TRIMMED, TEXT, NOTAGS = (
    "int",
    "float",
    "bool",
    "raw",
    "raw_trimmed",
    "text",
    "notags",
)
ALPHA, ALPHANUM, ALPHANUMEXT, PLUGIN, SAFEDIR, LANG = (
    "alpha",
    "alphanum",
    "alphanumext",
    "plugin",
    "safedir",
    "lang",
)

_PATTERNS = {
    ALPHA: re.compile(r"[A-Za-z]*"),
    ALPHANUM: re.compile(r"[A-Za-z0-9]*"),
    ALPHANUMEXT: re.compile(r"[A-Za-z0-9_-]*"),
    PLUGIN: re.compile(r"(?:[a-z][a-z0-9_]*[a-z0-9])?|[a-z]"),
    SAFEDIR: re.compile(r"[A-Za-z0-9_-]*"),
    LANG: re.compile(r"|en"),
}
# What PHP's strip_tags would remove: "<" opening a tag, a closing tag, a comment or a declaration.
_TAG = re.compile(r"<[A-Za-z/!?]")


@dataclass(frozen=True)
class Value:
    type: str
    required: int = REQUIRED
    default: Any = None


@dataclass(frozen=True, eq=False)
class Single:
    keys: dict[str, Desc]
    required: int = REQUIRED
    default: Any = None


@dataclass(frozen=True, eq=False)
class Multiple:
    content: Desc
    required: int = REQUIRED
    default: Any = None


Desc = Value | Single | Multiple


def _clean(kind: str, value: Any) -> Any:
    text = ("1" if value else "0") if isinstance(value, bool) else str(value)
    if kind == BOOL and (isinstance(value, bool) or text in ("0", "1")):
        return text == "1"
    if kind == INT and re.fullmatch(r"-?\d+", text) and str(int(text)) == text:
        return int(text)
    if kind == FLOAT and re.fullmatch(r"[+-]?\d*\.?\d*(?:[eE][-+]?\d+)?", text) and text not in ("", "."):
        return float(text)
    if kind == RAW:
        return text
    if kind == RAW_TRIMMED and text == text.strip():
        return text
    if kind in (TEXT, NOTAGS) and not _TAG.search(text):
        return text
    pattern = _PATTERNS.get(kind)
    if pattern is not None and pattern.fullmatch(text):
        return text
    raise invalid_parameter(
        f'Invalid external api parameter: the value is "{text}", the server was expecting "{kind}" type'
    )


def validate(desc: Desc, value: Any) -> Any:
    """Moodle's validation: missing required keys, unexpected keys, and type cleaning, with the
    path to a faulty key built as "key => message: debuginfo"."""
    if isinstance(desc, Value):
        if isinstance(value, dict | list):
            raise invalid_parameter("Scalar type expected, array or object received.")
        return _clean(desc.type, value)
    if isinstance(desc, Single):
        if not isinstance(value, dict):
            raise invalid_parameter(f"Only arrays accepted. The bad value is: '{value}'")
        rest = dict(value)
        result: dict[str, Any] = {}
        for key, sub in desc.keys.items():
            if key not in rest:
                if sub.required == REQUIRED:
                    raise invalid_parameter(f"Missing required key in single structure: {key}")
                if sub.required == OPTIONAL:
                    continue
            try:
                result[key] = validate(sub, rest.pop(key) if key in rest else sub.default)
            except MoodleError as error:
                raise invalid_parameter(f"{key} => {error.message}: {error.debuginfo}") from None
        if rest:
            raise invalid_parameter(f"Unexpected keys ({', '.join(rest)}) detected in parameter array.")
        return result
    if not isinstance(value, dict | list):
        raise invalid_parameter(f"Only arrays accepted. The bad value is: '{value}'")
    items = value.values() if isinstance(value, dict) else value
    return [validate(desc.content, item) for item in items]


_BRACKETS = re.compile(r"\[([^\[\]]*)\]")


def decode_php_form(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Form pairs into nested arrays as PHP builds $_GET/$_POST: `a[0][b]=1` -> {"a": {"0": {"b": "1"}}}."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        cut = key.find("[")
        if cut <= 0 or not key.endswith("]"):
            root[key] = value
            continue
        path = [key[:cut], *_BRACKETS.findall(key[cut:])]
        node = root
        for part in path[:-1]:
            name = part or str(len(node))
            child = node.get(name)
            if not isinstance(child, dict):
                child = {}
                node[name] = child
            node = child
        node[path[-1] or str(len(node))] = value
    return root


def php_json(value: Any) -> str:
    """JSON as PHP's json_encode writes it: ASCII only, and "/" escaped."""
    return json.dumps(value, ensure_ascii=True, separators=(",", ":")).replace("/", "\\/")


def xmlize(value: Any) -> str:
    if isinstance(value, dict):
        keys = "".join(f'<KEY name="{escape(str(k))}">{xmlize(v)}</KEY>\n' for k, v in value.items())
        return f"<SINGLE>\n{keys}</SINGLE>\n"
    if isinstance(value, list):
        return "<MULTIPLE>\n" + "".join(xmlize(v) for v in value) + "</MULTIPLE>\n"
    if value is None:
        return '<VALUE null="null"/>\n'
    if isinstance(value, bool):
        value = int(value)
    return f"<VALUE>{escape(str(value), quote=False)}</VALUE>\n"
