"""The 360Learning connector's line in the conformance battery: one emulator served by uvicorn on a
loopback port for the process, a freshly seeded company behind it for each test, and the vendor's
own failure answers injected through the kit's faults."""

from __future__ import annotations

from typing import Any, ClassVar

from lmsbridge.testing.conformance.pair import ConformancePair
from lmsbridge.testing.emulators.kit import Fault
from lmsbridge.testing.emulators.kit.served import Served
from lmsbridge.testing.emulators.threesixtylearning.app import create_app
from lmsbridge.testing.emulators.threesixtylearning.site import Company, seeded_company
from lmsbridge.testing.emulators.threesixtylearning.spec import SpecCheck

CLIENT_ID = "conformance-client"
# Retries stay real but quick, and bulk operations are polled often: a test must not sleep for seconds.
QUICK = {
    "retry_base_delay_seconds": 0.01,
    "max_attempts": 3,
    "timeout_seconds": 5.0,
    "bulk_poll_seconds": 0.02,
}


class ThreeSixtyLearningPair(ConformancePair):
    tool: ClassVar[str] = "360learning"
    served: ClassVar[Served | None] = None
    company: Company

    @classmethod
    def shared(cls) -> Served:
        if ThreeSixtyLearningPair.served is None:
            ThreeSixtyLearningPair.served = Served(create_app, Company(), "360learning-emulator", "company")
        return ThreeSixtyLearningPair.served

    def start(self) -> None:
        self.company = self.shared().use(
            seeded_company(
                seed=3, client_id=CLIENT_ID, client_secret=self.secret, users=23, courses=7, enrolments=30
            )
        )
        self.company.page_sizes = dict.fromkeys(self.company.page_sizes, 10)  # several pages
        self.company.spec_check = SpecCheck.load()

    def stop(self) -> None:
        self.shared().use(Company())

    def settings(self, scenario: str) -> dict[str, Any] | None:
        url = self.served.url if self.served is not None else "http://127.0.0.1:9"
        c = getattr(self, "company", None)
        base = {"site_url": url, **QUICK}
        if c is not None:
            base |= {"author_id": c.admin_id, "group_id": c.group_id}
        if scenario == "small_pages" and c is not None:
            # 360Learning fixes its page sizes (no setting chooses them): the emulator's shrink instead.
            c.page_sizes = dict.fromkeys(c.page_sizes, self.small_page_size)
        return {"default": base, "auth_invalid": base, "small_pages": base}.get(scenario)

    def credentials(self, valid: bool = True) -> dict[str, Any] | None:
        return {
            "client_id": CLIENT_ID,
            "client_secret": self.secret if valid else "wrong-" + self.secret[::-1],
        }

    def inject(self, scenario: str) -> bool:
        c = self.company
        if scenario == "repeat_page":
            c.repeat_first_page = True
        elif scenario == "rate_limited":
            body = '{"error": "tooManyRequests"}'
            c.faults.add(
                Fault(
                    "status",
                    "GET /api/v2/users",
                    2,
                    429,
                    retry_after="1",
                    body=body,
                    content_type="application/json",
                )
            )
        elif scenario == "outage_burst":
            c.faults.add(Fault("status", None, 2, 503))
        elif scenario == "lasting_outage":
            c.faults.add(Fault("status", None, None, 503))
        elif scenario == "drop_after_create":
            c.faults.add(
                Fault("drop_after_write", "PUT /api/v2/bulk/integrations/{integrationId}/courses", 1)
            )
        else:
            return False
        return True

    def change_remote(self, integration_id: str, store: Any) -> bool:
        """Renames three courses: their `modifiedAt` moves, as 360Learning's does on an edit."""
        from lmsbridge.testing.emulators.threesixtylearning.site import iso, now

        for course in self.company.courses[1:4]:
            course["name"] = f"{course['name']} (renamed)"
            course["modifiedAt"] = iso(now())
        return True
