"""Bodies of the connection-flow endpoints, as Kombo Connect names them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

LinkType = Literal["EMBEDDED", "MAGIC_LINK"]


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore")


class CreateLinkRequest(_Body):
    end_user_email: str = Field(
        pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
        max_length=320,
        description="Email of the person at your customer who connects.",
    )
    end_user_organization_name: str = Field(min_length=1, max_length=200)
    end_user_origin_id: str | None = Field(
        None, max_length=200, description="Your own id of the customer; webhooks carry it."
    )
    integration_category: Literal["LMS"] = "LMS"
    integration_tool: str | None = Field(
        None, description="The tool to connect; without it the customer picks one."
    )
    language: str | None = Field("en", max_length=8)
    link_type: LinkType = "EMBEDDED"
    remote_environment: str | None = None


class RelinkRequest(_Body):
    language: str | None = Field("en", max_length=8)
    link_type: LinkType = "EMBEDDED"
    scope_config_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class ConnectionLinkCreated:
    """`POST /connect/create-link` and `POST /integrations/{id}/relink`: the single-use link."""

    link: str


@dataclass(frozen=True, kw_only=True)
class IntegrationByToken:
    """`GET /connect/integration-by-token/{token}`: the integration a finished connection created."""

    id: str
    tool: str
    end_user_origin_id: str | None
    end_user_organization_name: str | None
    end_user_email: str | None
    setup_status: Literal["COMPLETED", "FINAL_SYNC_PENDING"]
