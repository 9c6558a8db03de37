"""The unified models, named once: the `Model` enum and what the wire says of each (its label,
its list endpoint, whether data-changed events name it). Connectors and the client read this;
what binds a model to the store (table, record type, PII columns) is in `records/registry.py`."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Model(StrEnum):
    LMS_COURSE_PROVIDERS = "lms_course_providers"
    LMS_SKILLS = "lms_skills"
    LMS_USERS = "lms_users"
    LMS_COURSES = "lms_courses"
    LMS_COURSE_REVISIONS = "lms_course_revisions"
    LMS_SKILL_ASSIGNMENTS = "lms_skill_assignments"
    LMS_COURSE_PROGRESSIONS = "lms_course_progressions"
    HRIS_SKILLS = "hris_skills"


@dataclass(frozen=True)
class ModelInfo:
    label: str  # as `GET /integrations/{id}` names it
    path: str | None = None  # its list endpoint under /v1
    list_name: str | None = None  # the client's name for that list
    synced: bool = True  # read by a sync on its own (revisions and assignments come within courses)
    event: str | None = None  # its name in `data-changed` events (only the contract's LMS models)


# In the order a sync reads them: parents before the records that point at them.
MODELS: dict[Model, ModelInfo] = {
    Model.LMS_COURSE_PROVIDERS: ModelInfo("Course providers", event="lms_course_providers"),
    Model.LMS_SKILLS: ModelInfo("Skills", "/lms/skills", "skills", event="lms_skills"),
    Model.LMS_USERS: ModelInfo("Users", "/lms/users", "users", event="lms_users"),
    Model.LMS_COURSES: ModelInfo("Courses", "/lms/courses", "courses", event="lms_courses"),
    Model.LMS_COURSE_PROGRESSIONS: ModelInfo(
        "Course progressions", "/lms/course-progressions", "progressions", event="lms_course_progressions"
    ),
    Model.HRIS_SKILLS: ModelInfo("Skills (HRIS)", "/hris/skills", "hris_skills"),
    Model.LMS_COURSE_REVISIONS: ModelInfo("Course revisions", synced=False, event="lms_course_revisions"),
    Model.LMS_SKILL_ASSIGNMENTS: ModelInfo("Skill assignments", synced=False),
}

SYNC_MODELS: tuple[Model, ...] = tuple(model for model, info in MODELS.items() if info.synced)
READ_MODEL_LABELS: dict[str, str] = {model: info.label for model, info in MODELS.items()}
EVENT_NAMES: dict[str, str] = {model: info.event for model, info in MODELS.items() if info.event}
LIST_PATHS: dict[str, str] = {
    info.list_name: f"/v1{info.path}" for info in MODELS.values() if info.list_name and info.path
}
