"""The Workday connector's line in the conformance battery (the kit's EmulatedPair): a freshly
seeded tenant for each test, Workday's own SOAP fault when it throttles, and a dropped answer
after a course is written."""

from __future__ import annotations

from typing import Any

from lmsbridge.testing.emulators.kit import Fault
from lmsbridge.testing.emulators.kit.pair import QUICK, EmulatedPair
from lmsbridge.testing.emulators.kit.served import Served
from lmsbridge.testing.emulators.workday.app import create_app
from lmsbridge.testing.emulators.workday.site import WorkdaySite, seeded_site, soap_fault

__all__ = ["QUICK", "USER", "WorkdayPair"]

USER = "ISU_conformance"


class WorkdayPair(EmulatedPair):
    tool = "workday"
    create_call = "Learning Manage_Learning_Course"
    remote: WorkdaySite

    @classmethod
    def serve(cls) -> Served:
        return Served(create_app, WorkdaySite(), "workday-emulator")

    def seeded(self) -> WorkdaySite:
        return seeded_site(seed=3, user_name=USER, password=self.secret, users=23, courses=7, enrolments=30)

    def base_settings(self, url: str) -> dict[str, Any]:
        return {"base_url": url, "tenant": "acme", "page_size": 10}

    def credentials(self, valid: bool = True) -> dict[str, Any] | None:
        return {"username": USER, "password": self.secret if valid else "wrong-" + self.secret[::-1]}

    def rate_limit_fault(self) -> Fault:
        body = bytes(soap_fault("SOAP-ENV:Server", "Too many requests", 429).body).decode()
        return Fault(
            "status",
            "Human_Resources Get_Workers",
            2,
            429,
            retry_after="1",
            body=body,
            content_type="text/xml",
        )

    def change_remote(self, integration_id: str, store: Any) -> bool:
        """Three workers change: their Get_Workers transaction moment moves to now."""
        for worker in self.remote.workers[:3]:
            self.remote.touch(worker)
        return True
