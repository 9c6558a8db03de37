"""A 360Learning integration's settings and credentials. Defaults follow the vendor's documented
limits: 50 reads and 10 writes per second per company (paced at the lower figure, since one
bucket serves both), fixed page sizes chosen by 360Learning (no page size to set), bulk inputs
of at most 10,000 items, at most 3 bulk operations running per company."""

from __future__ import annotations

from pydantic import BaseModel, Field, SecretStr, field_validator

from lmsbridge.connectors.http.settings import HttpConnectorSettings

API_VERSION = "v2.0"
EU_HOST = "https://app.360learning.com"


class ThreeSixtyLearningSettings(HttpConnectorSettings):
    site_url: str = Field(
        EU_HOST,
        description="The 360Learning host: https://app.360learning.com (EU) or "
        "https://app.us.360learning.com (US).",
    )
    company_id: str | None = Field(
        None, description="The company id sent with the token request (service-authorized credentials)."
    )
    integration_id: str | None = Field(
        None,
        description="The external-course integration lmsbridge writes courses and completions through; "
        "unset, the connector finds or creates one named after `external_platform`.",
    )
    external_platform: str = Field(
        "lmsbridge", min_length=1, description="The external platform name of that integration."
    )
    author_id: str | None = Field(
        None, description="User id that authors the integration's courses (needed only to create it)."
    )
    group_id: str | None = Field(
        None, description="Group whose catalog receives the integration's courses (needed only to create it)."
    )
    default_lang: str = Field("en", description="Language of courses written without one.")
    rate_limit_per_second: float | None = Field(
        10.0, gt=0, le=10_000, description="Calls per second (360Learning allows 50 reads, 10 writes)."
    )
    rate_limit_burst: float = Field(10.0, ge=1, le=10_000, description="Calls that may go at once.")
    write_batch_size: int = Field(
        1000, ge=1, le=10_000, description="Items per bulk operation (at most 10,000)."
    )
    bulk_poll_seconds: float = Field(
        1.0, gt=0, le=60, description="Seconds between polls of a bulk operation."
    )
    bulk_timeout_seconds: float = Field(
        900.0, gt=0, le=86_400, description="How long a bulk operation may take (queueing included)."
    )

    @field_validator("site_url")
    @classmethod
    def _site_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not value.startswith(("https://", "http://")):
            raise ValueError("site_url must start with https:// (e.g. https://app.360learning.com)")
        return value


class ThreeSixtyLearningCredentials(BaseModel):
    client_id: str = Field(description="The API client id (Platform settings > API).")
    client_secret: SecretStr = Field(description="The API client secret shown once when the key is created.")
