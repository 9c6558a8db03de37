"""Wire shapes of the synced records, as the read endpoints and the direct actions answer them.
The serialisers build plain dicts of these shapes (no validation on the hot path); these models
give `/openapi.json` their exact schema, and the tests validate every answer against it."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel

ActiveStatus = Literal["ACTIVE", "INACTIVE"]
ProgressionStatus = Literal["ENROLLED", "IN_PROGRESS", "COMPLETED", "DROPPED"]


class IntegrationField(BaseModel):
    id: str
    key: str
    type: Literal["DEFAULT", "CUSTOM"]
    value: None = None
    label: str | None


class _Synced(BaseModel):
    id: str
    remote_id: str
    changed_at: datetime
    remote_deleted_at: datetime | None
    remote_data: dict[str, Any] | None


class _Extensible(_Synced):
    custom_fields: dict[str, Any] | None
    integration_fields: list[IntegrationField]


class User(_Extensible):
    first_name: str | None
    last_name: str | None
    work_email: str | None
    status: ActiveStatus | None
    remote_created_at: datetime | None


class Skill(BaseModel):
    """An LMS skill (`GET /lms/skills`); its remote_id may be null, unlike other records'."""

    id: str
    remote_id: str | None
    name: str | None
    remote_created_at: datetime | None
    remote_deleted_at: datetime | None
    changed_at: datetime
    remote_data: dict[str, Any] | None
    custom_fields: dict[str, Any] | None
    integration_fields: list[IntegrationField]


class SkillRef(BaseModel):
    id: str
    remote_id: str | None
    name: str | None


class SkillAssignment(BaseModel):
    skill: SkillRef


class CourseRevision(_Extensible):
    course_id: str | None
    title: str | None
    description: str | None
    remote_url: str | None
    status: ActiveStatus | None
    remote_created_at: datetime | None
    skill_assignments: list[SkillAssignment]


class ProviderRef(BaseModel):
    id: str
    remote_id: str
    name: str | None


class Course(_Extensible):
    provider_id: str | None
    origin_id: str | None
    remote_created_at: datetime | None
    provider: ProviderRef | None
    revisions: list[CourseRevision]


class ProgressionUser(BaseModel):
    id: str
    remote_id: str
    first_name: str | None
    last_name: str | None
    work_email: str | None


class CourseRef(BaseModel):
    id: str
    remote_id: str


class ProgressionRevision(BaseModel):
    id: str
    remote_id: str
    title: str | None
    course: CourseRef | None


class CourseProgression(_Synced):
    user_id: str
    course_revision_id: str
    status: ProgressionStatus | None
    enrolled_at: datetime | None
    completed_at: datetime | None
    user: ProgressionUser
    course_revision: ProgressionRevision


class HrisSkill(_Synced):
    name: str
    description: str | None
    ordered_levels: list[str] | None
