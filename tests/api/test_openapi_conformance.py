"""The app's /openapi.json against the Kombo contract: every operation the contract also has
takes the same parameters (the app may add optional ones, as extensions) and answers a 200 whose
fields are a superset of the contract's (every field the contract requires, the app requires).
Runs whenever ../shared/contract is present; CI requires it to be (see .ci/run)."""

from __future__ import annotations

import os
from typing import Any

import pytest

from tests.contract import CONTRACT, app_document, contract_document, contract_present

needs_contract = pytest.mark.skipif(
    not contract_present() and os.environ.get("CI") != "true",
    reason=f"the Kombo contract is not at {CONTRACT} (a clone of the repository alone)",
)


def _resolve(document: dict[str, Any], node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        section, name = node["$ref"].split("/")[-2:]
        node = document["components"][section][name]
    return node


def _json_body(document: dict[str, Any], operation: dict[str, Any]) -> dict[str, Any]:
    response = _resolve(document, operation["responses"]["200"])
    return dict(_resolve(document, response["content"]["application/json"]["schema"]))


def _variants(document: dict[str, Any], schema: dict[str, Any]) -> list[dict[str, Any]]:
    """The object shapes a schema allows (the branches of anyOf/oneOf, null left out)."""
    schema = _resolve(document, schema)
    branches = schema.get("anyOf") or schema.get("oneOf")
    if branches:
        found: list[dict[str, Any]] = []
        for branch in branches:
            found.extend(_variants(document, branch))
        return found
    if schema.get("type") == "null":
        return []
    return [schema]


def _const(document: dict[str, Any], schema: Any) -> Any:
    schema = _resolve(document, schema) or {}
    if "const" in schema:
        return schema["const"]
    enum = schema.get("enum")
    return enum[0] if isinstance(enum, list) and len(enum) == 1 else None


def _missing(contract: dict[str, Any], ours: dict[str, Any], where: str, kombo: Any, app: Any) -> list[str]:
    """Where the app's schema lacks a field of the contract's, or leaves optional what it requires."""
    problems = []
    theirs = _variants(kombo, contract)
    mine = _variants(app, ours)
    for shape in theirs:
        if "properties" in shape:
            candidates = [m for m in mine if "properties" in m]
            tag = _const(kombo, shape.get("properties", {}).get("status"))
            if tag is not None:  # a discriminated union: the variant with the same status
                candidates = [m for m in candidates if _const(app, m["properties"].get("status")) == tag]
            if not candidates:
                problems.append(f"{where}: an object in the contract, not in the app")
                continue
            own = candidates[0]
            required = set(own.get("required", []))
            for name, field in shape["properties"].items():
                if name not in own["properties"]:
                    problems.append(f"{where}.{name}: missing")
                    continue
                if name in shape.get("required", []) and name not in required:
                    problems.append(f"{where}.{name}: required by the contract, optional in the app")
                problems += _missing(field, own["properties"][name], f"{where}.{name}", kombo, app)
        elif shape.get("type") == "array" or "items" in shape:
            arrays = [m for m in mine if "items" in m]
            if not arrays:
                problems.append(f"{where}: an array in the contract, not in the app")
                continue
            problems += _missing(shape.get("items", {}), arrays[0]["items"], f"{where}[]", kombo, app)
    return problems


def _operations() -> list[tuple[str, str]]:
    contract = contract_document()
    app = app_document()
    return [
        (method, path)
        for path, operations in app["paths"].items()
        for method in operations
        if path in contract["paths"] and method in contract["paths"][path]
    ]


@needs_contract
def test_the_contract_is_present_in_ci() -> None:
    assert contract_present(), f"CI runs the Kombo conformance tests: {CONTRACT} must be present"


@needs_contract
def test_the_app_implements_most_of_the_contracts_operations() -> None:
    assert len(_operations()) >= 15


@needs_contract
@pytest.mark.parametrize(("method", "path"), _operations() if contract_present() else [])
def test_operation_takes_the_contracts_parameters(method: str, path: str) -> None:
    kombo = contract_document()["paths"][path][method]
    ours = app_document()["paths"][path][method]

    def by_key(operation: dict[str, Any]) -> dict[tuple[str, str], bool]:
        return {
            (p["in"], p["name"].lower()): bool(p.get("required")) for p in operation.get("parameters", [])
        }

    theirs, mine = by_key(kombo), by_key(ours)
    for key, required in theirs.items():
        assert key in mine, f"{method} {path}: no parameter {key}"
        assert mine[key] == required, f"{method} {path}: {key} required={mine[key]}, contract {required}"
    for key in set(mine) - set(theirs):
        assert not mine[key], f"{method} {path}: extension parameter {key} must be optional"
    assert ours.get("security") == [{"ApiKey": []}], f"{method} {path}: not behind the bearer scheme"


@needs_contract
@pytest.mark.parametrize(("method", "path"), _operations() if contract_present() else [])
def test_operation_answers_a_superset_of_the_contracts_fields(method: str, path: str) -> None:
    kombo, app = contract_document(), app_document()
    problems = _missing(
        _json_body(kombo, kombo["paths"][path][method]),
        _json_body(app, app["paths"][path][method]),
        f"{method.upper()} {path}",
        kombo,
        app,
    )
    assert not problems, problems


def test_the_bearer_scheme_is_declared_as_the_contracts() -> None:
    scheme = app_document()["components"]["securitySchemes"]["ApiKey"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")


def test_every_operation_of_the_app_declares_its_response_schema() -> None:
    """Not only those of the contract: extensions too (the suite validates against this document
    when the contract is absent)."""
    app = app_document()
    empty = [
        f"{method.upper()} {path}"
        for path, operations in app["paths"].items()
        for method, operation in operations.items()
        if not operation["responses"]["200"].get("content", {}).get("application/json", {}).get("schema")
    ]
    assert not empty, empty
