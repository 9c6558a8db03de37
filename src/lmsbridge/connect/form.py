"""The connection page's form, derived from what a connector declares: its settings model and its
credentials model. Required settings come first; optional ones go under "More settings"."""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, SecretStr
from pydantic.fields import FieldInfo
from starlette.datastructures import FormData

from lmsbridge.connect.service import Attempt

SETTING = "setting:"
CREDENTIAL = "credential:"


@dataclass(frozen=True)
class FormField:
    name: str  # the input's name: "setting:site_url", "credential:token"
    label: str
    help: str | None
    kind: str  # text | url | number | checkbox | password
    required: bool
    default: Any
    step: str | None = None


def _kind(annotation: Any, name: str) -> tuple[str, str | None]:
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        annotation = next(a for a in args if a is not type(None))
    if annotation is SecretStr:
        return "password", None
    if annotation is bool:
        return "checkbox", None
    if annotation is int:
        return "number", "1"
    if annotation is float:
        return "number", "any"
    if name.endswith("_url"):
        return "url", None
    return "text", None


def _field(prefix: str, name: str, info: FieldInfo) -> FormField:
    kind, step = _kind(info.annotation, name)
    default = None if info.is_required() else info.get_default(call_default_factory=True)
    if isinstance(default, list):
        default = ", ".join(map(str, default))
    return FormField(
        name=prefix + name,
        label=name.replace("_", " ").capitalize(),
        help=info.description,
        kind=kind,
        required=info.is_required(),
        default=default,
        step=step,
    )


def fields_of(model: type[BaseModel], prefix: str) -> list[FormField]:
    return [_field(prefix, name, info) for name, info in model.model_fields.items()]


def attempt_from(form: FormData, tool: str, settings_model: type[BaseModel]) -> Attempt:
    """The typed-in values; an empty box is left out (the default applies), and an unticked
    checkbox of a setting is false."""
    attempt = Attempt(tool=tool)
    for key, value in form.multi_items():
        if not isinstance(value, str) or not value.strip():
            continue
        if key.startswith(SETTING):
            attempt.settings[key.removeprefix(SETTING)] = value.strip()
        elif key.startswith(CREDENTIAL):
            attempt.credentials[key.removeprefix(CREDENTIAL)] = value.strip()
    for name, info in settings_model.model_fields.items():
        if info.annotation is bool:  # a ticked box sends "on", an unticked one nothing
            attempt.settings[name] = name in attempt.settings
    return attempt
