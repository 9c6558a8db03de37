"""Wire shapes of `GET /check-api-key` and `GET /integrations/{id}`."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel

CoverageStatus = Literal["SUPPORTED", "UNSUPPORTED", "NOT_IMPLEMENTED", "UNKNOWN"]
ScopeSetting = Literal["ENABLED", "DISABLED", "OPTIONAL"]


class ApiKeyCheck(BaseModel):
    environment_id: str
    customer_id: str


class Tool(BaseModel):
    id: str
    label: str
    internal_label: str | None
    logo_url: str
    icon_url: str


class EndUser(BaseModel):
    organization_name: str
    creator_email: str | None
    origin_id: str | None


class ScopeConfig(BaseModel):
    id: str
    name: str | None


class FieldCoverage(BaseModel):
    id: str
    is_available: bool
    coverage_status: CoverageStatus
    scope_config_setting: ScopeSetting
    opted_out_by_customer: bool


class Coverage(FieldCoverage):
    label: str
    fields: list[FieldCoverage]


class IntegrationDetails(BaseModel):
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
