"""The Udemy Business connector: reads users, courses (one revision each, with their category
skills), skills and course progressions; writes nothing, since Udemy's API offers no write
(assignments are made in Udemy's own UI). Passthrough reaches the organization's API."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import ClassVar

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
from lmsbridge.connectors.errors import AuthenticationInvalidError
from lmsbridge.connectors.udemy.client import SERVICE, UdemyApi
from lmsbridge.connectors.udemy.settings import UdemyCredentials, UdemySettings
from lmsbridge.connectors.udemy.setup import SETUP_TEXT
from lmsbridge.connectors.udemy.streams import Courses, Progressions, Skills, Users

U = Coverage.UNSUPPORTED


class UdemyConnector(BaseConnector[UdemySettings]):
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

    def __init__(self, context: ConnectorContext) -> None:
        super().__init__(context)
        client_id, secret = context.credentials.get("client_id"), context.credentials.get("client_secret")
        self.client_id = client_id.strip() if isinstance(client_id, str) and client_id.strip() else None
        self.client_secret = secret.strip() if isinstance(secret, str) and secret.strip() else None
        self._api: UdemyApi | None = None

    @contextmanager
    def session(self, operation: WriteAction | None = None) -> Iterator[UdemyApi]:
        if self._api is not None:
            yield self._api
            return
        if self.client_id is None or self.client_secret is None:
            raise AuthenticationInvalidError(
                f"The integration has no {SERVICE} API client: give credentials as "
                '{"client_id": "...", "client_secret": "..."}.'
            )
        self._api = UdemyApi(
            self.settings,
            self.client_id,
            self.client_secret,
            transport=self.context.transport,
            pacer=self.context.pacer,
            pace_key=self.integration_id,
        )
        try:
            yield self._api
        finally:
            self._api.close()
            self._api = None

    @property
    def api(self) -> UdemyApi:
        if self._api is None:
            raise RuntimeError("Udemy calls run inside session()")
        return self._api

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
