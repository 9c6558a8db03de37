"""The Udemy connector's line in the conformance battery: one emulator served by uvicorn on a
loopback port for the process, a freshly seeded organization behind it for each test, and
Udemy's own failure answers injected through the kit's faults."""

from __future__ import annotations

from typing import Any, ClassVar

from lmsbridge.testing.conformance.pair import ConformancePair
from lmsbridge.testing.emulators.kit import Fault
from lmsbridge.testing.emulators.kit.served import Served
from lmsbridge.testing.emulators.udemy.app import create_app
from lmsbridge.testing.emulators.udemy.site import UdemySite, seeded_site

QUICK = {"retry_base_delay_seconds": 0.01, "max_attempts": 3, "timeout_seconds": 5.0}
CLIENT_ID = "conformance-client"


class UdemyPair(ConformancePair):
    tool: ClassVar[str] = "udemy"
    served: ClassVar[Served | None] = None
    site: UdemySite

    @classmethod
    def shared(cls) -> Served:
        if UdemyPair.served is None:
            UdemyPair.served = Served(create_app, UdemySite(), "udemy-emulator")
        return UdemyPair.served

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
        base = {"site_url": url, "account_id": "123456", "page_size": 10, "report_lag_hours": 0, **QUICK}
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
            body = '{"detail": "Request was throttled. Expected available in 1 seconds."}'
            site.faults.add(
                Fault(
                    "status",
                    "GET analytics/user-activity",
                    2,
                    429,
                    retry_after="1",
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
        """Three learners go on with a course: their report rows move to today."""
        for activity in [a for a in self.site.activities if a.email][:3]:
            self.site.touch(activity)
        return True
