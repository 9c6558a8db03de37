"""The connector protocol: what a connector declares (capabilities, settings) and the write
operations the task engine calls. A connector imports neither the store nor the API."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar, Protocol, TypeVar, cast

from pydantic import BaseModel, ConfigDict, Field

from lmsbridge.connectors.errors import ItemError
from lmsbridge.connectors.records import CourseRecord, ProgressionRecord, Record
from lmsbridge.schemas.models import READ_MODEL_LABELS as READ_MODEL_LABELS

_Service = TypeVar("_Service")


class Coverage(StrEnum):
    SUPPORTED = "SUPPORTED"
    UNSUPPORTED = "UNSUPPORTED"
    NOT_IMPLEMENTED = "NOT_IMPLEMENTED"
    UNKNOWN = "UNKNOWN"


class WriteAction(StrEnum):
    """Write actions by their ids in `GET /integrations/{id}`."""

    UPSERT_COURSES = "lms_upsert_courses"
    UPSERT_SKILLS = "hris_upsert_skills"
    ENROL = "lms_create_course_progression"
    COMPLETE = "lms_complete_course_progression"
    DEACTIVATE_COURSE = "lms_deactivate_course"
    CREATE_SKILL = "hris_create_skill"
    UPDATE_SKILL = "hris_update_skill"
    DELETE_SKILL = "hris_delete_skill"


WRITE_ACTION_LABELS: dict[WriteAction, str] = {
    WriteAction.UPSERT_COURSES: "Upsert courses",
    WriteAction.UPSERT_SKILLS: "Upsert skills",
    WriteAction.ENROL: "Enroll user",
    WriteAction.COMPLETE: "Complete course progression",
    WriteAction.DEACTIVATE_COURSE: "Deactivate course",
    WriteAction.CREATE_SKILL: "Create skill",
    WriteAction.UPDATE_SKILL: "Update skill",
    WriteAction.DELETE_SKILL: "Delete skill",
}


@dataclass(frozen=True)
class ModelCoverage:
    coverage: Coverage
    fields: dict[str, Coverage] = field(default_factory=dict)


@dataclass(frozen=True)
class Capabilities:
    read_models: dict[str, ModelCoverage]
    write_actions: dict[WriteAction, Coverage]
    supports_delta: bool = True

    def can(self, action: WriteAction) -> bool:
        return self.write_actions.get(action) is Coverage.SUPPORTED

    def reads(self, model: str) -> bool:
        coverage = self.read_models.get(model)
        return coverage is not None and coverage.coverage is Coverage.SUPPORTED

    def has_field(self, model: str, field_name: str) -> bool:
        """A field counts as supported unless the model declares it otherwise."""
        coverage = self.read_models.get(model)
        if coverage is None:
            return False
        return coverage.fields.get(field_name, Coverage.SUPPORTED) is Coverage.SUPPORTED


class ConnectorSettings(BaseModel):
    """Per-integration settings (`--setting KEY=VALUE`); each connector narrows this. The
    deletion guard's limits belong to every integration (the sync engine applies them)."""

    model_config = ConfigDict(extra="forbid")

    deletion_guard_share: float = Field(
        0.5,
        gt=0,
        le=1,
        description="A full sync that would mark more than this share of a model's live records "
        "deleted holds those deletions until they are confirmed (1 turns the guard off).",
    )
    deletion_guard_min: int = Field(
        10, ge=1, description="The guard holds only deletions of at least this many records."
    )


@dataclass(frozen=True)
class CourseUpsert:
    origin_id: str
    title: str
    course_url: str
    description: str | None = None
    thumbnail_url: str | None = None
    duration: int | None = None
    languages: tuple[str, ...] | None = None


@dataclass(frozen=True)
class SkillUpsert:
    origin_id: str
    name: str
    status: str = "ACTIVE"


@dataclass(frozen=True)
class SkillWrite:
    """One HRIS skill as `POST /hris/skills` and `PATCH /hris/skills/{id}` give it; on a PATCH,
    None leaves a field as it is."""

    name: str | None = None
    levels: tuple[str, ...] | None = None


@dataclass(frozen=True)
class PassthroughRequest:
    """A caller's request to the remote system's own API, as `POST /passthrough/{tool}/{api}`
    gives it. `path` is relative to the API's base URL; the connector adds authentication."""

    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    data: Any = None
    response_as_base64: bool = False


@dataclass(frozen=True)
class PassthroughResponse:
    """The remote's answer, relayed: `url` is the full address called (secrets redacted)."""

    url: str
    status: int
    headers: dict[str, str]
    data: Any


@dataclass(frozen=True)
class ItemOutcome:
    """One item's result: the remote system's id on success, or the error. `record` is the
    unified record as a sync would read it back, so the store can show the write at once."""

    origin_id: str
    remote_id: str | None = None
    error: ItemError | None = None
    record: Record | None = None


class Connector(Protocol):
    """What every connector provides. Write operations yield one outcome per item, in any order
    and as soon as each is known, so the engine can commit progress while a batch is under way.
    They raise `IntegrationError` when nothing can run (for example, credentials rejected)."""

    tool: ClassVar[str]
    label: ClassVar[str]
    capabilities: ClassVar[Capabilities]
    settings_model: ClassVar[type[ConnectorSettings]]

    def upsert_courses(self, items: Sequence[CourseUpsert]) -> Iterator[ItemOutcome]: ...

    def upsert_skills(self, items: Sequence[SkillUpsert]) -> Iterator[ItemOutcome]: ...

    def read(self, model: str, since: datetime | None) -> Iterator[Sequence[Record]]:
        """Pages of one model's records; with `since`, only those changed since then (delta)."""
        ...

    def enrol(self, user_remote_id: str, revision_remote_id: str) -> ProgressionRecord: ...

    def complete(
        self, progression_remote_id: str, completed_at: datetime, score: int | None
    ) -> ProgressionRecord: ...

    def deactivate_course(self, course_remote_id: str) -> CourseRecord: ...

    def preflight(self) -> list[str]:
        """Cheap remote calls that prove the credentials and permissions work. Raises a
        `ConnectorError` whose message names what to fix; returns warnings."""
        ...

    # api name -> base URL template, formatted with the integration's settings (e.g. {site_url}).
    passthrough_apis: ClassVar[dict[str, str]]

    def passthrough(self, api: str, request: PassthroughRequest) -> PassthroughResponse:
        """Sends `request` to the integration's own remote only, with the connector's
        authentication, pacing and retry."""
        ...

    def create_skill(self, skill: SkillWrite) -> Record: ...

    def update_skill(self, skill_remote_id: str, skill: SkillWrite) -> Record: ...

    def delete_skill(self, skill_remote_id: str) -> None: ...


@dataclass(frozen=True)
class ConnectorContext:
    """What a connector is built from: its integration, settings, credentials, the pacer its
    remote calls take slots from (`connectors.pacing.Pacer`; None: unpaced), the HTTP transport
    (None: the network; tests and emulators may inject one), and the services the caller
    provides by type (a connector that keeps its remote inside lmsbridge, as the Sandbox does,
    asks for its state this way, so the context names no connector)."""

    integration_id: str
    settings: dict[str, Any]
    credentials: dict[str, Any]
    pacer: Any = None
    transport: Any = None
    services: Mapping[type[Any], Any] = field(default_factory=dict)

    def service(self, kind: type[_Service]) -> _Service:
        found = self.services.get(kind)
        if found is None:
            raise LookupError(f"this connector needs a {kind.__name__}, which its caller did not provide")
        return cast(_Service, found)
