"""The Sandbox through the conformance battery (HTTP faults do not apply: its remote is in the store)."""

from __future__ import annotations

from lmsbridge.testing.conformance import ConformanceBattery, SandboxPair


class TestSandboxConformance(ConformanceBattery):
    pair = SandboxPair
