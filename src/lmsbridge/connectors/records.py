"""Unified records, as a connector yields them when it reads a remote LMS. Ids here are the
remote system's; lmsbridge derives its own ids from (integration, model, remote id)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

# The models, in the order a sync reads them, are named once in schemas/models.py.
from lmsbridge.schemas.models import SYNC_MODELS as SYNC_MODELS


@dataclass(frozen=True)
class RemoteField:
    """A raw field of the remote record, as the contract's `integration_fields` name it: its key
    in the remote system, DEFAULT (the vendor's own) or CUSTOM (the customer's), and its label.
    The contract types an integration field's `value` as null, so no value is carried here."""

    key: str
    type: Literal["DEFAULT", "CUSTOM"]
    label: str | None = None


@dataclass(frozen=True)
class UserRecord:
    remote_id: str
    first_name: str | None
    last_name: str | None
    work_email: str | None
    status: str | None = None  # ACTIVE | INACTIVE
    remote_created_at: datetime | None = None
    remote_data: dict[str, Any] | None = None
    # The customer's own fields of the user, by name (None: the remote has none to give).
    custom_fields: dict[str, Any] | None = None
    integration_fields: tuple[RemoteField, ...] = ()


@dataclass(frozen=True)
class ProviderRecord:
    remote_id: str
    name: str | None
    remote_created_at: datetime | None = None
    remote_data: dict[str, Any] | None = None


@dataclass(frozen=True)
class SkillRecord:
    remote_id: str
    name: str | None
    remote_created_at: datetime | None = None
    remote_data: dict[str, Any] | None = None


@dataclass(frozen=True)
class RevisionRecord:
    remote_id: str
    title: str | None
    description: str | None = None
    remote_url: str | None = None
    status: str | None = None  # ACTIVE | INACTIVE
    remote_created_at: datetime | None = None
    skill_remote_ids: tuple[str, ...] = ()
    remote_data: dict[str, Any] | None = None


@dataclass(frozen=True)
class CourseRecord:
    remote_id: str
    revisions: tuple[RevisionRecord, ...]
    provider_remote_id: str | None = None
    origin_id: str | None = None
    remote_created_at: datetime | None = None
    remote_data: dict[str, Any] | None = None


@dataclass(frozen=True)
class ProgressionRecord:
    remote_id: str
    user_remote_id: str
    revision_remote_id: str
    course_remote_id: str | None = None
    status: str | None = None  # ENROLLED | IN_PROGRESS | COMPLETED | DROPPED
    enrolled_at: datetime | None = None
    completed_at: datetime | None = None
    remote_data: dict[str, Any] | None = None
    # What a write action could not store remotely (the answer's `warnings`); never stored.
    warnings: tuple[str, ...] = field(default=(), compare=False)


@dataclass(frozen=True)
class HrisSkillRecord:
    remote_id: str
    name: str
    description: str | None = None
    ordered_levels: tuple[str, ...] | None = None
    remote_data: dict[str, Any] | None = field(default=None)


Record = UserRecord | ProviderRecord | SkillRecord | CourseRecord | ProgressionRecord | HrisSkillRecord
