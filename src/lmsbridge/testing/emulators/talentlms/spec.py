"""Holds the emulator's v2 answers to TalentLMS's published OpenAPI file
(`reference/vendor-specs/talentlms/talentlms-public-api-v2.openapi.yaml` in the shared material),
wherever the file describes a response. The file is OpenAPI 3.0: its `nullable` is turned into
JSON Schema's null type and its `$ref`s are inlined before `jsonschema` checks an answer. The
file is not shipped with lmsbridge; `locate` finds it next to a checkout (`../shared`) or at
`LMSBRIDGE_TALENTLMS_SPEC`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

SPEC_NAME = "talentlms-public-api-v2.openapi.yaml"
SHARED_PATH = Path("reference") / "vendor-specs" / "talentlms" / SPEC_NAME


class SpecViolation(AssertionError):
    pass


def locate() -> Path | None:
    explicit = os.environ.get("LMSBRIDGE_TALENTLMS_SPEC")
    if explicit:
        return Path(explicit) if Path(explicit).is_file() else None
    for folder in (Path.cwd(), *Path.cwd().parents, *Path(__file__).resolve().parents):
        candidate = folder.parent / "shared" / SHARED_PATH
        if candidate.is_file():
            return candidate
    return None


class SpecCheck:
    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.checked: list[tuple[str, str]] = []

    @classmethod
    def load(cls, path: Path | None = None) -> SpecCheck | None:
        """None when the file cannot be found."""
        import yaml  # type: ignore[import-untyped]

        path = path or locate()
        if path is None:
            return None
        with path.open(encoding="utf-8") as handle:
            return cls(yaml.safe_load(handle))

    def schema(self, method: str, template: str, status: int) -> dict[str, Any] | None:
        """The JSON Schema of this answer, or None where the file describes none."""
        operations = self.document.get("paths", {}).get(f"/api/v2{template}", {})
        operation = operations.get(method.lower(), {})
        responses = operation.get("responses", {})
        response = responses.get(status, responses.get(str(status), {}))
        schema = (response.get("content", {}).get("application/json") or {}).get("schema")
        return None if schema is None else self._plain(schema)

    def check(self, method: str, template: str, status: int, body: Any) -> bool:
        """Raises `SpecViolation` when a described answer does not match; False when undescribed."""
        import jsonschema  # type: ignore[import-untyped]

        schema = self.schema(method, template, status)
        if schema is None:
            return False
        try:
            jsonschema.validate(body, schema)
        except jsonschema.ValidationError as error:
            where = "/".join(str(p) for p in error.absolute_path)
            raise SpecViolation(f"{method} {template}: {error.message} at {where or 'the top'}") from None
        self.checked.append((method, template))
        return True

    def _plain(self, node: Any) -> Any:
        if isinstance(node, list):
            return [self._plain(item) for item in node]
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            target: Any = self.document
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            return self._plain(target)
        plain = {k: self._plain(v) for k, v in node.items() if k not in ("nullable", "example")}
        if node.get("nullable") and "type" in plain:
            plain["type"] = [plain["type"], "null"]
            if "enum" in plain:
                plain["enum"] = [*plain["enum"], None]
        return plain
