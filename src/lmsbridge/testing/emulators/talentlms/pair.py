"""The TalentLMS connector's line in the conformance battery (the kit's EmulatedPair): a freshly
seeded portal for each test checked against the vendor's spec, TalentLMS's own rate-limit
answer, and a dropped answer after a course batch is written."""

from __future__ import annotations

import time
from typing import Any

from lmsbridge.testing.emulators.kit import Fault
from lmsbridge.testing.emulators.kit.pair import QUICK as KIT_QUICK
from lmsbridge.testing.emulators.kit.pair import EmulatedPair
from lmsbridge.testing.emulators.kit.served import Served
from lmsbridge.testing.emulators.talentlms.app import create_app
from lmsbridge.testing.emulators.talentlms.errors import API_ERROR
from lmsbridge.testing.emulators.talentlms.site import TalentLmsSite, seeded_site
from lmsbridge.testing.emulators.talentlms.spec import SpecCheck

# Batch tasks are polled often: a test must not sleep for seconds.
QUICK = {**KIT_QUICK, "task_poll_seconds": 0.02}


class TalentLmsPair(EmulatedPair):
    tool = "talentlms"
    quick = QUICK
    create_call = "POST /api/v2/batch/courses"
    remote: TalentLmsSite

    @classmethod
    def serve(cls) -> Served:
        return Served(create_app, TalentLmsSite(), "talentlms-emulator")

    def seeded(self) -> TalentLmsSite:
        site = seeded_site(seed=3, api_key=self.secret, users=23, courses=7, enrolments=30)
        site.spec_check = SpecCheck.load()
        return site

    def base_settings(self, url: str) -> dict[str, Any]:
        return {"site_url": url, "page_size": 10}  # several pages of users

    def credentials(self, valid: bool = True) -> dict[str, Any] | None:
        return {"api_key": self.secret if valid else "not-the-key-" + self.secret[::-1]}

    def rate_limit_fault(self) -> Fault:
        reset = str(int(time.time()) + 1)
        body = f'{{"type": "{API_ERROR}", "message": "Rate limit exceeded"}}'
        headers = {"X-RateLimit-Limit": "200", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset}
        return Fault(
            "status", "GET /api/v2/users", 2, 429, body=body, content_type="application/json", headers=headers
        )

    def change_remote(self, integration_id: str, store: Any) -> bool:
        """Renames three users: their `last_updated` moves, as TalentLMS's does on an edit."""
        for user in self.remote.listed_users()[1:4]:
            user.name = f"{user.name} (renamed)"
            self.remote.touch_user(user)
        return True
