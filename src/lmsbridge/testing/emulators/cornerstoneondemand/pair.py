"""The Cornerstone connector's line in the conformance battery (the kit's EmulatedPair): a freshly
seeded portal for each test, Cornerstone's own throttling answer with its rate headers, and a
dropped answer after a learning object is written."""

from __future__ import annotations

import json
from typing import Any

from lmsbridge.testing.emulators.cornerstoneondemand.app import create_app
from lmsbridge.testing.emulators.cornerstoneondemand.site import HOURLY_LIMIT, Portal, envelope, seeded_portal
from lmsbridge.testing.emulators.kit import Fault
from lmsbridge.testing.emulators.kit.pair import QUICK as KIT_QUICK
from lmsbridge.testing.emulators.kit.pair import EmulatedPair
from lmsbridge.testing.emulators.kit.served import Served

# Tests run unpaced: the emulator is local and its limiter is set per test.
QUICK = {"rate_limit_per_second": 10_000, **KIT_QUICK}


class CornerstonePair(EmulatedPair):
    tool = "cornerstoneondemand"
    quick = QUICK
    create_call = "POST /services/api/x/lo/v1/materials"
    remote: Portal

    @classmethod
    def serve(cls) -> Served:
        return Served(create_app, Portal(), "cornerstone-emulator", "portal")

    def seeded(self) -> Portal:
        # No retired course: the battery enrols on whichever course lists first, which must be
        # assignable. The connector and end-to-end tests have the retired one.
        return seeded_portal(
            seed=3,
            client_id=self.client_id,
            client_secret=self.secret,
            users=23,
            courses=7,
            enrolments=30,
            retired=False,
        )

    def base_settings(self, url: str) -> dict[str, Any]:
        return {"site_url": url, "page_size": 10}

    def rate_limit_fault(self) -> Fault:
        return Fault(
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

    def change_remote(self, integration_id: str, store: Any) -> bool:
        """Three learners go on with a learning object: their transcript rows are touched now."""
        for row in self.remote.transcripts[:3]:
            self.remote.touch(row)
        return True
