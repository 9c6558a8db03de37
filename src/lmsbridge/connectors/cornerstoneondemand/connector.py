"""The Cornerstone OnDemand connector. It reads users (Employee API v2), course providers,
courses (learning objects, each version a revision), course progressions (transcripts) and skills
(learning object competencies) through the Reporting API's views; creates courses as URL
materials (no update: LMS.COURSE_UPDATE_NOT_SUPPORTED), enrols through the Transcript API's
assign and completes through its complete. Cornerstone's API offers no way to deactivate a
learning object (Kombo lists none either), so that action is declared UNSUPPORTED."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, ClassVar

from pydantic import BaseModel

from lmsbridge.connectors.base import (
    ConnectorSettings,
    Coverage,
    ModelCoverage,
    WriteAction,
)
from lmsbridge.connectors.connector import BaseConnector
from lmsbridge.connectors.cornerstoneondemand import mapping, streams, writers
from lmsbridge.connectors.cornerstoneondemand.client import (
    ASSIGN,
    COMPLETE,
    EMPLOYEES,
    SERVICE,
    CornerstoneApi,
    any_of,
    odata_guid,
)
from lmsbridge.connectors.cornerstoneondemand.settings import CornerstoneCredentials, CornerstoneSettings
from lmsbridge.connectors.cornerstoneondemand.setup import SETUP_TEXT
from lmsbridge.connectors.errors import IntegrationError, ItemError
from lmsbridge.connectors.http.session import ClientCredentialsSession
from lmsbridge.connectors.records import ProgressionRecord
from lmsbridge.errors import ErrorCode

U = Coverage.UNSUPPORTED


class CornerstoneConnector(ClientCredentialsSession[CornerstoneApi], BaseConnector[CornerstoneSettings]):
    tool: ClassVar[str] = "cornerstoneondemand"
    label: ClassVar[str] = "Cornerstone OnDemand"
    credentials_name: ClassVar[str] = "OAuth application"
    settings_model: ClassVar[type[ConnectorSettings]] = CornerstoneSettings
    credentials_model: ClassVar[type[BaseModel]] = CornerstoneCredentials
    setup_text: ClassVar[str] = SETUP_TEXT
    passthrough_apis: ClassVar[dict[str, str]] = {"learning": "{site_url}/services/api/"}
    streams = (streams.Users, streams.Providers, streams.Courses, streams.Skills, streams.Progressions)
    writers = (writers.Courses,)
    model_coverage: ClassVar[dict[str, ModelCoverage]] = {"hris_skills": ModelCoverage(U)}
    action_coverage: ClassVar[dict[WriteAction, Coverage]] = {
        WriteAction.DEACTIVATE_COURSE: U,
        WriteAction.UPSERT_SKILLS: U,
    }

    def open_api(self, client_id: str, client_secret: str) -> CornerstoneApi:
        context = self.context
        return CornerstoneApi(
            self.settings,
            client_id,
            client_secret,
            transport=context.transport,
            pacer=context.pacer,
            pace_key=self.integration_id,
        )

    # Versions ride in `vw_rpt_training` as rows of their own: a version's `related_lo_id` names the
    # original version, whose id is the course's (VERSION_COLUMNS: what a look-up needs of a row).
    VERSION_COLUMNS: ClassVar[str] = "lo_object_id,related_lo_id"
    LOOKUP_CHUNK: ClassVar[int] = 20  # ids per `or` filter, keeping the URL short

    def course_ids(self, lo_ids: list[str] | None = None) -> dict[str, str]:
        """Each learning object version's course (its original version), keyed by the version's id
        in lower case: of the given ids, or of the whole catalog."""
        if lo_ids is None:
            rows = self.api.rows("vw_rpt_training", select=self.VERSION_COLUMNS)
        else:
            rows = [
                row
                for start in range(0, len(lo_ids), self.LOOKUP_CHUNK)
                for row in self.api.rows(
                    "vw_rpt_training",
                    any_of("lo_object_id", lo_ids[start : start + self.LOOKUP_CHUNK]),
                    self.VERSION_COLUMNS,
                )
            ]
        return {str(row["lo_object_id"]).lower(): mapping.root(row) for row in rows}

    def versions(self, courses: list[str]) -> list[dict[str, Any]]:
        """Every version row of the given courses (original ids): the original itself, and the
        rows whose `related_lo_id` names it."""
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(courses), self.LOOKUP_CHUNK):
            chunk = courses[start : start + self.LOOKUP_CHUNK]
            either = f"{any_of('lo_object_id', chunk)} or {any_of('related_lo_id', chunk)}"
            for row in self.api.rows("vw_rpt_training", either):
                found[str(row["lo_object_id"])] = row
        return list(found.values())

    def skills_by_lo(self) -> dict[str, tuple[str, ...]]:
        found: dict[str, list[str]] = {}
        for row in self.api.rows("vw_rpt_lo_competencies_local"):
            found.setdefault(str(row["lo_object_id"]), []).append(str(row["competency_id"]))
        return {lo: tuple(dict.fromkeys(ids)) for lo, ids in found.items()}

    # -- direct actions --------------------------------------------------------------------------------
    def _external_id(self, user_remote_id: str) -> str:
        """The employee's `externalId` (the "User ID"), which the Transcript API's operations name
        a learner by."""
        if not user_remote_id.isdigit():
            raise ItemError(
                f"{user_remote_id!r} is not a Cornerstone user id.", code=ErrorCode.REMOTE_INPUT_INVALID
            )
        found = (self.api.call("GET", f"{EMPLOYEES}/{user_remote_id}") or {}).get("data") or {}
        external = found.get("externalId")
        if not external:
            raise ItemError(
                f"Cornerstone's employee {user_remote_id} has no external id (User ID).",
                code=ErrorCode.REMOTE_INPUT_INVALID,
            )
        return str(external)

    def _transcript(self, odata_filter: str) -> dict[str, Any] | None:
        rows = self.api.rows("vw_rpt_transcript", odata_filter)
        return max(rows, key=lambda r: int(r.get("reg_num") or 0), default=None)

    def perform_enrol(self, user_remote_id: str, revision_remote_id: str) -> ProgressionRecord:
        """Transcript API assign (one user, one learning object version), then the transcript row
        read back."""
        lo = odata_guid(revision_remote_id)
        external = self._external_id(user_remote_id)
        self.api.call(
            "POST",
            ASSIGN,
            {"externalId": external, "learningObjectId": revision_remote_id, "assignment": "assigned"},
        )
        row = self._transcript(f"transc_user_id eq {int(user_remote_id)} and transc_object_id eq {lo}")
        if row is None:
            raise ItemError(
                "Cornerstone accepted the assignment but lists no transcript for it.",
                code=ErrorCode.REMOTE_UNKNOWN_HTTP_ERROR,
            )
        return mapping.progression(row, self.course_ids([str(row["transc_object_id"])]))

    def perform_complete(
        self, progression_remote_id: str, completed_at: datetime, score: int | None
    ) -> ProgressionRecord:
        """Transcript API complete for the registration's user and learning object. Cornerstone's
        complete takes no score: one given is reported as a warning."""
        if not progression_remote_id.isdigit():
            raise ItemError(
                f"{progression_remote_id!r} is not a Cornerstone registration number.",
                code=ErrorCode.REMOTE_INPUT_INVALID,
            )
        row = self._transcript(f"reg_num eq {int(progression_remote_id)}")
        if row is None:
            raise ItemError(
                f"Cornerstone has no transcript registration {progression_remote_id}.",
                code=ErrorCode.REMOTE_INPUT_INVALID,
            )
        external = self._external_id(str(row["transc_user_id"]))
        self.api.call(
            "PATCH",
            COMPLETE,
            {
                "externalId": external,
                "learningObjectId": str(row["transc_object_id"]),
                "completionDate": completed_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "ignoreWorkflow": True,
            },
        )
        done = self._transcript(f"reg_num eq {int(progression_remote_id)}") or row
        record = mapping.progression(done, self.course_ids([str(done["transc_object_id"])]))
        if score is not None:
            record = replace(
                record, warnings=("Cornerstone's transcript complete takes no score; it was not stored.",)
            )
        return record

    # -- preflight and passthrough ---------------------------------------------------------------------
    def preflight(self) -> list[str]:
        """A token, then one page of the Employee API and of each reporting view lmsbridge reads."""
        with self.session(None) as api:
            api.call("GET", f"{EMPLOYEES}?pageSize=1")
            warnings = []
            for view in ("vw_rpt_training", "vw_rpt_transcript", "vw_rpt_lo_competencies_local"):
                try:
                    api.call("GET", f"/services/api/x/odata/api/views/{view}?$top=1")
                except IntegrationError as error:
                    if view != "vw_rpt_lo_competencies_local":
                        raise
                    warnings.append(f"Skills cannot be read: {error.message}")
        return warnings

    def passthrough(self, api: str, request: Any) -> Any:
        from lmsbridge.connectors.cornerstoneondemand.passthrough import relay

        return relay(self, api, request)


__all__ = ["SERVICE", "CornerstoneConnector"]
