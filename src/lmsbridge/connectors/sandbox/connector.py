"""The Sandbox connector: a simulated LMS whose state persists in the store (through
`SandboxState`, a service its caller provides, so this module never imports the store). It reads
every model with delta, writes courses and skills, and offers every direct action."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlsplit

from pydantic import BaseModel

from lmsbridge.connectors.base import (
    ConnectorContext,
    ConnectorSettings,
    NoCredentials,
    PassthroughRequest,
    PassthroughResponse,
    SkillWrite,
    WriteAction,
)
from lmsbridge.connectors.connector import BaseConnector
from lmsbridge.connectors.errors import AuthenticationInvalidError, ItemError
from lmsbridge.connectors.passthrough import target_url, unknown_api
from lmsbridge.connectors.records import CourseRecord, ProgressionRecord, Record
from lmsbridge.connectors.sandbox import mapping, streams, writers
from lmsbridge.connectors.sandbox.settings import SandboxSettings
from lmsbridge.connectors.sandbox.state import SandboxState
from lmsbridge.errors import ErrorCode
from lmsbridge.ids import new_id

__all__ = ["SandboxConnector", "SandboxSettings", "SandboxState"]

SETUP_TEXT = """\
1. Nothing to set up: the Sandbox is a simulated LMS inside lmsbridge, with generated users,
   courses and progressions.
2. Optionally choose how many records it holds (under *More settings*), then connect.
"""


# The Sandbox's own REST API, answered in-process (see `SandboxConnector.passthrough`).
SANDBOX_API = "https://sandbox.lmsbridge.invalid/api/v1"
_PASSTHROUGH_MODELS = {
    "users": "lms_users",
    "course-providers": "lms_course_providers",
    "courses": "lms_courses",
    "skills": "lms_skills",
    "course-progressions": "lms_course_progressions",
    "hris-skills": "hris_skills",
}


def _no_skill(remote_id: str) -> ItemError:
    return ItemError(f"The Sandbox has no skill {remote_id!r}.", code=ErrorCode.REMOTE_INPUT_INVALID)


class SandboxConnector(BaseConnector[SandboxSettings]):
    tool: ClassVar[str] = "sandbox"
    label: ClassVar[str] = "Sandbox"
    passthrough_apis: ClassVar[dict[str, str]] = {"v1": SANDBOX_API}
    settings_model: ClassVar[type[ConnectorSettings]] = SandboxSettings
    setup_text: ClassVar[str] = SETUP_TEXT
    credentials_model: ClassVar[type[BaseModel]] = NoCredentials
    streams = (
        streams.Providers,
        streams.Skills,
        streams.Users,
        streams.Courses,
        streams.Progressions,
        streams.HrisSkills,
    )
    writers = (writers.SandboxCourses, writers.SandboxSkills)

    def __init__(self, context: ConnectorContext) -> None:
        super().__init__(context)
        self.state: SandboxState = context.service(SandboxState)  # type: ignore[type-abstract]

    # -- preflight and passthrough --------------------------------------------------------------------
    def preflight(self) -> list[str]:
        with self.session(None):
            pass
        warnings = []
        if self.settings.fail_read_models:
            warnings.append(
                f"Syncs will fail reading {', '.join(self.settings.fail_read_models)} "
                "(setting fail_read_models)."
            )
        return warnings

    def passthrough(self, api: str, request: PassthroughRequest) -> PassthroughResponse:
        """The Sandbox's REST API: `GET /{model}` lists (`?limit=`, default 100) and
        `GET /{model}/{remote_id}` reads one of users, course-providers, courses, skills,
        course-progressions and hris-skills; rejected credentials answer 401, anything else 404."""
        if api not in self.passthrough_apis:
            raise unknown_api(api, self.passthrough_apis, self.label)
        url = target_url(SANDBOX_API, request.path, request.params)
        headers = {"content-type": "application/json"}

        def answer(status: int, body: Any) -> PassthroughResponse:
            return PassthroughResponse(url, status, headers, body)

        if self.settings.auth_invalid:
            return answer(401, {"error": "invalid_token", "message": "The access token is not valid."})
        parts = urlsplit(url)
        segments = parts.path[len(urlsplit(SANDBOX_API).path) :].strip("/").split("/")
        model = _PASSTHROUGH_MODELS.get(segments[0]) if segments[0] else None
        if request.method != "GET" or model is None or len(segments) > 2:
            return answer(404, {"error": "not_found", "message": f"No route {request.method} {parts.path}."})
        self.state.ensure_generated(self.integration_id, self.size())
        if len(segments) == 2:
            data = self.state.get(self.integration_id, model, segments[1])
            if data is None:
                return answer(404, {"error": "not_found", "message": f"No record {segments[1]!r}."})
            return answer(200, {"id": segments[1], **data})
        limit = int(dict(parse_qsl(parts.query)).get("limit", "100") or 100)
        rows: list[dict[str, Any]] = []
        for page in self.state.pages(self.integration_id, model, None, max(1, min(limit, 1000))):
            rows += [{"id": remote_id, **data} for remote_id, data in page]
            if len(rows) >= limit:
                break
        return answer(200, {"results": rows[:limit]})

    # -- HRIS skills ----------------------------------------------------------------------------------
    def perform_create_skill(self, skill: SkillWrite) -> Record:
        self._latency()
        remote_id = f"skill-{new_id()}"
        data = {"name": skill.name, "description": None, "levels": list(skill.levels or ())}
        self.state.put(self.integration_id, "hris_skills", remote_id, data)
        return mapping.hris_skill(remote_id, data)

    def perform_update_skill(self, skill_remote_id: str, skill: SkillWrite) -> Record:
        self._latency()
        data = self.state.get(self.integration_id, "hris_skills", skill_remote_id)
        if data is None:
            raise _no_skill(skill_remote_id)
        if skill.name is not None:
            data["name"] = skill.name
        if skill.levels is not None:
            data["levels"] = list(skill.levels)
        self.state.put(self.integration_id, "hris_skills", skill_remote_id, data)
        return mapping.hris_skill(skill_remote_id, data)

    def perform_delete_skill(self, skill_remote_id: str) -> None:
        self._latency()
        if not self.state.remove(self.integration_id, "hris_skills", skill_remote_id):
            raise _no_skill(skill_remote_id)

    @contextmanager
    def session(self, operation: WriteAction | None) -> Iterator[None]:
        if self.settings.auth_invalid:
            raise AuthenticationInvalidError(
                "The Sandbox rejected the integration's credentials (setting auth_invalid=true)."
            )
        yield

    def size(self) -> Any:
        from lmsbridge.sandbox.generator import SandboxSize

        s = self.settings
        return SandboxSize(users=s.users, courses=s.courses, progressions=s.progressions, seed=s.seed)

    # -- direct actions ------------------------------------------------------------------------------
    def _latency(self) -> None:
        """latency_ms per direct action, as for each item of a bulk write."""
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

    def perform_enrol(self, user_remote_id: str, revision_remote_id: str) -> ProgressionRecord:
        self._latency()
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
            return mapping.progression(*existing)
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
        return mapping.progression(remote_id, data)

    def perform_complete(
        self, progression_remote_id: str, completed_at: datetime, score: int | None
    ) -> ProgressionRecord:
        self._latency()
        data = self.state.get(self.integration_id, "lms_course_progressions", progression_remote_id)
        if data is None:
            raise ItemError(
                f"The Sandbox has no progression {progression_remote_id!r}.",
                code=ErrorCode.REMOTE_INPUT_INVALID,
            )
        data.update(state="COMPLETED", completed=completed_at.isoformat(), score=score)
        self.state.put(self.integration_id, "lms_course_progressions", progression_remote_id, data)
        return mapping.progression(progression_remote_id, data)

    def perform_deactivate_course(self, course_remote_id: str) -> CourseRecord:
        self._latency()
        data = self.state.get(self.integration_id, "lms_courses", course_remote_id)
        if data is not None:
            for revision in data["revisions"]:
                revision["active"] = False
            self.state.put(self.integration_id, "lms_courses", course_remote_id, data)
            return mapping.generated_course(course_remote_id, data)
        row = self.state.set_written_course_active(self.integration_id, course_remote_id, False)
        if row is None:
            raise ItemError(
                f"The Sandbox has no course {course_remote_id!r}.", code=ErrorCode.REMOTE_INPUT_INVALID
            )
        return mapping.written_course(row.remote_id, row.origin_id, row.data, row.active, row.created_at)
