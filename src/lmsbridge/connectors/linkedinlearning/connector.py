"""The LinkedIn Learning connector: reads courses (one revision each, with their SKILL
classifications), skills, and users and course progressions from the activity reports; writes
nothing, since LinkedIn's Learning API offers no write. Passthrough reaches `/v2`."""

from __future__ import annotations

import time
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
from lmsbridge.connectors.linkedinlearning.client import SERVICE, LinkedInLearningApi
from lmsbridge.connectors.linkedinlearning.settings import (
    LinkedInLearningCredentials,
    LinkedInLearningSettings,
)
from lmsbridge.connectors.linkedinlearning.setup import SETUP_TEXT
from lmsbridge.connectors.linkedinlearning.streams import Courses, Progressions, Skills, Users

U = Coverage.UNSUPPORTED


class LinkedInLearningConnector(
    ClientCredentialsSession[LinkedInLearningApi], BaseConnector[LinkedInLearningSettings]
):
    tool: ClassVar[str] = "linkedinlearning"
    label: ClassVar[str] = "LinkedIn Learning"
    settings_model: ClassVar[type[ConnectorSettings]] = LinkedInLearningSettings
    credentials_model: ClassVar[type[BaseModel]] = LinkedInLearningCredentials
    setup_text: ClassVar[str] = SETUP_TEXT
    passthrough_apis: ClassVar[dict[str, str]] = {"v2": "{api_url}/v2"}
    streams = (Users, Courses, Skills, Progressions)
    model_coverage: ClassVar[dict[str, ModelCoverage]] = {
        "lms_course_providers": ModelCoverage(U),
        "hris_skills": ModelCoverage(U),
    }
    action_coverage: ClassVar[dict[WriteAction, Coverage]] = dict.fromkeys(WriteAction, U)

    def open_api(self, client_id: str, client_secret: str) -> LinkedInLearningApi:
        context = self.context
        return LinkedInLearningApi(
            self.settings,
            client_id,
            client_secret,
            transport=context.transport,
            pacer=context.pacer,
            pace_key=self.integration_id,
        )

    def preflight(self) -> list[str]:
        """A token, one course (Content API) and one report row (Reporting API)."""
        s = self.settings
        locale = {"language": s.language, "country": s.country}
        with self.session(None) as api:
            api.get(
                "learningAssets",
                {"q": "localeAndType", "assetType": "COURSE", "sourceLocale": locale, "count": 1},
            )
            api.get(
                "learningActivityReports",
                {
                    "q": "criteria",
                    "startedAt": int((time.time() - 86400 * 7) * 1000),
                    "timeOffset": {"unit": "DAY", "duration": 7},
                    "aggregationCriteria": {"primary": "INDIVIDUAL", "secondary": "CONTENT"},
                    "count": 1,
                },
            )
        return []

    def passthrough(self, api: str, request: PassthroughRequest) -> PassthroughResponse:
        from lmsbridge.connectors.linkedinlearning.passthrough import relay

        return relay(self, api, request)


__all__ = ["SERVICE", "LinkedInLearningConnector"]
