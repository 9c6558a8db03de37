"""The LinkedIn Learning connector's line in the conformance battery: one emulator served by
uvicorn on a loopback port for the process, a freshly seeded account behind it for each test,
and LinkedIn's own failure answers injected through the kit's faults. The server is the
kit's Served."""

from __future__ import annotations

from typing import Any, ClassVar

from lmsbridge.testing.conformance.pair import ConformancePair
from lmsbridge.testing.emulators.kit import Fault
from lmsbridge.testing.emulators.kit.served import Served
from lmsbridge.testing.emulators.linkedinlearning.app import create_app
from lmsbridge.testing.emulators.linkedinlearning.site import LinkedInSite, seeded_site

QUICK = {"retry_base_delay_seconds": 0.01, "max_attempts": 3, "timeout_seconds": 5.0}
CLIENT_ID = "conformance-client"


class LinkedInLearningPair(ConformancePair):
    tool: ClassVar[str] = "linkedinlearning"
    served: ClassVar[Served | None] = None
    site: LinkedInSite

    @classmethod
    def shared(cls) -> Served:
        if LinkedInLearningPair.served is None:
            LinkedInLearningPair.served = Served(create_app, LinkedInSite(), "linkedinlearning-emulator")
        return LinkedInLearningPair.served

    def start(self) -> None:
        self.site = self.shared().use(
            seeded_site(
                seed=3, client_id=CLIENT_ID, client_secret=self.secret, users=23, courses=7, enrolments=30
            )
        )

    def stop(self) -> None:
        self.shared().reset()

    def settings(self, scenario: str) -> dict[str, Any] | None:
        url = self.shared().url
        # No report lag in tests: the emulator's reports are current.
        base = {"api_url": url, "oauth_url": url, "page_size": 10, "report_lag_hours": 0, **QUICK}
        scenarios = {
            "default": base,
            "auth_invalid": base,
            "small_pages": {**base, "page_size": self.small_page_size},
        }
        return scenarios.get(scenario)

    def credentials(self, valid: bool = True) -> dict[str, Any] | None:
        return {
            "client_id": CLIENT_ID,
            "client_secret": self.secret if valid else "wrong-" + self.secret[::-1],
        }

    def inject(self, scenario: str) -> bool:
        site = self.site
        if scenario == "repeat_page":
            site.repeat_first_page = True
        elif scenario == "rate_limited":
            body = '{"message": "Resource level throttle APPLICATION DAY limit reached.", "status": 429}'
            site.faults.add(  # LinkedIn sends no Retry-After: the client's own backoff paces it
                Fault(
                    "status",
                    "GET learningActivityReports",
                    2,
                    429,
                    body=body,
                    content_type="application/json",
                )
            )
        elif scenario == "outage_burst":
            site.faults.add(Fault("status", None, 2, 503))
        elif scenario == "lasting_outage":
            site.faults.add(Fault("status", None, None, 503))
        else:
            return False
        return True

    def change_remote(self, integration_id: str, store: Any) -> bool:
        """Three learners go on with a course and two courses are edited: both move to now."""
        for activity in self.site.activities[:3]:
            self.site.touch(activity)
        for asset in self.site.assets[:2]:
            self.site.edit(asset)
        return True
