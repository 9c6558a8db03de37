"""The 360Learning connector (API v2). It reads users, course providers (external-course
integrations), courses, course attempts and skills; upserts external courses and skills and
imports completions through the Bulk API; archives courses. 360Learning has no course-level
enrolment in v2 (learners reach courses through paths and group catalogs), so enrolment is
declared UNSUPPORTED and refused before any call."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import urlsplit

from pydantic import BaseModel

from lmsbridge.connectors.base import (
    ConnectorContext,
    ConnectorSettings,
    Coverage,
    ModelCoverage,
    PassthroughRequest,
    PassthroughResponse,
    WriteAction,
)
from lmsbridge.connectors.connector import BaseConnector
from lmsbridge.connectors.errors import (
    IntegrationError,
    ItemError,
)
from lmsbridge.connectors.http.session import ClientCredentialsSession
from lmsbridge.connectors.passthrough import PassthroughRefusedError
from lmsbridge.connectors.records import CourseRecord, ProgressionRecord
from lmsbridge.connectors.threesixtylearning import mapping, streams, writers
from lmsbridge.connectors.threesixtylearning.client import SERVICE, ThreeSixtyLearningApi, iso
from lmsbridge.connectors.threesixtylearning.settings import (
    ThreeSixtyLearningCredentials,
    ThreeSixtyLearningSettings,
)
from lmsbridge.connectors.threesixtylearning.setup import SETUP_TEXT
from lmsbridge.errors import ErrorCode

U = Coverage.UNSUPPORTED


class PassthroughRefused(PassthroughRefusedError):
    code = ErrorCode.INPUT_INVALID


class ThreeSixtyLearningConnector(
    ClientCredentialsSession[ThreeSixtyLearningApi], BaseConnector[ThreeSixtyLearningSettings]
):
    tool: ClassVar[str] = "360learning"
    label: ClassVar[str] = "360Learning"
    credentials_name: ClassVar[str] = "API key"
    settings_model: ClassVar[type[ConnectorSettings]] = ThreeSixtyLearningSettings
    credentials_model: ClassVar[type[BaseModel]] = ThreeSixtyLearningCredentials
    setup_text: ClassVar[str] = SETUP_TEXT
    passthrough_apis: ClassVar[dict[str, str]] = {"v2": "{site_url}/api/v2"}
    streams = (
        streams.Users,
        streams.Providers,
        streams.Courses,
        streams.Progressions,
        streams.Skills,
        streams.HrisSkills,
    )
    writers = (writers.Courses, writers.Skills)
    model_coverage: ClassVar[dict[str, ModelCoverage]] = {"lms_skill_assignments": ModelCoverage(U)}
    action_coverage: ClassVar[dict[WriteAction, Coverage]] = {WriteAction.ENROL: U}

    def __init__(self, context: ConnectorContext) -> None:
        super().__init__(context)
        self._providers: dict[str, str] | None = None
        self._integration: str | None = self.settings.integration_id

    # -- session ---------------------------------------------------------------------------------------
    def open_api(self, client_id: str, client_secret: str) -> ThreeSixtyLearningApi:
        context = self.context
        return ThreeSixtyLearningApi(
            self.settings,
            client_id,
            client_secret,
            transport=context.transport,
            pacer=context.pacer,
            pace_key=self.integration_id,
        )

    def providers_by_platform(self) -> dict[str, str]:
        """External platform name -> integration id, read once per connector."""
        if self._providers is None:
            self._providers = {
                str(row.get("externalPlatform")): str(row["_id"])
                for row in self.api.all("/api/v2/integrations")
            }
        return self._providers

    def integration(self) -> str:
        """The external-course integration lmsbridge writes through: the one configured, else the
        one named `external_platform`, else one created with `author_id` and `group_id`."""
        if self._integration is not None:
            return self._integration
        s = self.settings
        found = self.api.all("/api/v2/integrations", {"externalPlatform": s.external_platform})
        found = [row for row in found if row.get("externalPlatform") == s.external_platform]
        if found:
            self._integration = str(found[0]["_id"])
            return self._integration
        if not s.author_id or not s.group_id:
            raise IntegrationError(
                f"No 360Learning integration named {s.external_platform!r} exists: set integration_id, or "
                "author_id and group_id so lmsbridge can create it.",
                code=ErrorCode.INTEGRATION_PERMISSION_MISSING,
            )
        try:
            created = self.api.json(
                "POST",
                "/api/v2/integrations",
                {"externalPlatform": s.external_platform, "authorId": s.author_id, "groupId": s.group_id},
            )
        except ItemError as error:  # groupNotFound, userNotFound, integrationsLimitReached...
            raise IntegrationError(
                f"360Learning refused to create the integration: {error.message}",
                code=ErrorCode.INTEGRATION_PERMISSION_MISSING,
            ) from None
        self._integration = str(created["_id"])
        self._providers = None
        return self._integration

    # -- direct actions --------------------------------------------------------------------------------
    def perform_deactivate_course(self, course_remote_id: str) -> CourseRecord:
        """`PUT /api/v2/courses/{id}/archive {"archived": true}`: works for every course type."""
        raw = self.api.json(
            "PUT", f"/api/v2/courses/{_object_id(course_remote_id, 'course')}/archive", {"archived": True}
        )
        return mapping.course(raw, self.providers_by_platform())

    def perform_complete(
        self, progression_remote_id: str, completed_at: datetime, score: int | None
    ) -> ProgressionRecord:
        """An external statistics import with progress 100 into the open attempt (same
        `firstActivityAt`), then the attempt read back. 360Learning imports statistics only for
        courses of lmsbridge's integration; others come back as the operation's error result."""
        course_id, user_id, attempt_id = _progression_parts(progression_remote_id)
        attempt = self._attempt(course_id, user_id, attempt_id)
        if attempt is None:
            raise ItemError(
                f"360Learning has no attempt {attempt_id} of this course and user.",
                code=ErrorCode.REMOTE_INPUT_INVALID,
            )
        finished = completed_at.astimezone(UTC)
        started = mapping.moment(attempt.get("firstActivityAt")) or finished
        row: dict[str, Any] = {
            "courseIdentifier": {"type": "internalId", "value": course_id},
            "userIdentifier": {"type": "internalId", "value": user_id},
            "progress": 100,
            "timeSpent": max(1, int(attempt.get("timeSpent") or 1)),
            "firstActivityAt": iso(min(started, finished)),
            "lastActivityAt": iso(finished),
        }
        if score is not None:
            row["score"] = max(0, min(100, score))
        result = writers.run_bulk(
            self, "POST", f"/api/v2/bulk/integrations/{self.integration()}/stats", [row]
        )[0]
        if result.get("status") != "success":
            raise ItemError(
                f"{SERVICE}: {result.get('errorMessage') or 'the completion was refused'}",
                code=ErrorCode.REMOTE_INPUT_INVALID,
            )
        done = self._attempt(course_id, user_id, attempt_id) or self._attempt(course_id, user_id, None)
        if done is None:
            raise ItemError(
                "360Learning reported the import done but lists no attempt.",
                code=ErrorCode.REMOTE_UNKNOWN_HTTP_ERROR,
            )
        return mapping.progression(done)

    def _attempt(self, course_id: str, user_id: str, attempt_id: str | None) -> dict[str, Any] | None:
        rows = self.api.all("/api/v2/courses/stats", {"courseId[eq]": course_id, "userId[eq]": user_id})
        if attempt_id is not None:
            return next((r for r in rows if str(r.get("_id")) == attempt_id), None)
        return max(rows, key=lambda r: str(r.get("lastActivityAt") or ""), default=None)

    # -- preflight and passthrough ---------------------------------------------------------------------
    def preflight(self) -> list[str]:
        """A token, then one page of each scope lmsbridge reads; warns when no integration to
        write courses through can be found or created."""
        warnings: list[str] = []
        with self.session(None) as api:
            for path in ("/api/v2/users", "/api/v2/courses", "/api/v2/courses/stats", "/api/v2/integrations"):
                api.call("GET", path)
            try:
                api.call("GET", "/api/v2/skills")
            except IntegrationError as error:
                warnings.append(f"Skills cannot be read: {error.message}")
            s = self.settings
            if not s.integration_id and not (s.author_id and s.group_id):
                names = {str(r.get("externalPlatform")) for r in api.all("/api/v2/integrations")}
                if s.external_platform not in names:
                    warnings.append(
                        f"No integration named {s.external_platform!r}: course upserts and completions need "
                        "integration_id, or author_id and group_id to create it."
                    )
        return warnings

    def passthrough(self, api: str, request: PassthroughRequest) -> PassthroughResponse:
        """A call of 360Learning's API v2 with the integration's token and version header."""
        if api not in self.passthrough_apis:
            raise PassthroughRefused(f"360Learning has no passthrough API {api!r}; use v2.")
        path = str(request.path)
        parts = urlsplit(path)
        if parts.scheme or parts.netloc or path.startswith("//") or ".." in parts.path.split("/"):
            raise PassthroughRefused(f"path: {path!r} is refused; give a path relative to /api/v2.")
        with self.session(None) as remote:
            data = getattr(request, "data", None)
            response = remote.client.request(
                str(request.method).upper(),
                "/api/v2/" + path.lstrip("/"),
                params=dict(getattr(request, "params", {}) or {}) or None,
                json=data,
            )
            redactor = remote.client.redactor
            headers = {
                k.lower(): redactor.text(v) for k, v in response.headers.items() if k.lower() != "set-cookie"
            }
            body: Any
            if getattr(request, "response_as_base64", False):
                body = base64.b64encode(response.content).decode()
            else:
                try:
                    body = json.loads(redactor.text(response.text))
                except ValueError:
                    body = redactor.text(response.text)
            return PassthroughResponse(
                redactor.url(response.request.url), response.status_code, headers, body
            )


def _object_id(value: str, what: str) -> str:
    if len(value) != 24 or any(c not in "0123456789abcdefABCDEF" for c in value):
        raise ItemError(f"{value!r} is not a 360Learning {what} id.", code=ErrorCode.REMOTE_INPUT_INVALID)
    return value


def _progression_parts(remote_id: str) -> tuple[str, str, str]:
    parts = remote_id.split(":")
    if len(parts) != 3:
        raise ItemError(
            f"{remote_id!r} is not a 360Learning progression id.", code=ErrorCode.REMOTE_INPUT_INVALID
        )
    return _object_id(parts[0], "course"), _object_id(parts[1], "user"), _object_id(parts[2], "attempt")
