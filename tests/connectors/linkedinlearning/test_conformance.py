"""LinkedIn Learning through the conformance battery, over real HTTP against its emulator."""

from __future__ import annotations

from lmsbridge.testing.conformance import ConformanceBattery
from lmsbridge.testing.emulators.linkedinlearning.pair import LinkedInLearningPair


class TestLinkedInLearningConformance(ConformanceBattery):
    pair = LinkedInLearningPair
