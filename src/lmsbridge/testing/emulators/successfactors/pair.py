"""The SuccessFactors connector's line in the conformance battery: one emulator served by uvicorn
on a loopback port for the process, a freshly seeded tenant per test (with OCN's pace shortened),
and SuccessFactors' own failure answers injected through the kit's faults. The server is
the kit's Served."""

from __future__ import annotations

from typing import Any, ClassVar

from lmsbridge.testing.conformance.pair import ConformancePair
from lmsbridge.testing.emulators.kit import Fault
from lmsbridge.testing.emulators.kit.served import Served
from lmsbridge.testing.emulators.successfactors.app import create_app
from lmsbridge.testing.emulators.successfactors.site import SuccessFactorsSite, seeded_site

QUICK = {"retry_base_delay_seconds": 0.01, "max_attempts": 3, "timeout_seconds": 5.0}
CLIENT_ID = "conformance-client"
# The connector waits a little longer than the emulator demands, so no post is refused.
TEST_PACE = {"connector": 0.05, "emulator": 0.02}


class SuccessFactorsPair(ConformancePair):
    tool: ClassVar[str] = "successfactors"
    served: ClassVar[Served | None] = None
    site: SuccessFactorsSite

    @classmethod
    def shared(cls) -> Served:
        if SuccessFactorsPair.served is None:
            SuccessFactorsPair.served = Served(create_app, SuccessFactorsSite(), "successfactors-emulator")
        return SuccessFactorsPair.served

    def start(self) -> None:
        self.site = self.shared().use(
            seeded_site(
                seed=3,
                client_id=CLIENT_ID,
                client_secret=self.secret,
                users=23,
                courses=7,
                enrolments=30,
                ocn_pace_seconds=TEST_PACE["emulator"],
            )
        )

    def stop(self) -> None:
        self.shared().reset()

    def settings(self, scenario: str) -> dict[str, Any] | None:
        base = {
            "learning_url": self.shared().url,
            "company_id": "ACME01",
            "page_size": 10,
            "rate_limit_per_second": None,
            "ocn_pace_seconds": TEST_PACE["connector"],
            **QUICK,
        }
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
            site.next_links = False
        elif scenario == "rate_limited":
            body = '{"error": {"code": "429", "message": "Too many requests; the service is throttled."}}'
            site.faults.add(
                Fault(
                    "status",
                    "GET Students",
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
        elif scenario == "drop_after_create":
            site.faults.add(Fault("drop_after_write", "POST OcnCourses", 1))
        else:
            return False
        return True
