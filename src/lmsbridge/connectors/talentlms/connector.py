"""The TalentLMS connector. It reads users (v2, with delta), courses (v1) and course progressions
(per user and course), upserts and deactivates courses through v2's batch upsert, and enrols
learners through v1. Completion cannot be written (TalentLMS documents no way), and TalentLMS has
no skills or course providers: those are declared UNSUPPORTED and refused before any call."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel

from lmsbridge.connectors import passthrough as shared
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
from lmsbridge.connectors.errors import AuthenticationInvalidError, ConnectorError, ItemError
from lmsbridge.connectors.http.session import RemoteSession
from lmsbridge.connectors.records import CourseRecord, ProgressionRecord
from lmsbridge.connectors.talentlms import mapping
from lmsbridge.connectors.talentlms.client import SERVICE, TalentLmsApi
from lmsbridge.connectors.talentlms.settings import TalentLmsCredentials, TalentLmsSettings
from lmsbridge.connectors.talentlms.setup import SETUP_TEXT
from lmsbridge.connectors.talentlms.streams import Courses, Progressions, Users
from lmsbridge.connectors.talentlms.writers import TalentLmsCourses, poll_task
from lmsbridge.errors import ErrorCode

U = Coverage.UNSUPPORTED
ALREADY_ENROLLED = "already enrolled"
QUOTA_WARNING_SHARE = 0.1


class TalentLmsConnector(RemoteSession[TalentLmsApi], BaseConnector[TalentLmsSettings]):
    tool: ClassVar[str] = "talentlms"
    label: ClassVar[str] = "TalentLMS"
    settings_model: ClassVar[type[ConnectorSettings]] = TalentLmsSettings
    credentials_model: ClassVar[type[BaseModel]] = TalentLmsCredentials
    setup_text: ClassVar[str] = SETUP_TEXT
    passthrough_apis: ClassVar[dict[str, str]] = {"v1": "{site_url}/api/v1", "v2": "{site_url}/api/v2"}
    streams = (Users, Courses, Progressions)
    writers = (TalentLmsCourses,)
    model_coverage: ClassVar[dict[str, ModelCoverage]] = {
        "lms_course_providers": ModelCoverage(U),
        "lms_skills": ModelCoverage(U),
        "lms_skill_assignments": ModelCoverage(U),
        "hris_skills": ModelCoverage(U),
    }
    action_coverage: ClassVar[dict[WriteAction, Coverage]] = {
        WriteAction.COMPLETE: U,
        WriteAction.UPSERT_SKILLS: U,
    }

    def __init__(self, context: ConnectorContext) -> None:
        super().__init__(context)
        key = context.credentials.get("api_key")
        self.api_key = key.strip() if isinstance(key, str) and key.strip() else None
        self._date_format: str | None = None

    # -- session ---------------------------------------------------------------------------------------
    def connect(self) -> TalentLmsApi:
        if self.api_key is None:
            raise AuthenticationInvalidError(
                'The integration has no TalentLMS API key: give credentials as {"api_key": "..."}.'
            )
        return TalentLmsApi(
            self.settings,
            self.api_key,
            transport=self.context.transport,
            pacer=self.context.pacer,
            pace_key=self.integration_id,
        )

    def date_format(self) -> str:
        """The portal's date format (v1 `siteinfo`), read once: v1 course dates are written in it."""
        if self._date_format is None:
            self._date_format = str(self.api.v1_get("siteinfo").get("date_format") or "")
        return self._date_format

    # -- writes ----------------------------------------------------------------------------------------
    def run_batch(self, path: str, body: dict[str, Any]) -> dict[int, dict[str, Any]]:
        """A v2 batch upsert and its background task to the end: each item's result by index."""
        answer = self.api.v2_post(path, body) or {}
        data = answer.get("_data") or {}
        task_id = data.get("task_id") or data.get("id")
        if not task_id:
            raise ConnectorError(
                f"TalentLMS answered {path} without a task id.", code=ErrorCode.REMOTE_UNKNOWN_HTTP_ERROR
            )
        done = poll_task(self, str(task_id))
        results = done.get("results") or []
        return {int(r.get("index", i)): r for i, r in enumerate(results) if isinstance(r, dict)}

    def courses_by_code(self) -> dict[str, dict[str, Any]]:
        rows = self.api.v1_get("courses") or []
        return {str(row["code"]): row for row in rows if row.get("code")}

    def _course(self, course_remote_id: str) -> dict[str, Any]:
        if not course_remote_id.isdigit():
            raise ItemError(
                f"{course_remote_id!r} is not a TalentLMS course id.", code=ErrorCode.REMOTE_INPUT_INVALID
            )
        raw: dict[str, Any] = self.api.v1_get("courses", {"id": course_remote_id})
        return raw

    def perform_enrol(self, user_remote_id: str, revision_remote_id: str) -> ProgressionRecord:
        """v1 `addusertocourse` as a learner; enrolling someone already enrolled is no error (the
        progression is read back either way)."""
        for value, what in ((user_remote_id, "user"), (revision_remote_id, "course")):
            if not value.isdigit():
                raise ItemError(
                    f"{value!r} is not a TalentLMS {what} id.", code=ErrorCode.REMOTE_INPUT_INVALID
                )
        try:
            self.api.v1_post(
                "addusertocourse",
                {"user_id": user_remote_id, "course_id": revision_remote_id, "role": "learner"},
            )
        except ItemError as error:
            if ALREADY_ENROLLED not in error.message:
                raise
        status = self.api.v1_get(
            "getuserstatusincourse", {"course_id": revision_remote_id, "user_id": user_remote_id}
        )
        return mapping.progression(user_remote_id, revision_remote_id, status)

    def perform_deactivate_course(self, course_remote_id: str) -> CourseRecord:
        """v2 batch upsert of the course by id with `is_active` false (v2 has no course update
        endpoint and v1 no status change), then the course read back from v1."""
        raw = self._course(course_remote_id)
        results = self.run_batch(
            "batch/courses", {"courses": [{"id": int(course_remote_id), "is_active": False}]}
        )
        result = results.get(0, {})
        if str(result.get("status", "")).lower() in ("failed", "error"):
            raise ItemError(
                f"TalentLMS: {result.get('message') or 'the course could not be deactivated'}",
                code=ErrorCode.REMOTE_INPUT_INVALID,
            )
        raw = self._course(course_remote_id)
        return mapping.course(raw, self.date_format())

    # -- preflight and passthrough ---------------------------------------------------------------------
    def preflight(self) -> list[str]:
        """Both APIs answer with the key: v1 `ratelimit` (free of quota) and one v2 user. Returns a
        warning when less than a tenth of the hour's quota is left."""
        with self.session(None) as api:
            quota = api.v1_get("ratelimit") or {}
            api.v2_get("users", {"page[size]": 1, "page[number]": 1})
        limit, remaining = str(quota.get("limit", "")), str(quota.get("remaining", ""))
        if limit.isdigit() and remaining.isdigit() and int(remaining) < int(limit) * QUOTA_WARNING_SHARE:
            return [
                f"Only {remaining} of this hour's {limit} TalentLMS API calls are left; syncs will wait "
                "for the quota to reset."
            ]
        return []

    def passthrough(self, api: str, request: PassthroughRequest) -> PassthroughResponse:
        """A call of TalentLMS's v1 or v2 API with the integration's key added (Basic for v1,
        X-API-Key and X-API-Version for v2), through the same client (pacing, retries, redaction).
        `request` carries method, path, headers, params, data and response_as_base64 (the fields of
        the passthrough protocol's request); a mapping `data` goes to v1 as a form and to v2 as
        JSON. A path that would leave the API's base is refused. Answers are relayed as they come,
        errors included, with the key blanked out."""
        if api not in self.passthrough_apis:
            raise shared.PassthroughRefusedError(
                f"TalentLMS has no passthrough API {api!r}; use {' or '.join(sorted(self.passthrough_apis))}."
            )
        path = shared.relative_path(str(request.path), "the API (users/id:7, users?page[size]=5)")
        with self.session(None) as remote:
            client = remote.v1 if api == "v1" else remote.v2
            data = getattr(request, "data", None)
            kwargs: dict[str, Any] = {"params": dict(getattr(request, "params", {}) or {}) or None}
            if isinstance(data, dict) and api == "v1":
                kwargs["data"] = {k: str(v) for k, v in data.items()}
            elif data is not None:
                kwargs["json"] = data
            passed = shared.caller_headers(request, also_own=_KEY_HEADERS)
            response = client.request(str(request.method).upper(), path, headers=passed or None, **kwargs)
            as_base64 = bool(getattr(request, "response_as_base64", False))
            return shared.relay(response, client.redactor, as_base64=as_base64)


# The caller may not choose v2's key header either: the connector authenticates.
_KEY_HEADERS = frozenset({"x-api-key"})


__all__ = ["SERVICE", "TalentLmsConnector"]
