"""Validates response bodies (JSON Schema 2020-12) against the Kombo contract,
../shared/contract/kombo-openapi-lms.json, when it is there; otherwise (a clone of the repository
alone) against the app's own /openapi.json, whose every operation declares its exact response
schema. tests/api/test_openapi_conformance.py checks that the second is a faithful extension of
the first whenever the contract is present."""

from __future__ import annotations

import json
import re
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

import httpx
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource

CONTRACT = Path(__file__).resolve().parents[2] / "shared" / "contract" / "kombo-openapi-lms.json"


def contract_present() -> bool:
    return CONTRACT.is_file()


@cache
def contract_document() -> dict[str, Any]:
    return dict(json.loads(CONTRACT.read_text()))


@cache
def app_document() -> dict[str, Any]:
    """The app's own OpenAPI document, with the /v1 prefix taken off its paths as the contract's
    are written. Building it needs no store: no route runs."""
    from lmsbridge.app import create_app
    from lmsbridge.config import Settings
    from lmsbridge.db import Store

    with tempfile.TemporaryDirectory() as scratch:
        settings = Settings(
            database_url=f"sqlite:///{scratch}/openapi.db",
            secret_key="openapi-document-only",
            secret_key_file=f"{scratch}/lmsbridge.key",
        )
        store = Store(settings.database_url)
        try:
            document = create_app(store, settings).openapi()
        finally:
            store.dispose()
    document = json.loads(json.dumps(document))
    document["paths"] = {path.removeprefix("/v1"): ops for path, ops in document["paths"].items()}
    return dict(document)


def _document() -> dict[str, Any]:
    return contract_document() if contract_present() else app_document()


def nullable_enum(node: Any) -> Any:
    """How the contract writes a nullable enum: `"type": ["string", "null"]` with an `enum` that lists
    only the non-null values (11 of its 12 nullable enums; ErrorResponseGeneral's alone also lists
    null). JSON Schema alone would refuse null there, since `enum` does not list it; the contract
    means the field may be null (Kombo answers `status: null` for a Cornerstone transcript whose
    translated status maps to nothing), so null is added to such an enum. Narrowly: only where
    `type` is a list that includes "null"; an enum under a plain `"type": "string"` is left as is."""
    if isinstance(node, list):
        return [nullable_enum(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: nullable_enum(value) for key, value in node.items()}
    kinds, enum = node.get("type"), node.get("enum")
    if isinstance(kinds, list) and "null" in kinds and isinstance(enum, list) and None not in enum:
        node["enum"] = [*enum, None]
    return node


@cache
def _registry() -> Registry:
    document = {**nullable_enum(_document()), "$schema": "https://json-schema.org/draft/2020-12/schema"}
    return Registry().with_resource("urn:contract", Resource.from_contents(document))


def _operation(method: str, path: str) -> dict[str, Any]:
    paths = _document()["paths"]
    for template, operations in paths.items():
        pattern = "^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$"
        if re.match(pattern, path) and method.lower() in operations:
            return dict(operations[method.lower()])
    raise AssertionError(f"{method} {path} is not in the contract")


_APP_ERROR = {"$ref": "#/components/schemas/ErrorResponse"}


def schema_for(method: str, path: str, status: int) -> dict[str, Any]:
    try:
        responses = _operation(method, path)["responses"]
    except AssertionError:
        if status < 400:
            raise
        # A route outside the contract still answers errors in the contract's general envelope.
        responses = (
            {"default": {"$ref": "#/components/responses/ErrorResponseGeneral"}}
            if contract_present()
            else {"default": {"content": {"application/json": {"schema": _APP_ERROR}}}}
        )
    response = responses.get(str(status)) or responses["default"]
    if "$ref" in response:
        name = response["$ref"].rsplit("/", 1)[-1]
        response = _document()["components"]["responses"][name]
    schema = response["content"]["application/json"]["schema"]
    return dict(schema)


def validate(method: str, path: str, status: int, body: Any) -> None:
    schema = schema_for(method, path, status)
    if "$ref" in schema:
        schema = {"$ref": "urn:contract" + schema["$ref"]}
    else:
        schema = json.loads(
            json.dumps(nullable_enum(schema)).replace('"#/components', '"urn:contract#/components')
        )
    validator = Draft202012Validator(schema, registry=_registry(), format_checker=FormatChecker())
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.path))
    assert not errors, f"{method} {path} {status} breaks the contract: " + "; ".join(
        f"{list(e.path)}: {e.message}" for e in errors[:5]
    )


def checked(response: httpx.Response) -> httpx.Response:
    """Assert the response validates against the contract for its operation and status; return it."""
    path = response.request.url.path.removeprefix("/v1")
    validate(response.request.method, path, response.status_code, response.json())
    return response


def _json_schema_nullable(node: Any) -> Any:
    """OpenAPI 3.0's `nullable: true`, which two fields of SyncFinishedWebhookPayload still carry in
    this 3.1 document, as JSON Schema says it: null is allowed too."""
    if isinstance(node, list):
        return [_json_schema_nullable(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _json_schema_nullable(value) for key, value in node.items()}
    if node.get("nullable") is True and isinstance(node.get("type"), str):
        del node["nullable"]
        node["type"] = [node["type"], "null"]
    return node


@cache
def _schema_registry() -> Registry:
    document = {
        **nullable_enum(_json_schema_nullable(_document())),
        "$schema": "https://json-schema.org/draft/2020-12/schema",
    }
    return Registry().with_resource("urn:contract", Resource.from_contents(document))


def validate_schema(name: str, value: Any) -> None:
    """Assert `value` validates against the contract's components/schemas/`name` (e.g. a webhook
    payload, which no operation's response names)."""
    assert name in _document()["components"]["schemas"], f"the contract has no schema {name!r}"
    validator = Draft202012Validator(
        {"$ref": f"urn:contract#/components/schemas/{name}"},
        registry=_schema_registry(),
        format_checker=FormatChecker(),
    )
    errors = sorted(validator.iter_errors(value), key=lambda e: list(e.path))
    assert not errors, f"{name} breaks the contract: " + "; ".join(
        f"{list(e.path)}: {e.message}" for e in errors[:5]
    )
