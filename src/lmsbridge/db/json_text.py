"""The JSON text of JSON columns, written and read the same way by SQLAlchemy (the engine's
`json_serializer` and `json_deserializer`) and by the driver-level writes of db/bulk.py: orjson,
several times faster than the json module, and the json module wherever orjson would refuse a value
or change it. orjson cannot encode an integer beyond 64 bits, and it decodes one as a float
(silently losing digits): such text is left to the json module, which keeps it an int."""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

# Nineteen digits in a row may be an integer beyond 64 bits (2**63 has nineteen): the json module
# reads such a text. A string with that many digits in it costs the slower reader, nothing more.
_LONG_DIGITS = re.compile(r"\d{19}")
_LONG_DIGITS_BYTES = re.compile(rb"\d{19}")


def dumps(value: Any) -> str:
    """JSON text of a value, without whitespace (non-string keys as strings, as json writes them)."""
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:  # an integer beyond 64 bits, a type orjson does not know
        return json.dumps(value)


def loads(text: str | bytes) -> Any:
    """The value of a JSON text; big integers stay integers, NaN is read as the json module does."""
    long_digits = _LONG_DIGITS_BYTES if isinstance(text, bytes) else _LONG_DIGITS
    if long_digits.search(text) is None:  # type: ignore[arg-type]
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            pass
    return json.loads(text)
