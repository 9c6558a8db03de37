"""The conformance battery every (connector, emulator) pair runs with one line:

    class TestMoodleConformance(ConformanceBattery):
        pair = MoodlePair

over real HTTP through lmsbridge's own API, on whichever store the session runs. The test module
provides two fixtures: `lmsbridge_server` (a running server with its store, credential box and
worker, emptied for the test) and `contract_check` (validates one API response against the
contract and returns it)."""

from __future__ import annotations

from lmsbridge.testing.conformance.battery import ConformanceBattery
from lmsbridge.testing.conformance.pair import ConformancePair, SandboxPair

__all__ = ["ConformanceBattery", "ConformancePair", "SandboxPair"]
