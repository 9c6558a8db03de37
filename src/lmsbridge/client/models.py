"""Typed records of the contract, as the client returns them. Every model keeps the answer's
object as `raw`, so a field this version does not name is still reachable. Date-times are parsed
to aware `datetime`s."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal


def _dt(value: Any) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


@dataclass(frozen=True)
class ApiKeyInfo:
    environment_id: str
    customer_id: str | None
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_wire(cls, d: dict[str, Any]) -> ApiKeyInfo:
        return cls(d["environment_id"], d.get("customer_id"), d)


@dataclass(frozen=True)
class Integration:
    id: str
    tool: str
    category: str | None
    status: str
    setup_status: str | None
    created_at: datetime | None
    read_models: list[dict[str, Any]]
    write_actions: list[dict[str, Any]]
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_wire(cls, d: dict[str, Any]) -> Integration:
        tool = d.get("tool")
        return cls(
            d["id"],
            str(tool.get("id") if isinstance(tool, dict) else tool),
            d.get("category"),
            d["status"],
            d.get("setup_status"),
            _dt(d.get("created_at")),
            list(d.get("read_models") or []),
            list(d.get("write_actions") or []),
            d,
        )


@dataclass(frozen=True)
class User:
    id: str
    remote_id: str | None
    first_name: str | None
    last_name: str | None
    work_email: str | None
    status: str | None
    remote_created_at: datetime | None
    remote_deleted_at: datetime | None
    changed_at: datetime | None
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_wire(cls, d: dict[str, Any]) -> User:
        return cls(
            d["id"],
            _str(d.get("remote_id")),
            d.get("first_name"),
            d.get("last_name"),
            d.get("work_email"),
            d.get("status"),
            _dt(d.get("remote_created_at")),
            _dt(d.get("remote_deleted_at")),
            _dt(d.get("changed_at")),
            d,
        )


@dataclass(frozen=True)
class CourseRevision:
    id: str
    remote_id: str | None
    course_id: str | None
    title: str | None
    description: str | None
    remote_url: str | None
    status: str | None
    changed_at: datetime | None
    skill_assignments: list[dict[str, Any]]
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_wire(cls, d: dict[str, Any]) -> CourseRevision:
        return cls(
            d["id"],
            _str(d.get("remote_id")),
            d.get("course_id"),
            d.get("title"),
            d.get("description"),
            d.get("remote_url"),
            d.get("status"),
            _dt(d.get("changed_at")),
            list(d.get("skill_assignments") or []),
            d,
        )


@dataclass(frozen=True)
class Course:
    id: str
    remote_id: str | None
    origin_id: str | None
    provider_id: str | None
    remote_created_at: datetime | None
    remote_deleted_at: datetime | None
    changed_at: datetime | None
    revisions: list[CourseRevision]
    raw: dict[str, Any] = field(repr=False, compare=False)

    @property
    def title(self) -> str | None:
        """The title of the course's latest revision."""
        return self.revisions[-1].title if self.revisions else None

    @classmethod
    def from_wire(cls, d: dict[str, Any]) -> Course:
        return cls(
            d["id"],
            _str(d.get("remote_id")),
            d.get("origin_id"),
            d.get("provider_id"),
            _dt(d.get("remote_created_at")),
            _dt(d.get("remote_deleted_at")),
            _dt(d.get("changed_at")),
            [CourseRevision.from_wire(r) for r in d.get("revisions") or []],
            d,
        )


@dataclass(frozen=True)
class CourseProgression:
    id: str
    remote_id: str | None
    user_id: str
    course_revision_id: str
    status: str | None
    enrolled_at: datetime | None
    completed_at: datetime | None
    changed_at: datetime | None
    remote_deleted_at: datetime | None
    user: dict[str, Any] | None
    course_revision: dict[str, Any] | None
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_wire(cls, d: dict[str, Any]) -> CourseProgression:
        return cls(
            d["id"],
            _str(d.get("remote_id")),
            d["user_id"],
            d["course_revision_id"],
            d.get("status"),
            _dt(d.get("enrolled_at")),
            _dt(d.get("completed_at")),
            _dt(d.get("changed_at")),
            _dt(d.get("remote_deleted_at")),
            d.get("user"),
            d.get("course_revision"),
            d,
        )


@dataclass(frozen=True)
class Skill:
    """A skill of the LMS (`GET /lms/skills`)."""

    id: str
    remote_id: str | None
    name: str | None
    remote_deleted_at: datetime | None
    changed_at: datetime | None
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_wire(cls, d: dict[str, Any]) -> Skill:
        return cls(
            d["id"],
            _str(d.get("remote_id")),
            d.get("name"),
            _dt(d.get("remote_deleted_at")),
            _dt(d.get("changed_at")),
            d,
        )


@dataclass(frozen=True)
class HrisSkill:
    """A skill of the HRIS side (`GET /hris/skills`)."""

    id: str
    remote_id: str | None
    name: str | None
    description: str | None
    ordered_levels: list[Any] | None
    remote_deleted_at: datetime | None
    changed_at: datetime | None
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_wire(cls, d: dict[str, Any]) -> HrisSkill:
        return cls(
            d["id"],
            _str(d.get("remote_id")),
            d.get("name"),
            d.get("description"),
            d.get("ordered_levels"),
            _dt(d.get("remote_deleted_at")),
            _dt(d.get("changed_at")),
            d,
        )


@dataclass(frozen=True)
class ErrorInfo:
    code: str | None
    title: str | None
    message: str
    log_url: str | None

    @classmethod
    def from_wire(cls, d: dict[str, Any] | None) -> ErrorInfo | None:
        if not d:
            return None
        return cls(d.get("code"), d.get("title"), str(d.get("message") or ""), d.get("log_url"))


@dataclass(frozen=True)
class TaskItemResult:
    origin_id: str
    status: Literal["SUCCEEDED", "FAILED"]
    data: dict[str, Any] | None
    error: ErrorInfo | None

    @property
    def id(self) -> str | None:
        """The id of the written course or skill, when the item succeeded."""
        return None if not self.data else self.data.get("id")

    @classmethod
    def from_wire(cls, d: dict[str, Any]) -> TaskItemResult:
        return cls(d["origin_id"], d["status"], d.get("data"), ErrorInfo.from_wire(d.get("error")))


@dataclass(frozen=True)
class TaskProgress:
    total: int
    succeeded: int
    failed: int
    percent: int

    @property
    def done(self) -> int:
        return self.succeeded + self.failed


@dataclass(frozen=True)
class Task:
    task_id: str
    status: Literal["PENDING", "COMPLETED", "FAILED"]
    created_at: datetime | None
    completed_at: datetime | None
    progress: TaskProgress | None
    data: list[TaskItemResult] | None
    error: ErrorInfo | None
    raw: dict[str, Any] = field(repr=False, compare=False)

    @property
    def finished(self) -> bool:
        return self.status != "PENDING"

    @property
    def failed_items(self) -> list[TaskItemResult]:
        return [item for item in self.data or [] if item.status == "FAILED"]

    @classmethod
    def from_wire(cls, d: dict[str, Any]) -> Task:
        p = d.get("progress")
        progress = (
            TaskProgress(int(p["total"]), int(p["succeeded"]), int(p["failed"]), int(p["percent"]))
            if isinstance(p, dict)
            else None
        )
        data = d.get("data")
        return cls(
            d["task_id"],
            d["status"],
            _dt(d.get("created_at")),
            _dt(d.get("completed_at")),
            progress,
            None if data is None else [TaskItemResult.from_wire(item) for item in data],
            ErrorInfo.from_wire(d.get("error")),
            d,
        )


@dataclass(frozen=True)
class TaskCreated:
    """What a bulk submit answers: the task's id, and warnings (e.g. that an identical submit
    returned the existing task)."""

    task_id: str
    warnings: list[str]
    kind: Literal["courses", "skills"]


@dataclass(frozen=True)
class SyncRequested:
    sync_id: str
    type: str
    already_queued: bool


@dataclass(frozen=True)
class SyncRun:
    """Extension (`GET /v1/syncs/{id}`): one sync run."""

    sync_id: str
    state: str
    type: str
    created_at: datetime | None
    started_at: datetime | None
    ended_at: datetime | None
    counts: dict[str, Any]
    error: str | None

    @property
    def finished(self) -> bool:
        return self.state not in ("QUEUED", "RUNNING")

    @classmethod
    def from_wire(cls, d: dict[str, Any]) -> SyncRun:
        return cls(
            d["sync_id"],
            d["state"],
            d["type"],
            _dt(d.get("created_at")),
            _dt(d.get("started_at")),
            _dt(d.get("ended_at")),
            dict(d.get("counts") or {}),
            d.get("error"),
        )


@dataclass(frozen=True)
class CourseInput:
    """One course of a bulk upsert; `to_wire` gives the item the API takes."""

    origin_id: str
    title: str
    course_url: str
    description: str | None = None
    thumbnail_url: str | None = None
    duration: int | None = None
    languages: list[str] | None = None

    def to_wire(self) -> dict[str, Any]:
        course: dict[str, Any] = {"type": "EXTERNAL", "title": self.title, "course_url": self.course_url}
        for name in ("description", "thumbnail_url", "duration", "languages"):
            value = getattr(self, name)
            if value is not None:
                course[name] = value
        return {"origin_id": self.origin_id, "course": course}


@dataclass(frozen=True)
class SkillInput:
    origin_id: str
    name: str
    status: Literal["ACTIVE", "INACTIVE"] = "ACTIVE"

    def to_wire(self) -> dict[str, Any]:
        return {"origin_id": self.origin_id, "name": self.name, "status": self.status}
