"""Emulator fidelity: an emulator's answers checked against the vendor's own machine-readable
definition of its API (an OpenAPI document under `../shared/reference/vendor-specs/`), so an
emulator cannot drift into answering shapes the real remote never sends."""

from __future__ import annotations

import json
import re
from functools import cached_property
from pathlib import Path
from typing import Any


class VendorSpec:
    """One vendor OpenAPI document (JSON, or YAML when PyYAML is installed)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        text = path.read_text()
        if path.suffix in (".yaml", ".yml"):
            import yaml  # type: ignore[import-untyped]  # only a test dependency

            self.document: dict[str, Any] = yaml.safe_load(text)
        else:
            self.document = json.loads(text)

    @property
    def version(self) -> str:
        return str(self.document.get("info", {}).get("version", "?"))

    @cached_property
    def _templates(self) -> list[tuple[re.Pattern[str], str]]:
        return [
            (re.compile("^" + re.sub(r"\\{[^}]+\\}", "[^/]+", template) + "/?$"), template)
            for template in self.document.get("paths", {})
        ]

    def operation(self, method: str, path: str) -> dict[str, Any]:
        paths = self.document["paths"]
        found = paths.get(path) or next((paths[t] for p, t in self._templates if p.match(path)), None)
        if found is None or method.lower() not in found:
            raise KeyError(f"{method} {path} is not in {self.path.name}")
        operation: dict[str, Any] = found[method.lower()]
        return operation

    def response_schema(self, method: str, path: str, status: int) -> dict[str, Any] | None:
        responses = self.operation(method, path).get("responses", {})
        response = (
            responses.get(str(status)) or responses.get(f"{str(status)[0]}XX") or responses.get("default")
        )
        if response is None:
            return None
        if "$ref" in response:
            response = self._resolve(response["$ref"])
        content = response.get("content", {})
        media = content.get("application/json") or next(iter(content.values()), None)
        return None if media is None else media.get("schema")

    def _resolve(self, ref: str) -> dict[str, Any]:
        node: Any = self.document
        for part in ref.removeprefix("#/").split("/"):
            node = node[part]
        resolved: dict[str, Any] = node
        return resolved

    def errors(self, method: str, path: str, status: int, body: Any) -> list[str]:
        """What in `body` the vendor's definition does not allow (empty: it conforms). A status
        the definition does not describe is an error too."""
        from jsonschema import Draft202012Validator  # type: ignore[import-untyped]
        from referencing import Registry, Resource

        schema = self.response_schema(method, path, status)
        if schema is None:
            return [f"{method} {path}: the definition has no {status} answer"]
        registry: Registry[Any] = Registry().with_resource(
            "urn:vendor",
            Resource.from_contents({**self.document, "$schema": Draft202012Validator.META_SCHEMA["$id"]}),
        )
        rooted = json.loads(json.dumps(schema).replace('"#/', '"urn:vendor#/'))
        validator = Draft202012Validator(rooted, registry=registry)
        return [
            f"{'/'.join(map(str, error.absolute_path)) or '(body)'}: {error.message}"
            for error in validator.iter_errors(body)
        ]
