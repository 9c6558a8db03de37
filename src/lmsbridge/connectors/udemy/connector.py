"""The Udemy Business connector: reads users, courses (one revision each, with their category
skills), skills and course progressions; writes nothing, since Udemy's API offers no write
(assignments are made in Udemy's own UI). Passthrough reaches the organization's API."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel

from lmsbridge.connectors.base import (
    ConnectorSettings,
    Coverage,
    ModelCoverage,
    PassthroughRequest,
    PassthroughResponse,
    WriteAction,
)
from lmsbridge.connectors.connector import BaseConnector
from lmsbridge.connectors.http.session import ClientCredentialsSession
from lmsbridge.connectors.udemy.client import SERVICE, UdemyApi
from lmsbridge.connectors.udemy.settings import UdemyCredentials, UdemySettings
from lmsbridge.connectors.udemy.setup import SETUP_TEXT
from lmsbridge.connectors.udemy.streams import Courses, Progressions, Skills, Users

U = Coverage.UNSUPPORTED


class UdemyConnector(ClientCredentialsSession[UdemyApi], BaseConnector[UdemySettings]):
    tool: ClassVar[str] = "udemy"
    label: ClassVar[str] = "Udemy Business"
    settings_model: ClassVar[type[ConnectorSettings]] = UdemySettings
    credentials_model: ClassVar[type[BaseModel]] = UdemyCredentials
    setup_text: ClassVar[str] = SETUP_TEXT
    passthrough_apis: ClassVar[dict[str, str]] = {
        "learning": "{site_url}/api-2.0/organizations/{account_id}/"
    }
    streams = (Users, Courses, Skills, Progressions)
    model_coverage: ClassVar[dict[str, ModelCoverage]] = {
        "lms_course_providers": ModelCoverage(U),
        "hris_skills": ModelCoverage(U),
    }
    action_coverage: ClassVar[dict[WriteAction, Coverage]] = dict.fromkeys(WriteAction, U)

    def open_api(self, client_id: str, client_secret: str) -> UdemyApi:
        context = self.context
        return UdemyApi(
            self.settings,
            client_id,
            client_secret,
            transport=context.transport,
            pacer=context.pacer,
            pace_key=self.integration_id,
        )

    def preflight(self) -> list[str]:
        """One course and one report row prove the client, the organization id and both APIs."""
        with self.session(None) as api:
            api.get("courses/list/", {"page": 1, "page_size": 1, "fields[course]": "id"})
            api.get("analytics/user-activity/", {"page": 1, "page_size": 1})
        return []

    def passthrough(self, api: str, request: PassthroughRequest) -> PassthroughResponse:
        from lmsbridge.connectors.udemy.passthrough import relay

        return relay(self, api, request)


__all__ = ["SERVICE", "UdemyConnector"]
