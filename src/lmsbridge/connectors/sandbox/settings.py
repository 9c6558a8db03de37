"""The Sandbox's settings: they size its data and inject latency and failures, so every path can
be seen through the public API."""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator

from lmsbridge.connectors.base import ConnectorSettings


class SandboxSettings(ConnectorSettings):
    users: int = Field(50, ge=1, le=2_000_000, description="Users in the simulated LMS.")
    courses: int = Field(20, ge=1, le=200_000, description="Courses (every fifth has two revisions).")
    progressions: int = Field(200, ge=0, le=5_000_000, description="Course progressions.")
    seed: int = Field(1, description="Same seed and sizes, same data.")
    latency_ms: int = Field(0, ge=0, le=60_000, description="Simulated time per remote write.")
    fail_origin_ids: list[str] = Field(
        default_factory=list, description="Items that fail with REMOTE.INPUT_INVALID."
    )
    failure_rate: float = Field(
        0.0,
        ge=0.0,
        le=1.0,
        description="Share of items that fail with REMOTE.UNKNOWN_HTTP_ERROR; chosen by a hash of the "
        "origin_id, so the same items fail on every run.",
    )
    auth_invalid: bool = Field(False, description="Every task, sync and action fails: credentials rejected.")
    page_size: int = Field(
        1000, ge=1, le=10_000, description="Records per page when a sync reads the Sandbox."
    )
    fail_read_models: list[str] = Field(
        default_factory=list,
        description="Models whose sync read fails with REMOTE.SERVICE_UNAVAILABLE after the first page.",
    )

    @field_validator("fail_origin_ids", "fail_read_models", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value
