"""Wire shapes of the synced records, as the read endpoints and the direct actions answer them.

Defined once, as standard-library dataclasses, so that both sides use the same definition without
the client loading pydantic: the server names them as response models (pydantic reads dataclasses,
so `/openapi.json` gets their exact schema) while its serialisers build plain dicts of these shapes
(no validation on the hot path); the client's records are these classes plus the answer's `raw`
object (client/models.py). The tests validate every answer against the schema."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

ActiveStatus = Literal["ACTIVE", "INACTIVE"]
ProgressionStatus = Literal["ENROLLED", "IN_PROGRESS", "COMPLETED", "DROPPED"]

# Every shape is frozen and kw_only: a subclass may add fields (the client's `raw`) after fields
# that have defaults, and the fields keep their declared order, which is the order of the schema.


@dataclass(frozen=True, kw_only=True)
class IntegrationField:
    id: str
    key: str
    type: Literal["DEFAULT", "CUSTOM"]
    value: None = None
    label: str | None


@dataclass(frozen=True, kw_only=True)
class _Synced:
    id: str
    remote_id: str
    changed_at: datetime
    remote_deleted_at: datetime | None
    remote_data: dict[str, Any] | None


@dataclass(frozen=True, kw_only=True)
class _Extensible(_Synced):
    custom_fields: dict[str, Any] | None
    integration_fields: list[IntegrationField]


@dataclass(frozen=True, kw_only=True)
class User(_Extensible):
    first_name: str | None
    last_name: str | None
    work_email: str | None
    status: ActiveStatus | None
    remote_created_at: datetime | None


@dataclass(frozen=True, kw_only=True)
class Skill:
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


@dataclass(frozen=True, kw_only=True)
class SkillRef:
    id: str
    remote_id: str | None
    name: str | None


@dataclass(frozen=True, kw_only=True)
class SkillAssignment:
    skill: SkillRef


@dataclass(frozen=True, kw_only=True)
class CourseRevision(_Extensible):
    course_id: str | None
    title: str | None
    description: str | None
    remote_url: str | None
    status: ActiveStatus | None
    remote_created_at: datetime | None
    skill_assignments: list[SkillAssignment]


@dataclass(frozen=True, kw_only=True)
class ProviderRef:
    id: str
    remote_id: str
    name: str | None


@dataclass(frozen=True, kw_only=True)
class Course(_Extensible):
    provider_id: str | None
    origin_id: str | None
    remote_created_at: datetime | None
    provider: ProviderRef | None
    revisions: list[CourseRevision]


@dataclass(frozen=True, kw_only=True)
class ProgressionUser:
    id: str
    remote_id: str
    first_name: str | None
    last_name: str | None
    work_email: str | None


@dataclass(frozen=True, kw_only=True)
class CourseRef:
    id: str
    remote_id: str


@dataclass(frozen=True, kw_only=True)
class ProgressionRevision:
    id: str
    remote_id: str
    title: str | None
    course: CourseRef | None


@dataclass(frozen=True, kw_only=True)
class CourseProgression(_Synced):
    user_id: str
    course_revision_id: str
    status: ProgressionStatus | None
    enrolled_at: datetime | None
    completed_at: datetime | None
    user: ProgressionUser
    course_revision: ProgressionRevision


@dataclass(frozen=True, kw_only=True)
class HrisSkill(_Synced):
    name: str
    description: str | None
    ordered_levels: list[str] | None
