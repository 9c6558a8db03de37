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
from typing import Any, ClassVar, Literal, Self, TypeAlias, Union

from lmsbridge.schemas import integrations, records, syncs, tasks
from lmsbridge.schemas.errors import ErrorBody


def _dt(value: Any) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _parse(hint: Any, value: Any) -> Any:
    """A wire value as the type its shape declares: date-times parsed, nested shapes built.
    Lenient, as a client should be: a missing field is None, and nothing else is checked."""
    if value is None:
        return [] if typing.get_origin(hint) is list else None
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    origin = typing.get_origin(hint)
    if origin in (Union, UnionType) and len(args) == 1:
        return _parse(args[0], value)
    if origin in (Union, UnionType) and isinstance(value, dict) and _is_shape(hint):
        return _variant(args, value)
    if origin is list and args and _is_shape(args[0]):
        return [_parse(args[0], item) for item in value]
    if hint is datetime:
        return _dt(value)
    if hint is str:
        return str(value)  # e.g. a remote_id some LMS sends as a number
    if isinstance(hint, type) and dataclasses.is_dataclass(hint) and isinstance(value, dict):
        return _record(_CLIENT_RECORDS.get(hint, hint), value)
    return value


def _is_shape(hint: Any) -> bool:
    """A dataclass, or a union of dataclasses (told apart by their Literal fields)."""
    if typing.get_origin(hint) in (Union, UnionType):
        return all(dataclasses.is_dataclass(a) for a in typing.get_args(hint))
    return dataclasses.is_dataclass(hint)


def _variant(variants: typing.Sequence[Any], d: dict[str, Any]) -> Any:
    """The object as the one variant of a tagged union (the task states, the item outcomes)
    whose Literal fields, such as `status`, all hold the object's values."""
    for shape in variants:
        cls = _CLIENT_RECORDS.get(shape, shape)
        literals = {n: h for n, h in _hints(cls).items() if typing.get_origin(h) is Literal}
        if all(d.get(name) in typing.get_args(hint) for name, hint in literals.items()):
            return _record(cls, d)
    names = ", ".join(v.__name__ for v in variants)
    raise ValueError(f"the answer's object is none of {names}: status {d.get('status')!r}")


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


@dataclass(frozen=True, kw_only=True)
class Integration(integrations.IntegrationDetails, _FromWire):
    """`GET /integrations/{id}`: `tool` is the tool object (`integration.tool.id`, `.label`, ...)."""

    raw: dict[str, Any] = field(repr=False, compare=False)


# A nested shape the client extends is built as the client's class.
_CLIENT_RECORDS: dict[Any, type] = {records.CourseRevision: CourseRevision}


# An error object (of a failed task or item) is the shared shape itself: the client adds nothing.
ErrorInfo = ErrorBody


class _TaskState(_FromWire):
    """What the three states of a task share beyond their wire fields: `finished`, and the items
    by outcome (empty until the task is COMPLETED)."""

    finished: ClassVar[bool] = True

    @property
    def failed_items(self) -> list[tasks.ItemFailed]:
        return []

    @property
    def succeeded_items(self) -> list[tasks.ItemSucceeded]:
        return []


@dataclass(frozen=True, kw_only=True)
class TaskPending(tasks.TaskPending, _TaskState):
    """A task still running; `data` and `error` read None."""

    finished: ClassVar[bool] = False
    raw: dict[str, Any] = field(repr=False, compare=False)

    @property
    def data(self) -> None:
        return None

    @property
    def error(self) -> None:
        return None


@dataclass(frozen=True, kw_only=True)
class TaskCompleted(tasks.TaskCompleted, _TaskState):
    """Every item has an outcome, in `data`; `error` reads None."""

    raw: dict[str, Any] = field(repr=False, compare=False)

    @property
    def error(self) -> None:
        return None

    @property
    def failed_items(self) -> list[tasks.ItemFailed]:
        return [item for item in self.data if isinstance(item, tasks.ItemFailed)]

    @property
    def succeeded_items(self) -> list[tasks.ItemSucceeded]:
        return [item for item in self.data if isinstance(item, tasks.ItemSucceeded)]


@dataclass(frozen=True, kw_only=True)
class TaskFailed(tasks.TaskFailed, _TaskState):
    """Nothing ran: `error` says why; `data` reads None."""

    raw: dict[str, Any] = field(repr=False, compare=False)

    @property
    def data(self) -> None:
        return None


# A task as `client.tasks.get` answers it: one of its three wire states. Narrow it with
# `isinstance` (or on `status`) to reach what only one state has.
Task: TypeAlias = TaskPending | TaskCompleted | TaskFailed
TaskItemResult: TypeAlias = tasks.ItemSucceeded | tasks.ItemFailed


def task_from_wire(d: dict[str, Any]) -> Task:
    """The state of the task the answer's object is in, by its `status`."""
    return typing.cast(Task, _variant((TaskPending, TaskCompleted, TaskFailed), d))


@dataclass(frozen=True, kw_only=True)
class TaskCreated(tasks.TaskCreated):
    """What a bulk submit answers: the task's id, the envelope's warnings (e.g. that an identical
    submit returned the existing task), and which kind of task it is."""

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
