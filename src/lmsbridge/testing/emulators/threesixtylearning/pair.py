"""The 360Learning connector's line in the conformance battery (the kit's EmulatedPair): a freshly
seeded company for each test checked against the vendor's spec, 360Learning's own throttling
answer, and a dropped answer after a bulk course write."""

from __future__ import annotations

from typing import Any

from lmsbridge.testing.emulators.kit import Fault
from lmsbridge.testing.emulators.kit.pair import QUICK as KIT_QUICK
from lmsbridge.testing.emulators.kit.pair import EmulatedPair
from lmsbridge.testing.emulators.kit.served import Served
from lmsbridge.testing.emulators.threesixtylearning.app import create_app
from lmsbridge.testing.emulators.threesixtylearning.site import Company, seeded_company
from lmsbridge.testing.emulators.threesixtylearning.spec import SpecCheck

# Bulk operations are polled often: a test must not sleep for seconds.
QUICK = {**KIT_QUICK, "bulk_poll_seconds": 0.02}


class ThreeSixtyLearningPair(EmulatedPair):
    tool = "360learning"
    quick = QUICK
    create_call = "PUT /api/v2/bulk/integrations/{integrationId}/courses"
    remote: Company

    @classmethod
    def serve(cls) -> Served:
        return Served(create_app, Company(), "360learning-emulator", "company")

    def seeded(self) -> Company:
        company = seeded_company(
            seed=3, client_id=self.client_id, client_secret=self.secret, users=23, courses=7, enrolments=30
        )
        company.page_sizes = dict.fromkeys(company.page_sizes, 10)  # several pages
        company.spec_check = SpecCheck.load()
        return company

    def base_settings(self, url: str) -> dict[str, Any]:
        base: dict[str, Any] = {"site_url": url}
        company: Company | None = getattr(self, "remote", None)
        if company is not None:
            base |= {"author_id": company.admin_id, "group_id": company.group_id}
        return base

    def settings(self, scenario: str) -> dict[str, Any] | None:
        company: Company | None = getattr(self, "remote", None)
        if scenario == "small_pages" and company is not None:
            # 360Learning fixes its page sizes (no setting chooses them): the emulator's shrink instead.
            company.page_sizes = dict.fromkeys(company.page_sizes, self.small_page_size)
        base = {**self.base_settings(self.shared().url), **self.quick}
        return {"default": base, "auth_invalid": base, "small_pages": base}.get(scenario)

    def rate_limit_fault(self) -> Fault:
        body = '{"error": "tooManyRequests"}'
        return Fault(
            "status", "GET /api/v2/users", 2, 429, retry_after="1", body=body, content_type="application/json"
        )

    def change_remote(self, integration_id: str, store: Any) -> bool:
        """Renames three courses: their `modifiedAt` moves, as 360Learning's does on an edit."""
        from lmsbridge.testing.emulators.threesixtylearning.site import iso, now

        for course in self.remote.courses[1:4]:
            course["name"] = f"{course['name']} (renamed)"
            course["modifiedAt"] = iso(now())
        return True
