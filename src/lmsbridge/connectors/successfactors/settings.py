"""A SuccessFactors Learning integration's settings and credentials. Defaults follow SAP's
documented throttling (item/user/search services one call per 500 ms) and the Open Content
Network's pace (one course every 500 seconds, reference 1.6)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, SecretStr, field_validator

from lmsbridge.connectors.http.settings import HttpConnectorSettings


class SuccessFactorsSettings(HttpConnectorSettings):
    learning_url: str = Field(description="The Learning host, e.g. https://acme.plateau.com.")
    company_id: str = Field(description="The SuccessFactors company id (e.g. ACME01).")
    admin_user_id: str = Field("sfadmin", description="The Learning admin the token acts as (scope userId).")
    token_flow: Literal["learning", "saml_bearer"] = Field(
        "learning",
        description="`learning`: the Learning token server (Basic client auth, JSON scope); "
        "`saml_bearer`: the platform OAuth flow with a SAML assertion.",
    )
    platform_url: str | None = Field(
        None, description="The platform API host for `saml_bearer` (defaults to learning_url)."
    )
    rate_limit_per_second: float | None = Field(
        2.0, gt=0, le=10_000, description="Calls per second (SAP allows one per 500 ms per service)."
    )
    rate_limit_burst: float = Field(1.0, ge=1, le=10_000, description="Calls that may go at once.")
    page_size: int = Field(500, ge=1, le=1000, description="Rows per page ($top).")
    provider_id: str = Field(
        "LMSBRIDGE", description="The OCN content provider id registered in Learning for upserted courses."
    )
    locale: str = Field("English", description="The locale of OCN titles and descriptions.")
    ocn_pace_seconds: float = Field(
        500.0, ge=0, le=3600, description="Seconds between two OCN course posts (SAP: one per 500 s)."
    )
    completed_status_ids: list[str] = Field(
        default_factory=lambda: ["COMPLETE", "COURSE-COMPL", "COMPL"],
        description="Completion status ids (customer-configured) that mean the course was passed; "
        "other history rows are read as IN_PROGRESS with a warning.",
    )
    completion_status_id: str = Field(
        "COMPLETE", description="The completion status recorded with a completion learning event."
    )

    @field_validator("learning_url", "platform_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip().rstrip("/")
        if not value.startswith(("https://", "http://")):
            raise ValueError("must start with https://")
        return value


class SuccessFactorsCredentials(BaseModel):
    client_id: str = Field(description="The OAuth client id registered in Learning Administration.")
    client_secret: SecretStr = Field(description="The client secret (Learning token server).")
    saml_assertion: SecretStr | None = Field(
        None, description="A base64 SAML assertion (only for token_flow saml_bearer)."
    )
