"""Rest.li protocol 2.0 query values: a record is `(key:value,...)`, a list `List(a,b)`, and
only leaf values are percent-encoded (structural characters stay bare), as LinkedIn's own
clients send them with `X-RestLi-Protocol-Version: 2.0.0`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote


def encode(value: Any) -> str:
    if isinstance(value, Mapping):
        return "(" + ",".join(f"{quote(str(k), safe='')}:{encode(v)}" for k, v in value.items()) + ")"
    if isinstance(value, Sequence) and not isinstance(value, str):
        return "List(" + ",".join(encode(v) for v in value) + ")"
    if isinstance(value, bool):
        return "true" if value else "false"
    return quote(str(value), safe="")


def query(params: Mapping[str, Any]) -> str:
    return "&".join(f"{quote(k, safe='')}={encode(v)}" for k, v in params.items())
