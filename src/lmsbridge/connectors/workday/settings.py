"""A Workday integration's settings and credentials. Workday publishes no numeric rate limit;
integrators observe 5-10 calls a second, so calls are paced below that. Pages (`Count`) hold
at most 999 rows."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, SecretStr, field_validator

from lmsbridge.connectors.http.settings import HttpConnectorSettings

# The Workday Web Services version lmsbridge was built against (the emulator follows it too).
DEFAULT_VERSION = "v44.1"


class WorkdaySettings(HttpConnectorSettings):
    base_url: str = Field(
        description="The tenant's web services host, e.g. https://wd2-impl-services1.workday.com."
    )
    tenant: str = Field(pattern=r"^[A-Za-z0-9_\-]+$", description="The tenant name, as in the service URL.")
    version: str = Field(DEFAULT_VERSION, pattern=r"^v\d+\.\d+$", description="Workday Web Services version.")
    auth_mode: Literal["ws_security", "oauth"] = Field(
        "ws_security",
        description="ws_security: an integration system user's name and password in a WS-Security "
        "UsernameToken; oauth: an API client's refresh token (Bearer tokens on every call).",
    )
    rate_limit_per_second: float | None = Field(5.0, gt=0, le=10_000, description="Calls per second.")
    rate_limit_burst: float = Field(5.0, ge=1, le=10_000, description="Calls that may go at once.")
    page_size: int = Field(100, ge=1, le=999, description="Rows per page (Count; Workday allows 999).")
    course_topic_id: str | None = Field(
        None,
        description="The Learning_Topic_ID given to courses lmsbridge creates (Workday's course data "
        "takes topics; an existing course keeps its own).",
    )

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not value.startswith(("https://", "http://")):
            raise ValueError(
                "base_url must start with https:// (e.g. https://wd2-impl-services1.workday.com)"
            )
        return value


class WorkdayCredentials(BaseModel):
    username: str | None = Field(
        None, description="ws_security: the integration system user (without @tenant)."
    )
    password: SecretStr | None = Field(None, description="ws_security: that user's password.")
    client_id: str | None = Field(
        None, description="oauth: the API client's id (Register API Client for Integrations)."
    )
    client_secret: SecretStr | None = Field(None, description="oauth: the API client's secret.")
    refresh_token: SecretStr | None = Field(
        None, description="oauth: the non-expiring refresh token generated for the ISU."
    )
