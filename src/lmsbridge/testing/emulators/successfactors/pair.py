"""The SuccessFactors connector's line in the conformance battery (the kit's EmulatedPair): a
freshly seeded tenant per test (with OCN's pace shortened), SuccessFactors' own throttling
answer, and a dropped answer after a course is written."""

from __future__ import annotations

from typing import Any

from lmsbridge.testing.emulators.kit import Fault
from lmsbridge.testing.emulators.kit.pair import QUICK, EmulatedPair
from lmsbridge.testing.emulators.kit.served import Served
from lmsbridge.testing.emulators.successfactors.app import create_app
from lmsbridge.testing.emulators.successfactors.site import SuccessFactorsSite, seeded_site

__all__ = ["QUICK", "SuccessFactorsPair"]

# The connector waits a little longer than the emulator demands, so no post is refused.
TEST_PACE = {"connector": 0.05, "emulator": 0.02}


class SuccessFactorsPair(EmulatedPair):
    tool = "successfactors"
    create_call = "POST OcnCourses"
    remote: SuccessFactorsSite

    @classmethod
    def serve(cls) -> Served:
        return Served(create_app, SuccessFactorsSite(), "successfactors-emulator")

    def seeded(self) -> SuccessFactorsSite:
        return seeded_site(
            seed=3,
            client_id=self.client_id,
            client_secret=self.secret,
            users=23,
            courses=7,
            enrolments=30,
            ocn_pace_seconds=TEST_PACE["emulator"],
        )

    def base_settings(self, url: str) -> dict[str, Any]:
        return {
            "learning_url": url,
            "company_id": "ACME01",
            "page_size": 10,
            "rate_limit_per_second": None,
            "ocn_pace_seconds": TEST_PACE["connector"],
        }

    def repeat_page(self) -> None:
        super().repeat_page()
        self.remote.next_links = False

    def rate_limit_fault(self) -> Fault:
        body = '{"error": {"code": "429", "message": "Too many requests; the service is throttled."}}'
        return Fault(
            "status", "GET Students", 2, 429, retry_after="1", body=body, content_type="application/json"
        )
