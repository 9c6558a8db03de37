"""`/openapi.json` as a client should read it: the contract's header names, required where the
server requires them (the dependencies read them as optional, so that their absence is answered
in the contract's error envelope with a message naming the header), nullable enums written as the
contract writes them, and the webhook payloads."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from lmsbridge.schemas.events import WEBHOOK_PAYLOADS

REQUIRED_HEADERS = ("X-Integration-Id",)
_SIGNATURE = {"name": "X-Kombo-Signature", "in": "header", "required": True, "schema": {"type": "string"}}


def install(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
                servers=app.servers,
            )
            for operations in document.get("paths", {}).values():
                for operation in operations.values():
                    # Invalid input answers 400 in the error envelope (api/errors.py), never 422.
                    operation.get("responses", {}).pop("422", None)
                    for parameter in operation.get("parameters", []):
                        if parameter["in"] == "header" and parameter["name"] in REQUIRED_HEADERS:
                            parameter["required"] = True
                            parameter.get("schema", {}).pop("anyOf", None)
                            parameter["schema"] = {"type": "string", "title": parameter["name"]}
            for unused in ("HTTPValidationError", "ValidationError"):
                document.get("components", {}).get("schemas", {}).pop(unused, None)
            _add_webhooks(document)
            app.openapi_schema = nullable_enums(document)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def nullable_enums(node: Any) -> Any:
    """A nullable enum (`status: ProgressionStatus | None`, which pydantic writes as
    `anyOf: [{type: string, enum: [...]}, {type: null}]`) declared as the contract declares one:
    `type: [string, null]` with the enum, so that the field reads the same in both documents (a
    Cornerstone transcript whose translated status maps to nothing answers `status: null`, as
    Kombo's does). The enum lists null too, as the contract's ErrorResponseGeneral code does, so
    that a literal JSON Schema reading admits null as well."""
    if isinstance(node, list):
        return [nullable_enums(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: nullable_enums(value) for key, value in node.items()}
    branches = node.get("anyOf")
    if isinstance(branches, list) and len(branches) == 2 and {"type": "null"} in branches:
        (kept,) = [b for b in branches if b != {"type": "null"}]
        if set(kept) == {"type", "enum"} and isinstance(kept["type"], str):
            del node["anyOf"]
            node.update(type=[kept["type"], "null"], enum=[*kept["enum"], None])
    return node


def _add_webhooks(document: dict[str, Any]) -> None:
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    webhooks = document.setdefault("webhooks", {})
    for event, model in WEBHOOK_PAYLOADS.items():
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        for name, definition in {**schema.pop("$defs", {}), model.__name__: schema}.items():
            assert schemas.get(name, definition) == definition, f"two wire shapes are named {name}"
            schemas[name] = definition
        webhooks[event] = {
            "post": {
                "summary": f"{event} event",
                "parameters": [
                    {
                        "name": "X-Kombo-Signature",
                        "in": "header",
                        "required": True,
                        "schema": {"type": "string"},
                    }
                ],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}
                    },
                },
                "responses": {"200": {"description": "Received."}},
            }
        }
