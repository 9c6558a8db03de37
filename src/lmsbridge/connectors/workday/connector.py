"""The Workday Learning connector: reads workers, learning courses (digital and blended, one
revision per version), their skills and providers, and learning enrollments over Workday's SOAP
web services; upserts digital courses (`Manage_Learning_Course`), enrols
(`Enroll_In_Learning_Content`), records completions (`Put_Learning_Enrollment`) and deactivates
courses (`Manage_Learning_Course` with `Inactive`). HRIS skills are not Workday Learning's."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, ClassVar

from pydantic import BaseModel

from lmsbridge.connectors.base import (
    ConnectorContext,
    ConnectorSettings,
    Coverage,
    ModelCoverage,
    WriteAction,
)
from lmsbridge.connectors.connector import BaseConnector
from lmsbridge.connectors.errors import AuthenticationInvalidError, ItemError
from lmsbridge.connectors.http.session import RemoteSession
from lmsbridge.connectors.records import CourseRecord, ProgressionRecord
from lmsbridge.connectors.workday import mapping
from lmsbridge.connectors.workday.client import NS, SERVICE, WorkdayApi, escape, first_id
from lmsbridge.connectors.workday.settings import WorkdayCredentials, WorkdaySettings
from lmsbridge.connectors.workday.setup import SETUP_TEXT
from lmsbridge.connectors.workday.streams import Courses, Progressions, Providers, Skills, Users
from lmsbridge.connectors.workday.writers import CourseData, WorkdayCourses, id_of
from lmsbridge.errors import ErrorCode

U = Coverage.UNSUPPORTED
NEEDS = {
    "ws_security": ("username", "password"),
    "oauth": ("client_id", "client_secret", "refresh_token"),
}


class WorkdayConnector(RemoteSession[WorkdayApi], BaseConnector[WorkdaySettings]):
    tool: ClassVar[str] = "workday"
    label: ClassVar[str] = "Workday Learning"
    settings_model: ClassVar[type[ConnectorSettings]] = WorkdaySettings
    credentials_model: ClassVar[type[BaseModel]] = WorkdayCredentials
    setup_text: ClassVar[str] = SETUP_TEXT
    passthrough_apis: ClassVar[dict[str, str]] = {
        "soap": "{base_url}/ccx/service/{tenant}",
        "rest": "{base_url}/ccx/api",
    }
    streams = (Users, Providers, Courses, Skills, Progressions)
    writers = (WorkdayCourses,)
    model_coverage: ClassVar[dict[str, ModelCoverage]] = {"hris_skills": ModelCoverage(U)}
    action_coverage: ClassVar[dict[WriteAction, Coverage]] = {WriteAction.UPSERT_SKILLS: U}

    def __init__(self, context: ConnectorContext) -> None:
        super().__init__(context)
        self.credentials = {
            k: v.strip() for k, v in context.credentials.items() if isinstance(v, str) and v.strip()
        }

    def connect(self) -> WorkdayApi:
        needed = NEEDS[self.settings.auth_mode]
        missing = [k for k in needed if k not in self.credentials]
        if missing:
            raise AuthenticationInvalidError(
                f"The {SERVICE} integration (auth_mode {self.settings.auth_mode}) lacks {', '.join(missing)} "
                f"in its credentials."
            )
        return WorkdayApi(
            self.settings,
            {k: self.credentials[k] for k in needed},
            transport=self.context.transport,
            pacer=self.context.pacer,
            pace_key=self.integration_id,
        )

    # -- reads used by writes ---------------------------------------------------------------------
    def digital_courses_by_origin(self) -> dict[str, ET.Element]:
        out: dict[str, ET.Element] = {}
        for page in self.api.pages("Learning", "Get_Learning_Digital_Courses", "", "Learning_Digital_Course"):
            for raw in page:
                origin = mapping.course(raw).origin_id
                if origin:
                    out[origin] = raw
        return out

    def course_by_wid(self, course_wid: str) -> ET.Element | None:
        from lmsbridge.connectors.workday.streams import course_pages

        for page in course_pages(self):
            for raw in page:
                if first_id(raw, None, "WID") == course_wid:
                    return raw
        return None

    def enrollment_row(self, enrollment_wid: str) -> ET.Element:
        body = self.api.call(
            "Learning",
            "Get_Learning_Enrollments",
            "<bsvc:Request_References><bsvc:Learning_Enrollment_Reference>"
            f'<bsvc:ID bsvc:type="WID">{escape(enrollment_wid)}</bsvc:ID>'
            "</bsvc:Learning_Enrollment_Reference></bsvc:Request_References>",
        )
        rows = body.findall("wd:Response_Data/wd:Learning_Enrollment", NS)
        if not rows:
            raise ItemError(
                f"{SERVICE} has no learning enrollment {enrollment_wid}.", code=ErrorCode.REMOTE_INPUT_INVALID
            )
        return rows[0]

    def enrollment(self, enrollment_wid: str) -> ProgressionRecord:
        return mapping.progression(self.enrollment_row(enrollment_wid))

    # -- actions ------------------------------------------------------------------------------------
    def perform_enrol(self, user_remote_id: str, revision_remote_id: str) -> ProgressionRecord:
        """`Enroll_In_Learning_Content` (the Enroll in Content business process, auto-completed):
        its data wraps `Enroll_In_Learning_Course_Data` with the course and the learner; the answer
        names the enrollment (`Proposed_Enrollment_Reference`), read back by reference."""
        course_wid = revision_remote_id.split(":", 1)[0]
        body = self.api.call(
            "Learning",
            "Enroll_In_Learning_Content",
            "<bsvc:Business_Process_Parameters><bsvc:Auto_Complete>true</bsvc:Auto_Complete>"
            "<bsvc:Run_Now>true</bsvc:Run_Now></bsvc:Business_Process_Parameters>"
            "<bsvc:Enroll_In_Learning_Content_Data><bsvc:Enroll_In_Learning_Course_Data>"
            f'<bsvc:Learning_Course_Reference><bsvc:ID bsvc:type="WID">{escape(course_wid)}</bsvc:ID>'
            "</bsvc:Learning_Course_Reference><bsvc:Learner_Reference>"
            f'<bsvc:ID bsvc:type="Employee_ID">{escape(user_remote_id)}</bsvc:ID></bsvc:Learner_Reference>'
            "</bsvc:Enroll_In_Learning_Course_Data></bsvc:Enroll_In_Learning_Content_Data>",
        )
        enrollment_wid = first_id(body, "Proposed_Enrollment_Reference", "WID")
        if not enrollment_wid:
            raise ItemError(
                f"{SERVICE} accepted the enrolment but named no enrollment.",
                code=ErrorCode.REMOTE_UNKNOWN_HTTP_ERROR,
            )
        return self.enrollment(enrollment_wid)

    def perform_complete(
        self, progression_remote_id: str, completed_at: datetime, score: int | None
    ) -> ProgressionRecord:
        """`Put_Learning_Enrollment` on the enrollment: its data names the content and the learner
        (the WSDL requires both), so they are read first and sent back as they are."""
        data = self.enrollment_row(progression_remote_id).find("wd:Learning_Enrollment_Data", NS)
        content = first_id(data, "Learning_Content_Reference", "WID") if data is not None else ""
        learner_ref = data.find("wd:Learner_Reference", NS) if data is not None else None
        kind, learner = (id_of(learner_ref) if learner_ref is not None else None) or ("Employee_ID", "")
        score_xml = (
            f"<bsvc:Overall_Course_Score>{score}</bsvc:Overall_Course_Score>" if score is not None else ""
        )
        self.api.call(
            "Learning",
            "Put_Learning_Enrollment",
            "<bsvc:Learning_Enrollment_Reference>"
            f'<bsvc:ID bsvc:type="WID">{escape(progression_remote_id)}</bsvc:ID>'
            "</bsvc:Learning_Enrollment_Reference><bsvc:Learning_Enrollment_Data>"
            f'<bsvc:Learning_Content_Reference><bsvc:ID bsvc:type="WID">{escape(content)}</bsvc:ID>'
            "</bsvc:Learning_Content_Reference><bsvc:Learner_Reference>"
            f'<bsvc:ID bsvc:type="{escape(kind)}">{escape(learner)}</bsvc:ID></bsvc:Learner_Reference>'
            "<bsvc:Learning_Enrollment_Completion_Date>"
            f"{completed_at.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%S')}Z"
            f"</bsvc:Learning_Enrollment_Completion_Date>{score_xml}</bsvc:Learning_Enrollment_Data>",
        )
        return self.enrollment(progression_remote_id)

    def perform_deactivate_course(self, course_remote_id: str) -> CourseRecord:
        """`Manage_Learning_Course` with the course's reference and its data as listed, `Inactive`
        set (a Put replaces the course's data, so nothing else changes), then read back."""
        raw = self.course_by_wid(course_remote_id)
        if raw is None:
            raise ItemError(
                f"{SERVICE} has no course {course_remote_id}.", code=ErrorCode.REMOTE_INPUT_INVALID
            )
        course = replace(CourseData.of(raw), inactive=True)
        self.api.call("Learning", "Manage_Learning_Course", course.request())
        found = self.course_by_wid(course_remote_id)
        if found is None:
            raise ItemError(
                f"{SERVICE} no longer lists course {course_remote_id}.", code=ErrorCode.REMOTE_INPUT_INVALID
            )
        return mapping.course(found)

    # -- preflight and passthrough --------------------------------------------------------------------
    def preflight(self) -> list[str]:
        """One worker (Human_Resources) and one enrollment (Learning) prove the user or client and
        the two domains lmsbridge reads most."""
        with self.session(None) as api:
            one = (
                "<bsvc:Response_Filter><bsvc:Page>1</bsvc:Page><bsvc:Count>1</bsvc:Count>"
                "</bsvc:Response_Filter>"
            )
            api.call("Human_Resources", "Get_Workers", one)
            api.call("Learning", "Get_Learning_Enrollments", one)
        return []

    def passthrough(self, api: str, request: Any) -> Any:
        from lmsbridge.connectors.workday.passthrough import relay

        return relay(self, api, request)


__all__ = ["SERVICE", "WorkdayConnector"]
