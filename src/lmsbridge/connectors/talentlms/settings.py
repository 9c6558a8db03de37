"""A TalentLMS integration's settings and credentials. Defaults follow the vendor's documented
limits: 200 calls per 5 seconds, pages of at most 100 (v2), batches of at most 100 items."""

from __future__ import annotations

from pydantic import BaseModel, Field, SecretStr, field_validator

from lmsbridge.connectors.http.settings import HttpConnectorSettings

# The Public API v2 is versioned by date in a header; this is the version lmsbridge was built
# against (override it when TalentLMS retires it).
DEFAULT_API_VERSION = "2024-01-01"


class TalentLmsSettings(HttpConnectorSettings):
    site_url: str = Field(
        description="The portal's address, e.g. https://acme.talentlms.com (the API stays on the "
        "talentlms.com host even when the portal has its own domain)."
    )
    api_version: str = Field(
        DEFAULT_API_VERSION,
        pattern=r"^\d{4}-\d{2}-\d{2}$",
        description="The X-API-Version sent to the Public API v2 (YYYY-MM-DD).",
    )
    rate_limit_per_second: float | None = Field(
        40.0, gt=0, le=10_000, description="Calls per second (TalentLMS allows 200 per 5 seconds)."
    )
    rate_limit_burst: float = Field(20.0, ge=1, le=10_000, description="Calls that may go at once.")
    page_size: int = Field(100, ge=1, le=100, description="Users per v2 page (at most 100).")
    write_batch_size: int = Field(100, ge=1, le=100, description="Courses per batch upsert (at most 100).")
    task_poll_seconds: float = Field(
        1.0, gt=0, le=60, description="Seconds between polls of a batch upsert's background task."
    )
    task_timeout_seconds: float = Field(
        300.0, gt=0, le=3600, description="How long a batch upsert's task may run before it counts as failed."
    )

    @field_validator("site_url")
    @classmethod
    def _site_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not value.startswith(("https://", "http://")):
            raise ValueError("site_url must start with https:// (e.g. https://acme.talentlms.com)")
        return value


class TalentLmsCredentials(BaseModel):
    api_key: SecretStr = Field(
        description="The API key from Account & Settings > Integrations > API (one key serves v1 and v2)."
    )
