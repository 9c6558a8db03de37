"""The Cornerstone connector's line in the conformance battery: one emulator served by uvicorn on
a loopback port for the process, a freshly seeded portal behind it for each test, and
Cornerstone's own failure answers injected through the kit's faults."""

from __future__ import annotations

import json
from typing import Any, ClassVar

from lmsbridge.testing.conformance.pair import ConformancePair
from lmsbridge.testing.emulators.cornerstoneondemand.app import create_app
from lmsbridge.testing.emulators.cornerstoneondemand.site import HOURLY_LIMIT, Portal, envelope, seeded_portal
from lmsbridge.testing.emulators.kit import Fault
from lmsbridge.testing.emulators.kit.served import Served

# Tests run unpaced: the emulator is local and its limiter is set per test.
QUICK = {
    "rate_limit_per_second": 10_000,
    "retry_base_delay_seconds": 0.01,
    "max_attempts": 3,
    "timeout_seconds": 5.0,
}
CLIENT_ID = "conformance-client"


class CornerstonePair(ConformancePair):
    tool: ClassVar[str] = "cornerstoneondemand"
    served: ClassVar[Served | None] = None
    portal: Portal

    @classmethod
    def shared(cls) -> Served:
        if CornerstonePair.served is None:
            CornerstonePair.served = Served(create_app, Portal(), "cornerstone-emulator", "portal")
        return CornerstonePair.served

    def start(self) -> None:
        # No retired course: the battery enrols on whichever course lists first, which must be
        # assignable. The connector and end-to-end tests have the retired one.
        self.portal = self.shared().use(
            seeded_portal(
                seed=3,
                client_id=CLIENT_ID,
                client_secret=self.secret,
                users=23,
                courses=7,
                enrolments=30,
                retired=False,
            )
        )

    def stop(self) -> None:
        self.shared().use(Portal())

    def settings(self, scenario: str) -> dict[str, Any] | None:
        base = {"site_url": self.shared().url, "page_size": 10, **QUICK}
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
        portal = self.portal
        if scenario == "repeat_page":
            portal.repeat_first_page = True
        elif scenario == "rate_limited":
            portal.faults.add(
                Fault(
                    "status",
                    "GET /services/api/x/users/v2/employees",
                    2,
                    429,
                    body=json.dumps(envelope(429, "CSOD Too many requests.")),
                    content_type="application/json",
                    headers={
                        "x-csod-throttling-rate-limit-urilevel": str(HOURLY_LIMIT),
                        "x-csod-requests-remaining-urilevel": "0",
                    },
                )
            )
        elif scenario == "outage_burst":
            portal.faults.add(Fault("status", None, 2, 503))
        elif scenario == "lasting_outage":
            portal.faults.add(Fault("status", None, None, 503))
        elif scenario == "drop_after_create":
            portal.faults.add(Fault("drop_after_write", "POST /services/api/x/lo/v1/materials", 1))
        else:
            return False
        return True

    def change_remote(self, integration_id: str, store: Any) -> bool:
        """Three learners go on with a learning object: their transcript rows are touched now."""
        for row in self.portal.transcripts[:3]:
            self.portal.touch(row)
        return True
