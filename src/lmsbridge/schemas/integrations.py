"""Wire shapes of `GET /check-api-key` and `GET /integrations/{id}`: pydantic-free dataclasses, one
definition for the server's response models and the client's records (see schemas/records.py).
The request bodies of the lifecycle, passthrough and HRIS skill routes are in schemas/lifecycle.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

CoverageStatus = Literal["SUPPORTED", "UNSUPPORTED", "NOT_IMPLEMENTED", "UNKNOWN"]
ScopeSetting = Literal["ENABLED", "DISABLED", "OPTIONAL"]


@dataclass(frozen=True, kw_only=True)
class ApiKeyCheck:
    environment_id: str
    customer_id: str


@dataclass(frozen=True, kw_only=True)
class Tool:
    id: str
    label: str
    internal_label: str | None
    logo_url: str
    icon_url: str


@dataclass(frozen=True, kw_only=True)
class EndUser:
    organization_name: str
    creator_email: str | None
    origin_id: str | None


@dataclass(frozen=True, kw_only=True)
class ScopeConfig:
    id: str
    name: str | None


@dataclass(frozen=True, kw_only=True)
class FieldCoverage:
    id: str
    is_available: bool
    coverage_status: CoverageStatus
    scope_config_setting: ScopeSetting
    opted_out_by_customer: bool


@dataclass(frozen=True, kw_only=True)
class Coverage(FieldCoverage):
    label: str
    fields: list[FieldCoverage]


@dataclass(frozen=True, kw_only=True)
class IntegrationDetails:
    id: str
    tool: Tool
    category: Literal["HRIS", "ATS", "ASSESSMENT", "LMS"]
    status: Literal["ACTIVE", "INVALID", "INACTIVE"]
    setup_status: Literal["INCOMPLETE", "FINAL_SYNC_PENDING", "COMPLETED"]
    end_user: EndUser
    scope_config: ScopeConfig
    data_expired_at: datetime | None
    created_at: datetime
    beta: bool
    read_models: list[Coverage]
    write_actions: list[Coverage]
