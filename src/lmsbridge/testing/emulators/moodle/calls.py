"""The registry of emulated web service functions: each declares its parameters and is
registered under its Moodle name."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lmsbridge.testing.emulators.moodle.params import ALPHANUMEXT, RAW, Desc, Single, Value

# ---------------------------------------------------------------------------------------------------
# The functions (parameters as each function's execute_parameters declares them)
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FunctionSpec:
    params: dict[str, Desc]
    handler: Callable[..., Any]


FUNCTIONS: dict[str, FunctionSpec] = {}


def function(name: str, params: dict[str, Desc]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def register(handler: Callable[..., Any]) -> Callable[..., Any]:
        FUNCTIONS[name] = FunctionSpec(params, handler)
        return handler

    return register


_OPTION = Single({"name": Value(ALPHANUMEXT), "value": Value(RAW)})
_WARNING_FREE: dict[str, Any] = {"warnings": []}
