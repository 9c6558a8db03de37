"""A Cornerstone OnDemand integration's settings and credentials. The Reporting API allows 400
requests a minute and the Employee API 75 bulk reads a minute [reference 2.4]: calls are paced
under the lower one, and a 429 is waited out."""

from __future__ import annotations

from pydantic import BaseModel, Field, SecretStr, field_validator

from lmsbridge.connectors.http.settings import HttpConnectorSettings

SCOPES = (
    "employee:read vw_rpt_training:read vw_rpt_transcript:read vw_rpt_lo_competencies_local:read "
    "training:create transcript:create:assign transcript:update:complete"
)


class CornerstoneSettings(HttpConnectorSettings):
    site_url: str = Field(
        description="The portal's address, e.g. https://acme.csod.com (or acme-pilot.csod.com)."
    )
    page_size: int = Field(
        100, ge=1, le=1000, description="Rows per page (the Reporting API answers at most 1000)."
    )
    provider_name: str = Field(
        "lmsbridge", description="The provider name given to learning objects lmsbridge creates."
    )
    rate_limit_per_second: float | None = Field(
        6.0,
        gt=0,
        le=10_000,
        description="Calls per second (the Reporting API allows 400 a minute; the Employee API's bulk "
        "reads 75 a minute, whose 429s are waited out).",
    )
    rate_limit_burst: float = Field(10.0, ge=1, le=10_000, description="Calls that may go at once.")
    scope: str = Field(SCOPES, description="The OAuth scopes asked for, space-separated.")

    @field_validator("site_url")
    @classmethod
    def _site_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not value.startswith(("https://", "http://")):
            raise ValueError("site_url must start with https:// (e.g. https://acme.csod.com)")
        return value


class CornerstoneCredentials(BaseModel):
    client_id: str = Field(description="The OAuth 2.0 application's client id (Admin > Edge > API Explorer).")
    client_secret: SecretStr = Field(description="The application's client secret.")
