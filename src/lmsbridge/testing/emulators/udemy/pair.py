"""The Udemy connector's line in the conformance battery (the kit's EmulatedPair): a freshly
seeded organization for each test, and Udemy's own throttling answer."""

from __future__ import annotations

from typing import Any

from lmsbridge.testing.emulators.kit import Fault
from lmsbridge.testing.emulators.kit.pair import QUICK, EmulatedPair
from lmsbridge.testing.emulators.kit.served import Served
from lmsbridge.testing.emulators.udemy.app import create_app
from lmsbridge.testing.emulators.udemy.site import UdemySite, seeded_site

__all__ = ["QUICK", "UdemyPair"]


class UdemyPair(EmulatedPair):
    tool = "udemy"
    remote: UdemySite

    @classmethod
    def serve(cls) -> Served:
        return Served(create_app, UdemySite(), "udemy-emulator")

    def seeded(self) -> UdemySite:
        return seeded_site(
            seed=3, client_id=self.client_id, client_secret=self.secret, users=23, courses=7, enrolments=30
        )

    def base_settings(self, url: str) -> dict[str, Any]:
        # No report lag in tests: the emulator's reports are current.
        return {"site_url": url, "account_id": "123456", "page_size": 10, "report_lag_hours": 0}

    def rate_limit_fault(self) -> Fault:
        body = '{"detail": "Request was throttled. Expected available in 1 seconds."}'
        return Fault(
            "status",
            "GET analytics/user-activity",
            2,
            429,
            retry_after="1",
            body=body,
            content_type="application/json",
        )

    def change_remote(self, integration_id: str, store: Any) -> bool:
        """Three learners go on with a course: their report rows move to today."""
        for activity in [a for a in self.remote.activities if a.email][:3]:
            self.remote.touch(activity)
        return True
