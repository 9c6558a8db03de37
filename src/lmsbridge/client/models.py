"""Typed records of the contract, as the client returns them. Every model keeps the answer's
object as `raw`, so a field this version does not name is still reachable. Date-times are parsed
to aware `datetime`s."""

from __future__ import annotations

import dataclasses
import functools
import typing
from dataclasses import dataclass, field
from datetime import datetime
from types import UnionType
from typing import Any, Literal, Self, Union

from lmsbridge.schemas import integrations, records, syncs


def _dt(value: Any) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


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


def _parse(hint: Any, value: Any) -> Any:
    """A wire value as the type its shape declares: date-times parsed, nested shapes built.
    Lenient, as a client should be: a missing field is None, and nothing else is checked."""
    if value is None:
        return [] if typing.get_origin(hint) is list else None
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    origin = typing.get_origin(hint)
    if origin in (Union, UnionType) and len(args) == 1:
        return _parse(args[0], value)
    if origin is list and args and dataclasses.is_dataclass(args[0]):
        return [_parse(args[0], item) for item in value]
    if hint is datetime:
        return _dt(value)
    if hint is str:
        return str(value)  # e.g. a remote_id some LMS sends as a number
    if isinstance(hint, type) and dataclasses.is_dataclass(hint) and isinstance(value, dict):
        return _record(_CLIENT_RECORDS.get(hint, hint), value)
    return value


def _record(cls: Any, d: dict[str, Any]) -> Any:
    hints = _hints(cls)
    names = [f.name for f in dataclasses.fields(cls) if f.name != "raw"]
    values = {name: _parse(hints[name], d.get(name)) for name in names}
    if "raw" in hints:
        values["raw"] = d
    return cls(**values)


@functools.cache
def _hints(cls: Any) -> dict[str, Any]:
    return typing.get_type_hints(cls)


class _FromWire:
    @classmethod
    def from_wire(cls, d: dict[str, Any]) -> Self:
        return typing.cast(Self, _record(cls, d))


# The records below are the wire shapes of schemas/ (one definition for the server and the
# client), each with the answer's object as `raw`.


@dataclass(frozen=True, kw_only=True)
class User(records.User, _FromWire):
    raw: dict[str, Any] = field(repr=False, compare=False)


@dataclass(frozen=True, kw_only=True)
class CourseRevision(records.CourseRevision, _FromWire):
    raw: dict[str, Any] = field(repr=False, compare=False)


@dataclass(frozen=True, kw_only=True)
class Course(records.Course, _FromWire):
    # The client's revisions, with their `raw` (the list is the client's own: nothing puts a bare
    # shape in it, so narrowing the invariant list is safe).
    revisions: list[CourseRevision]  # type: ignore[assignment]
    raw: dict[str, Any] = field(repr=False, compare=False)

    @property
    def title(self) -> str | None:
        """The title of the course's latest revision."""
        return self.revisions[-1].title if self.revisions else None


@dataclass(frozen=True, kw_only=True)
class CourseProgression(records.CourseProgression, _FromWire):
    raw: dict[str, Any] = field(repr=False, compare=False)


@dataclass(frozen=True, kw_only=True)
class Skill(records.Skill, _FromWire):
    """A skill of the LMS (`GET /lms/skills`)."""

    raw: dict[str, Any] = field(repr=False, compare=False)


@dataclass(frozen=True, kw_only=True)
class HrisSkill(records.HrisSkill, _FromWire):
    """A skill of the HRIS side (`GET /hris/skills`)."""

    raw: dict[str, Any] = field(repr=False, compare=False)


@dataclass(frozen=True, kw_only=True)
class ApiKeyInfo(integrations.ApiKeyCheck, _FromWire):
    raw: dict[str, Any] = field(repr=False, compare=False)


# A nested shape the client extends is built as the client's class.
_CLIENT_RECORDS: dict[Any, type] = {records.CourseRevision: CourseRevision}


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


@dataclass(frozen=True, kw_only=True)
class SyncRequested(syncs.SyncRequested, _FromWire):
    raw: dict[str, Any] = field(repr=False, compare=False)


@dataclass(frozen=True, kw_only=True)
class SyncRun(syncs.SyncRun, _FromWire):
    """Extension (`GET /v1/syncs/{id}`): one sync run."""

    raw: dict[str, Any] = field(repr=False, compare=False)

    @property
    def finished(self) -> bool:
        return self.state not in ("QUEUED", "RUNNING")


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
