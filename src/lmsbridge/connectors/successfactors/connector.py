"""The SuccessFactors Learning connector: reads users, course providers, courses (one revision per
catalog item, keyed by revisionDate) and course progressions; upserts and deactivates courses
through the Open Content Network and records completions as OCN learning events. No public
OData service assigns an item to a learner (reference 1.5), so enrolment is declared
UNSUPPORTED, as are skills (no Learning skills source)."""

from __future__ import annotations

from datetime import datetime
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
from lmsbridge.connectors.pacing import PacingDeferred
from lmsbridge.connectors.records import CourseRecord, ProgressionRecord
from lmsbridge.connectors.successfactors import mapping
from lmsbridge.connectors.successfactors.client import SERVICE, SuccessFactorsApi
from lmsbridge.connectors.successfactors.settings import SuccessFactorsCredentials, SuccessFactorsSettings
from lmsbridge.connectors.successfactors.setup import SETUP_TEXT
from lmsbridge.connectors.successfactors.streams import (
    HISTORY,
    ITEMS,
    STUDENTS,
    Courses,
    Progressions,
    Providers,
    Users,
    quoted,
)
from lmsbridge.connectors.successfactors.writers import SuccessFactorsCourses, not_found, ocn_course, post_ocn
from lmsbridge.errors import ErrorCode

U = Coverage.UNSUPPORTED
LEARNING_EVENTS = "public/admin/learningevent-service/v1/OCNLearningEvents"


class SuccessFactorsConnector(RemoteSession[SuccessFactorsApi], BaseConnector[SuccessFactorsSettings]):
    tool: ClassVar[str] = "successfactors"
    label: ClassVar[str] = "SAP SuccessFactors Learning"
    settings_model: ClassVar[type[ConnectorSettings]] = SuccessFactorsSettings
    credentials_model: ClassVar[type[BaseModel]] = SuccessFactorsCredentials
    setup_text: ClassVar[str] = SETUP_TEXT
    passthrough_apis: ClassVar[dict[str, str]] = {"lms-odata-v4": "{learning_url}/learning/odatav4"}
    streams = (Users, Providers, Courses, Progressions)
    writers = (SuccessFactorsCourses,)
    model_coverage: ClassVar[dict[str, ModelCoverage]] = {
        "lms_skills": ModelCoverage(U),
        "lms_skill_assignments": ModelCoverage(U),
        "hris_skills": ModelCoverage(U),
    }
    action_coverage: ClassVar[dict[WriteAction, Coverage]] = {
        WriteAction.ENROL: U,
        WriteAction.UPSERT_SKILLS: U,
    }

    def __init__(self, context: ConnectorContext) -> None:
        super().__init__(context)
        creds = context.credentials

        def text(name: str) -> str | None:
            value = creds.get(name)
            return value.strip() if isinstance(value, str) and value.strip() else None

        self.client_id, self.client_secret = text("client_id"), text("client_secret")
        self.assertion = text("saml_assertion")

    def connect(self) -> SuccessFactorsApi:
        saml = self.settings.token_flow == "saml_bearer"
        if self.client_id is None or (self.assertion is None if saml else self.client_secret is None):
            needs = '"client_id" and "saml_assertion"' if saml else '"client_id" and "client_secret"'
            raise AuthenticationInvalidError(f"The integration has no {SERVICE} client: give {needs}.")
        return SuccessFactorsApi(
            self.settings,
            self.client_id,
            self.client_secret or "",
            self.assertion,
            transport=self.context.transport,
            pacer=self.context.pacer,
            pace_key=self.integration_id,
        )

    # -- reads used by writes ----------------------------------------------------------------------------
    def catalog_course(self, type_id: str, item_id: str) -> CourseRecord | None:
        filters = f"criteria/itemID eq {quoted(item_id)} and criteria/itemTypeID eq {quoted(type_id)}"
        rows = (self.api.get(ITEMS, {"$filter": filters}) or {}).get("value") or []
        return mapping.course(rows[0], self.settings.learning_url) if rows else None

    # -- actions -----------------------------------------------------------------------------------------
    def perform_deactivate_course(self, course_remote_id: str) -> CourseRecord:
        """OCN re-post of the course with status INACTIVE (reference 1.5), read back. It takes an OCN
        slot like an upsert; when the next slot is further than the pacer waits, the call is
        refused as the remote's rate limit rather than held for minutes."""
        parts = mapping.split_course(course_remote_id)
        if parts is None:
            raise not_found(course_remote_id)
        current = self.catalog_course(*parts)
        if current is None:
            raise not_found(course_remote_id)
        title = current.revisions[0].title or parts[1]
        try:
            post_ocn(self, {**ocn_course(self, parts[1], title), "status": "INACTIVE"})
        except PacingDeferred as deferred:  # a direct call does not wait for OCN's next slot
            raise ConnectorError(
                f"{SERVICE} accepts one OCN course post every {self.settings.ocn_pace_seconds:g} s; "
                f"the next one is possible in {deferred.delay_seconds:.0f} s.",
                code=ErrorCode.REMOTE_RATE_LIMIT_EXCEEDED,
            ) from None
        return self.catalog_course(*parts) or current

    def perform_complete(
        self, progression_remote_id: str, completed_at: datetime, score: int | None
    ) -> ProgressionRecord:
        """An OCN learning event for the learner and course, then the history row read back."""
        user_id, _, rest = progression_remote_id.partition("|")
        course_id, _, _ = rest.partition("|")
        parts = mapping.split_course(course_id)
        if not user_id or parts is None:
            raise ItemError(
                f"{progression_remote_id!r} is not a SuccessFactors progression id.",
                code=ErrorCode.REMOTE_INPUT_INVALID,
            )
        current = self.catalog_course(*parts)
        event: dict[str, Any] = {
            "userID": user_id,
            "courseID": parts[1],
            "providerID": (current.provider_remote_id if current else None) or self.settings.provider_id,
            "courseCompleted": True,
            "completedTimestamp": mapping.ms(completed_at),
            "completionStatusID": self.settings.completion_status_id,
        }
        if score is not None:
            event["grade"] = str(score)
        self.api.post(LEARNING_EVENTS, event)
        target = {"$filter": f"criteria/targetUserID eq {quoted(user_id)}"}
        for page in self.api.pages(HISTORY, target):
            for row in page:
                if (str(row.get("componentTypeID")), str(row.get("componentID"))) == parts:
                    found = mapping.history(user_id, row, self.settings.completed_status_ids)
                    if found is not None:
                        return found
        raise ConnectorError(
            f"{SERVICE} accepted the learning event but shows no history row for it.",
            code=ErrorCode.REMOTE_UNKNOWN_HTTP_ERROR,
        )

    # -- preflight and passthrough -------------------------------------------------------------------------
    def preflight(self) -> list[str]:
        """A token, one student (searchStudent) and one catalog item (searchItem)."""
        with self.session(None) as api:
            api.get(STUDENTS, {"$top": 1})
            api.get(ITEMS, {"$top": 1})
        if self.settings.token_flow == "learning":
            return [
                "The Learning token server is deprecated by SAP (deletion planned for 2H 2027); "
                "plan a move to token_flow saml_bearer."
            ]
        return []

    def passthrough(self, api: str, request: PassthroughRequest) -> PassthroughResponse:
        """A call under `/learning/odatav4/` with the integration's token, through the same client;
        the answer is relayed as it comes, errors included, with secrets blanked out."""
        if api not in self.passthrough_apis:
            raise shared.unknown_api(api, self.passthrough_apis, SERVICE)
        path = shared.relative_path(str(request.path), "/learning/odatav4")
        with self.session(None) as remote:
            client = remote.client
            headers = shared.caller_headers(request)
            response = client.request(
                str(request.method).upper(),
                path.removeprefix("learning/odatav4/"),
                params=dict(getattr(request, "params", {}) or {}) or None,
                json=getattr(request, "data", None),
                headers=headers or None,
            )
            as_base64 = bool(getattr(request, "response_as_base64", False))
            return shared.relay(response, client.redactor, as_base64=as_base64)


__all__ = ["SERVICE", "SuccessFactorsConnector"]
