"""How the tests read the contract's nullable enums (tests/contract.py's `nullable_enum`): a field
whose `type` lists "null" may be null even where its `enum` lists only the other values, which is
how the contract writes 11 of its 12 nullable enums (a Cornerstone transcript's untranslatable
status is such a null). An enum whose `type` does not include "null" still refuses null."""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import Draft202012Validator

from tests.contract import contract_document, contract_present, nullable_enum

STATUS = ["ENROLLED", "IN_PROGRESS", "COMPLETED", "DROPPED"]


def admits(schema: dict[str, Any], value: Any) -> bool:
    return Draft202012Validator(schema).is_valid(value)


def test_null_is_admitted_only_where_the_type_includes_null() -> None:
    nullable = {"type": ["string", "null"], "enum": STATUS}
    assert not admits(nullable, None)  # JSON Schema read literally
    read = nullable_enum(nullable)
    assert admits(read, None) and admits(read, "COMPLETED")
    assert not admits(read, "PENDING") and not admits(read, 3)
    strict = {"type": "string", "enum": STATUS}
    assert nullable_enum(strict) == strict and not admits(nullable_enum(strict), None)
    listed = {"type": ["string", "null"], "enum": [*STATUS, None]}
    assert nullable_enum(listed) == listed  # null listed already: nothing added twice
    nested = nullable_enum({"properties": {"status": nullable}, "items": [nullable]})
    assert admits(nested["properties"]["status"], None) and admits(nested["items"][0], None)


@pytest.mark.skipif(not contract_present(), reason="the Kombo contract is not at hand")
def test_the_contract_writes_nullable_enums_this_way() -> None:
    found: list[tuple[str, bool]] = []

    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            kinds, enum = node.get("type"), node.get("enum")
            if isinstance(kinds, list) and "null" in kinds and isinstance(enum, list):
                found.append((where, None in enum))
            for key, value in node.items():
                walk(value, f"{where}/{key}")
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, f"{where}[{index}]")

    walk(contract_document(), "")
    assert len(found) == 12 and sum(1 for _, lists_null in found if not lists_null) == 11, found
    progressions = contract_document()["components"]["schemas"]["GetLmsCourseProgressionsPositiveResponse"]
    status = progressions["properties"]["data"]["properties"]["results"]["items"]["properties"]["status"]
    assert status["type"] == ["string", "null"] and None not in status["enum"]
    assert admits(nullable_enum(status), None) and not admits(nullable_enum(status), "PENDING")


def test_the_apps_openapi_declares_nullable_enums_as_the_contract_does() -> None:
    from tests.contract import app_document

    schemas = app_document()["components"]["schemas"]
    for name, values in (("CourseProgression", STATUS), ("CourseRevision", ["ACTIVE", "INACTIVE"])):
        status = schemas[name]["properties"]["status"]
        assert status["type"] == ["string", "null"] and status["enum"] == [*values, None], status
        assert admits(status, None) and admits(status, values[0]) and not admits(status, "PENDING")
