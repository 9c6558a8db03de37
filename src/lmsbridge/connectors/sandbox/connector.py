"""The Sandbox connector: a simulated LMS whose state persists in the store (through
`SandboxState`, which the caller supplies, so this module never imports the store). Its settings
size its data and inject latency and failures, so every path can be seen through the public API."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any, ClassVar, Protocol, TypeVar

from pydantic import Field, field_validator

from lmsbridge.connectors.base import (
    READ_MODEL_LABELS,
    Capabilities,
    ConnectorContext,
    ConnectorSettings,
    CourseUpsert,
    Coverage,
    ItemOutcome,
    ModelCoverage,
    SkillUpsert,
    WriteAction,
)
from lmsbridge.connectors.errors import AuthenticationInvalidError, ConnectorError, ItemError
from lmsbridge.connectors.records import (
    CourseRecord,
    HrisSkillRecord,
    ProgressionRecord,
    ProviderRecord,
    Record,
    RevisionRecord,
    SkillRecord,
    UserRecord,
)
from lmsbridge.errors import ErrorCode


class SandboxState(Protocol):
    """Where the simulated LMS keeps its records (implemented by sandbox/repository.py)."""

    def upsert_courses(
        self, integration_id: str, rows: list[tuple[str, dict[str, Any]]]
    ) -> dict[str, Any]: ...

    def upsert_skills(
        self, integration_id: str, rows: list[tuple[str, dict[str, Any]]]
    ) -> dict[str, Any]: ...

    def ensure_generated(self, integration_id: str, size: Any) -> None: ...

    def pages(
        self, integration_id: str, model: str, since: datetime | None, page_size: int
    ) -> Iterator[list[tuple[str, dict[str, Any]]]]: ...

    def written(self, table_name: str, integration_id: str, since: datetime | None) -> list[Any]: ...

    def get(self, integration_id: str, model: str, remote_id: str) -> dict[str, Any] | None: ...

    def put(self, integration_id: str, model: str, remote_id: str, data: dict[str, Any]) -> None: ...

    def set_written_course_active(self, integration_id: str, remote_id: str, active: bool) -> Any: ...

    def find_progression(
        self, integration_id: str, user_remote_id: str, revision_remote_id: str
    ) -> tuple[str, dict[str, Any]] | None: ...


class SandboxSettings(ConnectorSettings):
    users: int = Field(50, ge=1, le=2_000_000, description="Users in the simulated LMS.")
    courses: int = Field(20, ge=1, le=200_000, description="Courses (every fifth has two revisions).")
    progressions: int = Field(200, ge=0, le=5_000_000, description="Course progressions.")
    seed: int = Field(1, description="Same seed and sizes, same data.")
    latency_ms: int = Field(0, ge=0, le=60_000, description="Simulated time per remote write.")
    fail_origin_ids: list[str] = Field(
        default_factory=list, description="Items that fail with REMOTE.INPUT_INVALID."
    )
    failure_rate: float = Field(
        0.0,
        ge=0.0,
        le=1.0,
        description="Share of items that fail with REMOTE.UNKNOWN_HTTP_ERROR; chosen by a hash of the "
        "origin_id, so the same items fail on every run.",
    )
    auth_invalid: bool = Field(False, description="Every task, sync and action fails: credentials rejected.")
    page_size: int = Field(
        1000, ge=1, le=10_000, description="Records per page when a sync reads the Sandbox."
    )
    fail_read_models: list[str] = Field(
        default_factory=list,
        description="Models whose sync read fails with REMOTE.SERVICE_UNAVAILABLE after the first page.",
    )

    @field_validator("fail_origin_ids", "fail_read_models", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value


_Item = TypeVar("_Item", CourseUpsert, SkillUpsert)


def _dt(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def _status(active: bool) -> str:
    return "ACTIVE" if active else "INACTIVE"


def written_course(
    remote_id: str, origin_id: str, data: dict[str, Any], active: bool, created: datetime
) -> CourseRecord:
    """A course written through the API, as the Sandbox shows it: one revision, the deep link kept."""
    extra = {k: data.get(k) for k in ("thumbnail_url", "duration", "languages") if data.get(k) is not None}
    return CourseRecord(
        remote_id=remote_id,
        origin_id=origin_id,
        remote_created_at=created,
        revisions=(
            RevisionRecord(
                remote_id=f"{remote_id}-r1",
                title=data["title"],
                description=data.get("description"),
                remote_url=data["course_url"],
                status=_status(active),
                remote_created_at=created,
                remote_data=extra or None,
            ),
        ),
    )


def generated_course(remote_id: str, data: dict[str, Any]) -> CourseRecord:
    return CourseRecord(
        remote_id=remote_id,
        provider_remote_id=data.get("provider"),
        remote_created_at=_dt(data.get("created")),
        revisions=tuple(
            RevisionRecord(
                remote_id=r["id"],
                title=r["title"],
                description=r.get("description"),
                remote_url=r.get("url"),
                status=_status(r.get("active", True)),
                remote_created_at=_dt(r.get("created")),
                skill_remote_ids=tuple(r.get("skills", ())),
            )
            for r in data["revisions"]
        ),
    )


def progression(remote_id: str, data: dict[str, Any]) -> ProgressionRecord:
    return ProgressionRecord(
        remote_id=remote_id,
        user_remote_id=data["user"],
        revision_remote_id=data["revision"],
        course_remote_id=data.get("course"),
        status=data.get("state"),
        enrolled_at=_dt(data.get("enrolled")),
        completed_at=_dt(data.get("completed")),
    )


def _map(model: str, remote_id: str, data: dict[str, Any]) -> Record:
    if model == "lms_users":
        return UserRecord(
            remote_id,
            data["first_name"],
            data["last_name"],
            data["email"],
            _status(data.get("active", True)),
            _dt(data.get("created")),
        )
    if model == "lms_course_providers":
        return ProviderRecord(remote_id, data["name"], _dt(data.get("created")))
    if model == "lms_skills":
        return SkillRecord(remote_id, data["name"], _dt(data.get("created")))
    if model == "lms_courses":
        return generated_course(remote_id, data)
    if model == "lms_course_progressions":
        return progression(remote_id, data)
    return HrisSkillRecord(
        remote_id, data["name"], data.get("description"), tuple(data.get("levels") or ()) or None
    )


class SandboxConnector:
    tool: ClassVar[str] = "sandbox"
    label: ClassVar[str] = "Sandbox"
    settings_model: ClassVar[type[ConnectorSettings]] = SandboxSettings
    capabilities: ClassVar[Capabilities] = Capabilities(
        read_models={model: ModelCoverage(Coverage.SUPPORTED) for model in READ_MODEL_LABELS},
        write_actions=dict.fromkeys(WriteAction, Coverage.SUPPORTED),
    )

    def __init__(self, context: ConnectorContext) -> None:
        self.integration_id = context.integration_id
        self.settings = SandboxSettings.model_validate(context.settings)
        if context.sandbox_state is None:
            raise ValueError("the Sandbox connector needs its state")
        self.state: SandboxState = context.sandbox_state

    def _check_credentials(self) -> None:
        if self.settings.auth_invalid:
            raise AuthenticationInvalidError(
                "The Sandbox rejected the integration's credentials (setting auth_invalid=true)."
            )

    def _size(self) -> Any:
        from lmsbridge.sandbox.generator import SandboxSize

        s = self.settings
        return SandboxSize(users=s.users, courses=s.courses, progressions=s.progressions, seed=s.seed)

    # -- reads ---------------------------------------------------------------------------------------
    def read(self, model: str, since: datetime | None) -> Iterator[Sequence[Record]]:
        self._check_credentials()
        self.state.ensure_generated(self.integration_id, self._size())
        for number, page in enumerate(
            self.state.pages(self.integration_id, model, since, self.settings.page_size)
        ):
            if number and model in self.settings.fail_read_models:
                raise ConnectorError(
                    f"The Sandbox failed while reading {model} (setting fail_read_models).",
                    code=ErrorCode.REMOTE_SERVICE_UNAVAILABLE,
                )
            yield [_map(model, remote_id, data) for remote_id, data in page]
        if model == "lms_courses":
            rows = self.state.written("courses", self.integration_id, since)
            for start in range(0, len(rows), 1000):
                yield [
                    written_course(r.remote_id, r.origin_id, r.data, r.active, r.created_at)
                    for r in rows[start : start + 1000]
                ]
        elif model == "hris_skills":
            rows = self.state.written("skills", self.integration_id, since)
            for start in range(0, len(rows), 1000):
                yield [
                    HrisSkillRecord(r.remote_id, r.data["name"], remote_data={"status": r.data.get("status")})
                    for r in rows[start : start + 1000]
                ]

    # -- bulk writes ---------------------------------------------------------------------------------
    def upsert_courses(self, items: Sequence[CourseUpsert]) -> Iterator[ItemOutcome]:
        def record(item: CourseUpsert, written: Any) -> Record:
            return written_course(written[0], item.origin_id, asdict(item), True, written[1])

        return self._upsert(items, self.state.upsert_courses, record)

    def upsert_skills(self, items: Sequence[SkillUpsert]) -> Iterator[ItemOutcome]:
        def record(item: SkillUpsert, written: Any) -> Record:
            return HrisSkillRecord(written[0], item.name, remote_data={"status": item.status})

        return self._upsert(items, self.state.upsert_skills, record)

    def _upsert(
        self,
        items: Sequence[_Item],
        write: Callable[[str, list[tuple[str, dict[str, Any]]]], dict[str, Any]],
        record: Callable[[_Item, Any], Record],
    ) -> Iterator[ItemOutcome]:
        self._check_credentials()
        for chunk in self._chunks(items):
            if self.settings.latency_ms:
                time.sleep(self.settings.latency_ms * len(chunk) / 1000)
            accepted = []
            for item in chunk:
                error = self._injected_failure(item.origin_id)
                if error is not None:
                    yield ItemOutcome(item.origin_id, error=error)
                else:
                    accepted.append(item)
            written = write(self.integration_id, [(item.origin_id, asdict(item)) for item in accepted])
            for item in accepted:
                remote_id = written[item.origin_id][0]
                yield ItemOutcome(
                    item.origin_id, remote_id=remote_id, record=record(item, written[item.origin_id])
                )

    def _chunks(self, items: Sequence[_Item]) -> Iterator[Sequence[_Item]]:
        # With latency, small chunks, so outcomes reach the store about four times a second.
        size = 500 if not self.settings.latency_ms else max(1, 250 // self.settings.latency_ms)
        for start in range(0, len(items), size):
            yield items[start : start + size]

    def _injected_failure(self, origin_id: str) -> ItemError | None:
        if origin_id in self.settings.fail_origin_ids:
            return ItemError(
                f"The Sandbox rejected item {origin_id!r} (it is listed in fail_origin_ids).",
                code=ErrorCode.REMOTE_INPUT_INVALID,
            )
        if self.settings.failure_rate:
            digest = hashlib.sha256(f"{self.integration_id}/{origin_id}".encode()).digest()
            if int.from_bytes(digest[:8], "big") / 2**64 < self.settings.failure_rate:
                return ItemError(
                    "The Sandbox answered with an unexpected error (setting failure_rate).",
                    code=ErrorCode.REMOTE_UNKNOWN_HTTP_ERROR,
                )
        return None

    # -- direct actions ------------------------------------------------------------------------------
    def _begin_action(self) -> None:
        """Every direct action: credentials checked, then latency_ms, as for each item of a bulk write."""
        self._check_credentials()
        if self.settings.latency_ms:
            time.sleep(self.settings.latency_ms / 1000)

    def _revision_course(self, revision_remote_id: str) -> tuple[str, bool] | None:
        """The course remote id of a revision and whether the course takes enrolments (it has
        not been deactivated), or None when the Sandbox has no such revision."""
        course_remote_id = revision_remote_id.rsplit("-r", 1)[0]
        data = self.state.get(self.integration_id, "lms_courses", course_remote_id)
        if data is not None:
            if not any(r["id"] == revision_remote_id for r in data["revisions"]):
                return None
            # Deactivating a course deactivates every revision; older editions alone are inactive.
            return course_remote_id, any(r.get("active") for r in data["revisions"])
        rows = [
            r
            for r in self.state.written("courses", self.integration_id, None)
            if r.remote_id == course_remote_id
        ]
        if not rows or revision_remote_id != f"{course_remote_id}-r1":
            return None
        return course_remote_id, bool(rows[0].active)

    def enrol(self, user_remote_id: str, revision_remote_id: str) -> ProgressionRecord:
        self._begin_action()
        if self.state.get(self.integration_id, "lms_users", user_remote_id) is None:
            raise ItemError(
                f"The Sandbox has no user {user_remote_id!r}.", code=ErrorCode.REMOTE_INPUT_INVALID
            )
        found = self._revision_course(revision_remote_id)
        if found is None:
            raise ItemError(
                f"The Sandbox has no course revision {revision_remote_id!r}.",
                code=ErrorCode.REMOTE_INPUT_INVALID,
            )
        course_remote_id, open_for_enrolment = found
        # One enrolment per user and revision, whether the Sandbox generated it or an earlier
        # call made it: enrolling again returns that progression.
        existing = self.state.find_progression(self.integration_id, user_remote_id, revision_remote_id)
        if existing is not None:
            return progression(*existing)
        if not open_for_enrolment:
            raise ItemError(
                f"The course {course_remote_id!r} is deactivated: it takes no new enrolments.",
                code=ErrorCode.REMOTE_INPUT_INVALID,
            )
        remote_id = f"enr-{user_remote_id}-{revision_remote_id}"
        data = self.state.get(self.integration_id, "lms_course_progressions", remote_id)
        if data is None:
            data = {
                "user": user_remote_id,
                "revision": revision_remote_id,
                "course": course_remote_id,
                "state": "ENROLLED",
                "enrolled": datetime.now(UTC).isoformat(),
                "completed": None,
                "score": None,
            }
            self.state.put(self.integration_id, "lms_course_progressions", remote_id, data)
        return progression(remote_id, data)

    def complete(
        self, progression_remote_id: str, completed_at: datetime, score: int | None
    ) -> ProgressionRecord:
        self._begin_action()
        data = self.state.get(self.integration_id, "lms_course_progressions", progression_remote_id)
        if data is None:
            raise ItemError(
                f"The Sandbox has no progression {progression_remote_id!r}.",
                code=ErrorCode.REMOTE_INPUT_INVALID,
            )
        data.update(state="COMPLETED", completed=completed_at.isoformat(), score=score)
        self.state.put(self.integration_id, "lms_course_progressions", progression_remote_id, data)
        return progression(progression_remote_id, data)

    def deactivate_course(self, course_remote_id: str) -> CourseRecord:
        self._begin_action()
        data = self.state.get(self.integration_id, "lms_courses", course_remote_id)
        if data is not None:
            for revision in data["revisions"]:
                revision["active"] = False
            self.state.put(self.integration_id, "lms_courses", course_remote_id, data)
            return generated_course(course_remote_id, data)
        row = self.state.set_written_course_active(self.integration_id, course_remote_id, False)
        if row is None:
            raise ItemError(
                f"The Sandbox has no course {course_remote_id!r}.", code=ErrorCode.REMOTE_INPUT_INVALID
            )
        return written_course(row.remote_id, row.origin_id, row.data, row.active, row.created_at)
