"""360Learning through the conformance battery, over real HTTP against its emulator."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from lmsbridge.testing.conformance import ConformanceBattery
from lmsbridge.testing.emulators.threesixtylearning.pair import ThreeSixtyLearningPair

NO_EXTERNAL_ID = (
    "360Learning's course list (GET /api/v2/courses) does not carry an external course's externalId, "
    "so a sync cannot read origin_id back (docs/connectors/360learning.md, known limits)"
)


class TestThreeSixtyLearningConformance(ConformanceBattery):
    pair = ThreeSixtyLearningPair

    def test_upserting_the_same_origin_ids_twice_creates_nothing_twice(
        self, connect: Callable[[str], Any]
    ) -> None:
        pytest.skip(NO_EXTERNAL_ID)

    def test_a_dropped_answer_after_a_create_is_found_again(self, connect: Callable[[str], Any]) -> None:
        pytest.skip(NO_EXTERNAL_ID)
