"""The Workday connector's line in the conformance battery: one emulator served on a loopback port
for the process, a freshly seeded tenant behind it for each test, Workday's failures injected
through the kit's faults."""

from __future__ import annotations

from typing import Any, ClassVar

from lmsbridge.testing.conformance.pair import ConformancePair
from lmsbridge.testing.emulators.kit import Fault
from lmsbridge.testing.emulators.kit.served import Served
from lmsbridge.testing.emulators.workday.app import create_app
from lmsbridge.testing.emulators.workday.site import WorkdaySite, seeded_site, soap_fault

QUICK = {"retry_base_delay_seconds": 0.01, "max_attempts": 3, "timeout_seconds": 5.0}
USER = "ISU_conformance"


class WorkdayPair(ConformancePair):
    tool: ClassVar[str] = "workday"
    served: ClassVar[Served | None] = None
    site: WorkdaySite

    @classmethod
    def shared(cls) -> Served:
        if WorkdayPair.served is None:
            WorkdayPair.served = Served(create_app, WorkdaySite(), "workday-emulator")
        return WorkdayPair.served

    def start(self) -> None:
        self.site = self.shared().use(
            seeded_site(seed=3, user_name=USER, password=self.secret, users=23, courses=7, enrolments=30)
        )

    def stop(self) -> None:
        self.shared().reset()

    def settings(self, scenario: str) -> dict[str, Any] | None:
        base = {"base_url": self.shared().url, "tenant": "acme", "page_size": 10, **QUICK}
        scenarios = {
            "default": base,
            "auth_invalid": base,
            "small_pages": {**base, "page_size": self.small_page_size},
        }
        return scenarios.get(scenario)

    def credentials(self, valid: bool = True) -> dict[str, Any] | None:
        return {"username": USER, "password": self.secret if valid else "wrong-" + self.secret[::-1]}

    def inject(self, scenario: str) -> bool:
        site = self.site
        if scenario == "repeat_page":
            site.repeat_first_page = True
        elif scenario == "rate_limited":
            body = bytes(soap_fault("SOAP-ENV:Server", "Too many requests", 429).body).decode()
            site.faults.add(
                Fault(
                    "status",
                    "Human_Resources Get_Workers",
                    2,
                    429,
                    retry_after="1",
                    body=body,
                    content_type="text/xml",
                )
            )
        elif scenario == "outage_burst":
            site.faults.add(Fault("status", None, 2, 503))
        elif scenario == "lasting_outage":
            site.faults.add(Fault("status", None, None, 503))
        elif scenario == "drop_after_create":
            site.faults.add(Fault("drop_after_write", "Learning Manage_Learning_Course", 1))
        else:
            return False
        return True

    def change_remote(self, integration_id: str, store: Any) -> bool:
        """Three workers change: their Get_Workers transaction moment moves to now."""
        for worker in self.site.workers[:3]:
            self.site.touch(worker)
        return True
