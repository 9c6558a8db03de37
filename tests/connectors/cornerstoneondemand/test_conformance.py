"""Cornerstone OnDemand through the conformance battery, over real HTTP against its emulator."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lmsbridge.testing.conformance import ConformanceBattery
from lmsbridge.testing.conformance.battery import course_items
from lmsbridge.testing.emulators.cornerstoneondemand.pair import CornerstonePair


class TestCornerstoneConformance(ConformanceBattery):
    pair = CornerstonePair

    def test_upserting_the_same_origin_ids_twice_creates_nothing_twice(
        self, connect: Callable[[str], Any]
    ) -> None:
        """Cornerstone cannot update a learning object: the second upsert of each origin id is the
        item error LMS.COURSE_UPDATE_NOT_SUPPORTED, and nothing is created twice."""
        h = connect("default")
        h.sync()
        first = h.task(course_items("twice", 3))
        second = h.task(course_items("twice", 3, title="Renamed course"))
        assert first["status"] == second["status"] == "COMPLETED"
        assert [r["status"] for r in first["data"]] == ["SUCCEEDED"] * 3
        assert [r["status"] for r in second["data"]] == ["FAILED"] * 3, second
        assert {r["error"]["code"] for r in second["data"]} == {"LMS.COURSE_UPDATE_NOT_SUPPORTED"}
        h.force_sync()
        courses = [c for c in h.listed("lms_courses") if (c.get("origin_id") or "").startswith("twice-")]
        assert sorted(c["origin_id"] for c in courses) == ["twice-0", "twice-1", "twice-2"]
        assert all(c["revisions"][0]["title"] != "Renamed course" for c in courses)
