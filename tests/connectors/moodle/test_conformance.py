"""Moodle and its emulator through the conformance battery, over real HTTP. Faults go through the
emulator's control routes; the rate limit is set on the emulated site."""

from __future__ import annotations

from typing import Any, ClassVar

import httpx
import pytest

from lmsbridge.testing.conformance import ConformanceBattery, ConformancePair
from tests.connectors.moodle.conftest import FAST, TOKEN, Moodle


class MoodlePair(ConformancePair):
    tool: ClassVar[str] = "moodle"
    secret: ClassVar[str] = TOKEN

    def __init__(self, moodle: Moodle) -> None:
        self.moodle = moodle

    def settings(self, scenario: str) -> dict[str, Any] | None:
        base = {"site_url": self.moodle.url, **FAST}
        return {
            "default": base,
            "auth_invalid": base,
            "small_pages": {**base, "page_size": self.small_page_size},
        }.get(scenario)

    def credentials(self, valid: bool = True) -> dict[str, Any] | None:
        return {"token": TOKEN if valid else "f" * 32}

    def inject(self, scenario: str) -> bool:
        fault = {
            "outage_burst": {"kind": "http_status", "status": 503, "times": 2},
            "lasting_outage": {"kind": "http_status", "status": 503, "times": None},
            "drop_after_create": {"kind": "drop_after_write", "function": "core_course_create_courses"},
        }.get(scenario)
        if scenario == "rate_limited":
            self.moodle.site.limit_rate(40, 8)
            return True
        if fault is None:
            return False  # Moodle's offset paging cannot be made to repeat a page
        answer = httpx.post(f"{self.moodle.url}/_emulator/faults", json=fault)
        return answer.status_code == 200

    def stop(self) -> None:
        httpx.delete(f"{self.moodle.url}/_emulator/faults")
        self.moodle.site.limit_rate(None)


class TestMoodleConformance(ConformanceBattery):
    pair = MoodlePair

    @pytest.fixture
    def remote(self, moodle: Moodle) -> Any:
        pair = MoodlePair(moodle)
        yield pair
        pair.stop()
