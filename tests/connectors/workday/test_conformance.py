"""Workday through the conformance battery, over real HTTP against its SOAP emulator."""

from __future__ import annotations

from lmsbridge.testing.conformance import ConformanceBattery
from lmsbridge.testing.emulators.workday.pair import WorkdayPair


class TestWorkdayConformance(ConformanceBattery):
    pair = WorkdayPair
