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

from lmsbridge.testing.emulators.kit.fidelity import VendorSpec

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
    """The kit's `VendorSpec` of the TalentLMS file, with OpenAPI 3.0's `nullable` honoured (the
    file marks many fields nullable, and JSON Schema alone would refuse their nulls)."""

    def __init__(self, vendor: VendorSpec) -> None:
        # The YAML file keys its responses by integer (200, not "200"), which lookups by status
        # text would miss: normalised once here.
        for operations in vendor.document.get("paths", {}).values():
            for operation in operations.values():
                if isinstance(operation, dict) and "responses" in operation:
                    operation["responses"] = {str(k): v for k, v in operation["responses"].items()}
        self.vendor = vendor
        self.document = vendor.document
        self.checked: list[tuple[str, str]] = []

    @classmethod
    def load(cls, path: Path | None = None) -> SpecCheck | None:
        """None when the file cannot be found."""
        path = path or locate()
        return None if path is None else cls(VendorSpec(path))

    def schema(self, method: str, template: str, status: int) -> dict[str, Any] | None:
        """The JSON Schema of this answer, or None where the file describes none."""
        try:
            schema = self.vendor.response_schema(method, f"/api/v2{template}", status)
        except KeyError:
            return None
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
