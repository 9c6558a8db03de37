"""The Sandbox connector. Its state persists in the store (through `SandboxState`, which the
caller supplies, so this module never imports the store); its settings inject latency and
failures so every outcome path can be seen through the public API."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict
from typing import Any, ClassVar, Protocol, TypeVar

from pydantic import Field, field_validator

from lmsbridge.connectors.base import (
    READ_MODEL_LABELS,
    Capabilities,
    ConnectorContext,
    ConnectorSettings,
    CourseUpsert,
    Coverage,
    ItemOutcome,
    ModelCoverage,
    SkillUpsert,
    WriteAction,
)
from lmsbridge.connectors.errors import AuthenticationInvalidError, ItemError
from lmsbridge.errors import ErrorCode


class SandboxState(Protocol):
    """Where the simulated LMS keeps its records, matched by origin_id (create or update)."""

    def upsert_courses(
        self, integration_id: str, rows: list[tuple[str, dict[str, Any]]]
    ) -> dict[str, str]: ...

    def upsert_skills(
        self, integration_id: str, rows: list[tuple[str, dict[str, Any]]]
    ) -> dict[str, str]: ...


class SandboxSettings(ConnectorSettings):
    latency_ms: int = Field(0, ge=0, le=60_000, description="Simulated time per remote write.")
    fail_origin_ids: list[str] = Field(
        default_factory=list, description="Items that fail with REMOTE.INPUT_INVALID."
    )
    failure_rate: float = Field(
        0.0,
        ge=0.0,
        le=1.0,
        description="Share of items that fail with REMOTE.UNKNOWN_HTTP_ERROR; chosen by a hash "
        "of the origin_id, so the same items fail on every run.",
    )
    auth_invalid: bool = Field(False, description="Every task fails with INTEGRATION.AUTHENTICATION_INVALID.")

    @field_validator("fail_origin_ids", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value


_Item = TypeVar("_Item", CourseUpsert, SkillUpsert)

# Models are declared NOT_IMPLEMENTED until the Sandbox's read side lands.
_READS = {model: ModelCoverage(Coverage.NOT_IMPLEMENTED) for model in READ_MODEL_LABELS}


class SandboxConnector:
    tool: ClassVar[str] = "sandbox"
    label: ClassVar[str] = "Sandbox"
    settings_model: ClassVar[type[ConnectorSettings]] = SandboxSettings
    capabilities: ClassVar[Capabilities] = Capabilities(
        read_models=_READS,
        write_actions={
            WriteAction.UPSERT_COURSES: Coverage.SUPPORTED,
            WriteAction.UPSERT_SKILLS: Coverage.SUPPORTED,
            WriteAction.ENROL: Coverage.NOT_IMPLEMENTED,
            WriteAction.COMPLETE: Coverage.NOT_IMPLEMENTED,
            WriteAction.DEACTIVATE_COURSE: Coverage.NOT_IMPLEMENTED,
        },
    )

    def __init__(self, context: ConnectorContext) -> None:
        self.integration_id = context.integration_id
        self.settings = SandboxSettings.model_validate(context.settings)
        if context.sandbox_state is None:
            raise ValueError("the Sandbox connector needs its state")
        self.state: SandboxState = context.sandbox_state

    def upsert_courses(self, items: Sequence[CourseUpsert]) -> Iterator[ItemOutcome]:
        return self._upsert(items, self.state.upsert_courses)

    def upsert_skills(self, items: Sequence[SkillUpsert]) -> Iterator[ItemOutcome]:
        return self._upsert(items, self.state.upsert_skills)

    def _upsert(
        self,
        items: Sequence[_Item],
        write: Callable[[str, list[tuple[str, dict[str, Any]]]], dict[str, str]],
    ) -> Iterator[ItemOutcome]:
        if self.settings.auth_invalid:
            raise AuthenticationInvalidError(
                "The Sandbox rejected the integration's credentials (setting auth_invalid=true)."
            )
        for chunk in self._chunks(items):
            if self.settings.latency_ms:
                time.sleep(self.settings.latency_ms * len(chunk) / 1000)
            accepted = []
            for item in chunk:
                error = self._injected_failure(item.origin_id)
                if error is not None:
                    yield ItemOutcome(item.origin_id, error=error)
                else:
                    accepted.append(item)
            remote_ids = write(self.integration_id, [(item.origin_id, asdict(item)) for item in accepted])
            for item in accepted:
                yield ItemOutcome(item.origin_id, remote_id=remote_ids[item.origin_id])

    def _chunks(self, items: Sequence[_Item]) -> Iterator[Sequence[_Item]]:
        # With latency, small chunks, so outcomes reach the store about four times a second.
        size = 500 if not self.settings.latency_ms else max(1, 250 // self.settings.latency_ms)
        for start in range(0, len(items), size):
            yield items[start : start + size]

    def _injected_failure(self, origin_id: str) -> ItemError | None:
        if origin_id in self.settings.fail_origin_ids:
            return ItemError(
                f"The Sandbox rejected item {origin_id!r} (it is listed in fail_origin_ids).",
                code=ErrorCode.REMOTE_INPUT_INVALID,
            )
        if self.settings.failure_rate:
            digest = hashlib.sha256(f"{self.integration_id}/{origin_id}".encode()).digest()
            if int.from_bytes(digest[:8], "big") / 2**64 < self.settings.failure_rate:
                return ItemError(
                    "The Sandbox answered with an unexpected error (setting failure_rate).",
                    code=ErrorCode.REMOTE_UNKNOWN_HTTP_ERROR,
                )
        return None
