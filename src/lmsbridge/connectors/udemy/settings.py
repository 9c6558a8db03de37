"""A Udemy Business integration's settings and credentials. Udemy publishes no numeric rate
limit (it answers 429 with Retry-After), so calls are paced by those answers; reports are read
in pages of at most 1000 rows."""

from __future__ import annotations

from pydantic import BaseModel, Field, SecretStr, field_validator

from lmsbridge.connectors.http.settings import HttpConnectorSettings


class UdemySettings(HttpConnectorSettings):
    site_url: str = Field(
        description="The organization's Udemy Business address, e.g. https://acme.udemy.com."
    )
    account_id: str = Field(
        pattern=r"^\d+$", description="The organization id (numeric), shown next to the API credentials."
    )
    page_size: int = Field(100, ge=1, le=1000, description="Rows per page (Udemy answers at most 1000).")
    report_lag_hours: float = Field(
        6.0,
        ge=0,
        le=72,
        description="How far behind the learner Udemy's reports may be (Udemy: up to 6 hours); a delta "
        "sync reads this much further back so late rows are not missed.",
    )

    @field_validator("site_url")
    @classmethod
    def _site_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not value.startswith(("https://", "http://")):
            raise ValueError("site_url must start with https:// (e.g. https://acme.udemy.com)")
        return value


class UdemyCredentials(BaseModel):
    client_id: str = Field(description="The API client id from Manage > Settings > API.")
    client_secret: SecretStr = Field(description="The API client secret shown with it.")
