"""Udemy Business through the conformance battery, over real HTTP against its emulator."""

from __future__ import annotations

from lmsbridge.testing.conformance import ConformanceBattery
from lmsbridge.testing.emulators.udemy.pair import UdemyPair


class TestUdemyConformance(ConformanceBattery):
    pair = UdemyPair
