"""A LinkedIn Learning integration's settings and credentials. LinkedIn's limits are daily
quotas per application (numbers only in its Developer Portal) answered with a bare 429, so calls
are not paced by default and a 429 is retried with backoff."""

from __future__ import annotations

from pydantic import BaseModel, Field, SecretStr, field_validator

from lmsbridge.connectors.http.settings import HttpConnectorSettings

API_URL = "https://api.linkedin.com"
OAUTH_URL = "https://www.linkedin.com"


def _url(value: str) -> str:
    value = value.strip().rstrip("/")
    if not value.startswith(("https://", "http://")):
        raise ValueError("must start with https://")
    return value


class LinkedInLearningSettings(HttpConnectorSettings):
    api_url: str = Field(API_URL, description="The API host (the API lives under /v2).")
    oauth_url: str = Field(OAUTH_URL, description="The host of the token endpoint /oauth/v2/accessToken.")
    language: str = Field("en", pattern=r"^[a-z]{2}$", description="The catalog's language (sourceLocale).")
    country: str = Field("US", pattern=r"^[A-Z]{2}$", description="The catalog's country (sourceLocale).")
    page_size: int = Field(100, ge=1, le=100, description="Elements per page (`count`).")
    history_days: int = Field(
        1825, ge=1, le=3650, description="How far back a full sync reads the activity reports, in days."
    )
    report_lag_hours: float = Field(
        24.0, ge=0, le=168, description="A delta reads the activity reports this much further back."
    )

    @field_validator("api_url", "oauth_url")
    @classmethod
    def _hosts(cls, value: str) -> str:
        return _url(value)


class LinkedInLearningCredentials(BaseModel):
    client_id: str = Field(
        description="The application's client id (LinkedIn Learning admin > Settings > API)."
    )
    client_secret: SecretStr = Field(description="The application's client secret.")
