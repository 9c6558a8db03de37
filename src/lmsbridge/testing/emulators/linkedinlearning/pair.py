"""The LinkedIn Learning connector's line in the conformance battery (the kit's EmulatedPair): a
freshly seeded account for each test, and LinkedIn's own throttling answer."""

from __future__ import annotations

from typing import Any

from lmsbridge.testing.emulators.kit import Fault
from lmsbridge.testing.emulators.kit.pair import QUICK, EmulatedPair
from lmsbridge.testing.emulators.kit.served import Served
from lmsbridge.testing.emulators.linkedinlearning.app import create_app
from lmsbridge.testing.emulators.linkedinlearning.site import LinkedInSite, seeded_site

__all__ = ["QUICK", "LinkedInLearningPair"]


class LinkedInLearningPair(EmulatedPair):
    tool = "linkedinlearning"
    remote: LinkedInSite

    @classmethod
    def serve(cls) -> Served:
        return Served(create_app, LinkedInSite(), "linkedinlearning-emulator")

    def seeded(self) -> LinkedInSite:
        return seeded_site(
            seed=3, client_id=self.client_id, client_secret=self.secret, users=23, courses=7, enrolments=30
        )

    def base_settings(self, url: str) -> dict[str, Any]:
        # No report lag in tests: the emulator's reports are current.
        return {"api_url": url, "oauth_url": url, "page_size": 10, "report_lag_hours": 0}

    def rate_limit_fault(self) -> Fault:
        body = '{"message": "Resource level throttle APPLICATION DAY limit reached.", "status": 429}'
        # LinkedIn sends no Retry-After: the client's own backoff paces it.
        return Fault(
            "status", "GET learningActivityReports", 2, 429, body=body, content_type="application/json"
        )

    def change_remote(self, integration_id: str, store: Any) -> bool:
        """Three learners go on with a course and two courses are edited: both move to now."""
        for activity in self.remote.activities[:3]:
            self.remote.touch(activity)
        for asset in self.remote.assets[:2]:
            self.remote.edit(asset)
        return True
