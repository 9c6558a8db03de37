"""The TalentLMS connector's line in the conformance battery: one emulator served by uvicorn on a
loopback port for the process, a freshly seeded portal behind it for each test, and the vendor's
own failure answers injected through the kit's faults."""

from __future__ import annotations

import time
from typing import Any, ClassVar

from lmsbridge.testing.conformance.pair import ConformancePair
from lmsbridge.testing.emulators.kit import Fault
from lmsbridge.testing.emulators.kit.served import Served
from lmsbridge.testing.emulators.talentlms.app import create_app
from lmsbridge.testing.emulators.talentlms.errors import API_ERROR
from lmsbridge.testing.emulators.talentlms.site import TalentLmsSite, seeded_site
from lmsbridge.testing.emulators.talentlms.spec import SpecCheck

# Retries stay real but quick, and batch tasks are polled often: a test must not sleep for seconds.
QUICK = {
    "retry_base_delay_seconds": 0.01,
    "max_attempts": 3,
    "timeout_seconds": 5.0,
    "task_poll_seconds": 0.02,
}


class TalentLmsPair(ConformancePair):
    tool: ClassVar[str] = "talentlms"
    served: ClassVar[Served | None] = None
    site: TalentLmsSite

    @classmethod
    def shared(cls) -> Served:
        if TalentLmsPair.served is None:
            TalentLmsPair.served = Served(create_app, TalentLmsSite(), "talentlms-emulator")
        return TalentLmsPair.served

    def start(self) -> None:
        self.site = self.shared().use(
            seeded_site(seed=3, api_key=self.secret, users=23, courses=7, enrolments=30)
        )
        self.site.spec_check = SpecCheck.load()

    def stop(self) -> None:
        self.shared().use(TalentLmsSite())

    def settings(self, scenario: str) -> dict[str, Any] | None:
        url = self.served.url if self.served is not None else "http://127.0.0.1:9"
        base = {"site_url": url, "page_size": 10, **QUICK}  # several pages of users
        scenarios = {
            "default": base,
            "auth_invalid": base,  # the key is wrong, not the settings
            "small_pages": {**base, "page_size": self.small_page_size},
        }
        return scenarios.get(scenario)

    def credentials(self, valid: bool = True) -> dict[str, Any] | None:
        return {"api_key": self.secret if valid else "not-the-key-" + self.secret[::-1]}

    def inject(self, scenario: str) -> bool:
        site = self.site
        if scenario == "repeat_page":
            site.repeat_first_page = True
        elif scenario == "rate_limited":
            reset = str(int(time.time()) + 1)
            body = f'{{"type": "{API_ERROR}", "message": "Rate limit exceeded"}}'
            headers = {"X-RateLimit-Limit": "200", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset}
            site.faults.add(
                Fault(
                    "status",
                    "GET /api/v2/users",
                    2,
                    429,
                    body=body,
                    content_type="application/json",
                    headers=headers,
                )
            )
        elif scenario == "outage_burst":
            site.faults.add(Fault("status", None, 2, 503))
        elif scenario == "lasting_outage":
            site.faults.add(Fault("status", None, None, 503))
        elif scenario == "drop_after_create":
            site.faults.add(Fault("drop_after_write", "POST /api/v2/batch/courses", 1))
        else:
            return False
        return True

    def change_remote(self, integration_id: str, store: Any) -> bool:
        """Renames three users: their `last_updated` moves, as TalentLMS's does on an edit."""
        for user in self.site.listed_users()[1:4]:
            user.name = f"{user.name} (renamed)"
            self.site.touch_user(user)
        return True
