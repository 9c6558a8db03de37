"""Holds every answer of the 360Learning emulator to 360Learning's own OpenAPI 3.1 files (Core
and Bulk API; `reference/vendor-specs/360learning/` in the shared material), and its webhook
payloads to the Webhook file. The files are not shipped with lmsbridge: `locate` finds them next
to a checkout (`../shared`) or in `LMSBRIDGE_360LEARNING_SPECS` (a folder)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from lmsbridge.testing.emulators.kit.fidelity import VendorSpec

FOLDER = Path("reference") / "vendor-specs" / "360learning"
FILES = {
    "core": "360learning-core-api.openapi.json",
    "bulk": "360learning-bulk-api.openapi.json",
    "webhook": "360learning-webhook-api.openapi.json",
}


class SpecViolation(AssertionError):
    pass


def locate() -> Path | None:
    explicit = os.environ.get("LMSBRIDGE_360LEARNING_SPECS")
    if explicit:
        return Path(explicit) if (Path(explicit) / FILES["core"]).is_file() else None
    for folder in (Path.cwd(), *Path.cwd().parents, *Path(__file__).resolve().parents):
        candidate = folder.parent / "shared" / FOLDER
        if (candidate / FILES["core"]).is_file():
            return candidate
    return None


class SpecCheck:
    """Every (method, path template, status) checked, so a test can report how many operations
    the emulator serves and validates."""

    def __init__(self, folder: Path) -> None:
        self.specs = {name: VendorSpec(folder / file) for name, file in FILES.items()}
        self.checked: set[tuple[str, str, int]] = set()

    @classmethod
    def load(cls) -> SpecCheck | None:
        folder = locate()
        return None if folder is None else cls(folder)

    def check(self, method: str, path: str, status: int, body: Any) -> None:
        spec = self.specs["bulk" if path.startswith("/api/v2/bulk/") else "core"]
        if body is None:  # an answer without content (202 + Location): the status must be described
            described = str(status) in spec.operation(method, path).get("responses", {})
            errors = [] if described else [f"the definition has no {status} answer"]
        else:
            errors = spec.errors(method, path, status, body)
        if errors:
            raise SpecViolation(f"{method} {path} {status}: {'; '.join(errors[:3])}")
        self.checked.add((method, path, status))

    def check_webhook(self, event: str, payload: Any) -> None:
        document = self.specs["webhook"].document
        schema = document["webhooks"][event]["post"]["requestBody"]["content"]["application/json"]["schema"]
        from jsonschema import Draft202012Validator  # type: ignore[import-untyped]
        from referencing import Registry, Resource

        registry: Registry[Any] = Registry().with_resource(
            "urn:vendor",
            Resource.from_contents({**document, "$schema": Draft202012Validator.META_SCHEMA["$id"]}),
        )
        import json

        rooted = json.loads(json.dumps(schema).replace('"#/', '"urn:vendor#/'))
        errors = [e.message for e in Draft202012Validator(rooted, registry=registry).iter_errors(payload)]
        if errors:
            raise SpecViolation(f"webhook {event}: {'; '.join(errors[:3])}")
        self.checked.add(("WEBHOOK", event, 200))
