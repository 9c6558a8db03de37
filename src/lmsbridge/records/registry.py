"""The model registry: one spec per unified model, binding it to the store. Every list of models
(the writer's tables, the anonymiser's blanked columns, the read endpoints, the sync order, the
events) is read from here and from `schemas.models`; adding a model is one spec and one migration."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Select, Table

from lmsbridge.connectors.records import (
    CourseRecord,
    HrisSkillRecord,
    ProgressionRecord,
    ProviderRecord,
    Record,
    SkillRecord,
    UserRecord,
)
from lmsbridge.db import tables as t
from lmsbridge.records import queries as q
from lmsbridge.schemas import records as wire
from lmsbridge.schemas.models import MODELS, Model, ModelInfo


@dataclass(frozen=True)
class Filter:
    """A list filter: the column it matches, how values are normalised, and the model field an
    integration must support for the filter to apply (None: always supported)."""

    column: str
    field: str | None = None
    lower: bool = False
    contains: bool = False


Serializer = Callable[[Connection, list[Any], bool], list[dict[str, Any]]]


@dataclass(frozen=True)
class ModelSpec:
    model: Model
    table: Table
    record_type: type[Record] | None  # what a connector yields (None: it comes within another model)
    pii: tuple[str, ...]  # the columns the anonymiser blanks
    filters: dict[str, Filter] = field(default_factory=dict)  # of its list endpoint
    serialize: Serializer | None = None  # rows in the contract's shape (None: no list endpoint)
    paged_query: Callable[[Table], Select[Any]] | None = None  # joins its list endpoint needs
    wire: type | None = None  # its shape in list answers (a dataclass of schemas/records.py)

    @property
    def info(self) -> ModelInfo:
        return MODELS[self.model]

    @property
    def name(self) -> str:
        return self.model.value


_IDS = {"ids": Filter("id"), "remote_ids": Filter("remote_id")}

SPECS: dict[Model, ModelSpec] = {
    spec.model: spec
    for spec in (
        ModelSpec(
            Model.LMS_USERS,
            t.lms_users,
            UserRecord,
            # custom_fields hold the customer's own values of a person (badge or national numbers...).
            (
                "first_name",
                "last_name",
                "work_email",
                "work_email_lower",
                "status",
                "remote_data",
                "custom_fields",
                "integration_fields",
            ),
            {**_IDS, "work_emails": Filter("work_email_lower", field="work_email", lower=True)},
            q.users,
            wire=wire.User,
        ),
        ModelSpec(
            Model.LMS_COURSE_PROVIDERS, t.lms_course_providers, ProviderRecord, ("name", "remote_data")
        ),
        ModelSpec(
            Model.LMS_SKILLS,
            t.lms_skills,
            SkillRecord,
            ("name", "remote_data"),
            dict(_IDS),
            q.lms_skills,
            wire=wire.Skill,
        ),
        ModelSpec(
            Model.LMS_COURSES,
            t.lms_courses,
            CourseRecord,
            ("origin_id", "remote_data"),
            dict(_IDS),
            q.courses,
            wire=wire.Course,
        ),
        ModelSpec(
            Model.LMS_COURSE_REVISIONS,
            t.lms_course_revisions,
            None,
            ("title", "description", "remote_url", "status", "remote_data"),
        ),
        ModelSpec(
            Model.LMS_COURSE_PROGRESSIONS,
            t.lms_course_progressions,
            ProgressionRecord,
            ("status", "enrolled_at", "completed_at", "remote_data"),
            {
                **_IDS,
                "user_ids": Filter("user_id", field="user_id"),
                "course_ids": Filter("course_id", field="course_id"),
            },
            q.progressions,
            q.progressions_query,
            wire=wire.CourseProgression,
        ),
        ModelSpec(
            Model.HRIS_SKILLS,
            t.hris_skills,
            HrisSkillRecord,
            ("name", "description", "ordered_levels", "remote_data"),
            {**_IDS, "name_contains": Filter("name", field="name", contains=True)},
            q.hris_skills,
            wire=wire.HrisSkill,
        ),
    )
}

# Views other modules read (keyed by the model's name, which a plain string also matches).
TABLES: dict[str, Table] = {spec.name: spec.table for spec in SPECS.values()}
BLANKED: dict[str, tuple[str, ...]] = {spec.name: spec.pii for spec in SPECS.values()}
LISTED: dict[str, ModelSpec] = {spec.name: spec for spec in SPECS.values() if spec.serialize is not None}
