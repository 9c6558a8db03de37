"""LinkedIn Learning's streams. Courses: a full read uses the `localeAndType` finder (the
`criteria` finder's totals are capped, reference 5.3), a delta the `criteria` finder with
`lastModifiedAfter`. Skills: `learningClassifications` of type SKILL. Users and progressions:
the INDIVIDUAL x CONTENT activity report over `history_days` (full) or from the delta's moment
less `report_lag_hours`."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from lmsbridge.connectors.base import Coverage, ModelCoverage
from lmsbridge.connectors.linkedinlearning import mapping
from lmsbridge.connectors.records import Record
from lmsbridge.connectors.streams import Stream

if TYPE_CHECKING:
    from lmsbridge.connectors.linkedinlearning.connector import LinkedInLearningConnector

U = Coverage.UNSUPPORTED


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


class Courses(Stream[Any, dict[str, Any]]):
    connector: LinkedInLearningConnector
    model: ClassVar[str] = "lms_courses"
    supports_since: ClassVar[bool] = True
    fields: ClassVar[dict[str, Coverage]] = {"provider_id": U, "origin_id": U}
    covers: ClassVar[dict[str, ModelCoverage]] = {
        "lms_course_revisions": ModelCoverage(Coverage.SUPPORTED),
        "lms_skill_assignments": ModelCoverage(Coverage.SUPPORTED),
    }

    def pages(self, since: datetime | None) -> Iterator[Sequence[dict[str, Any]]]:
        s = self.connector.settings
        locale = {"language": s.language, "country": s.country}
        if since is None:
            params: dict[str, Any] = {
                "q": "localeAndType",
                "assetType": "COURSE",
                "sourceLocale": locale,
                "expandDepth": 1,
                "includeRetired": True,
            }
        else:
            params = {
                "q": "criteria",
                "assetFilteringCriteria": {
                    "assetTypes": ["COURSE"],
                    "locales": [locale],
                    "lastModifiedAfter": ms(since),
                },
                "assetRetrievalCriteria": {"expandDepth": 1, "includeRetired": True},
            }
        yield from self.connector.api.pages("learningAssets", params)

    def to_record(self, raw: dict[str, Any]) -> Record:
        return mapping.course(raw)


class Skills(Stream[Any, dict[str, Any]]):
    connector: LinkedInLearningConnector
    model: ClassVar[str] = "lms_skills"
    fields: ClassVar[dict[str, Coverage]] = {"remote_created_at": U}

    def pages(self, since: datetime | None) -> Iterator[Sequence[dict[str, Any]]]:
        s = self.connector.settings
        params = {
            "q": "localeAndType",
            "type": "SKILL",
            "sourceLocale": {"language": s.language, "country": s.country},
        }
        yield from self.connector.api.pages("learningClassifications", params)

    def to_record(self, raw: dict[str, Any]) -> Record | None:
        return mapping.skill(raw)


def report_pages(
    connector: LinkedInLearningConnector, since: datetime | None
) -> Iterator[Sequence[dict[str, Any]]]:
    s = connector.settings
    now = datetime.now(UTC)
    start = (
        now - timedelta(days=s.history_days) if since is None else since - timedelta(hours=s.report_lag_hours)
    )
    days = max(1, math.ceil((now - start).total_seconds() / 86400))
    params = {
        "q": "criteria",
        "startedAt": ms(start),
        "timeOffset": {"unit": "DAY", "duration": days},
        "aggregationCriteria": {"primary": "INDIVIDUAL", "secondary": "CONTENT"},
        "contentSource": "ALL_SOURCES",
        "assetType": "COURSE",
    }
    yield from connector.api.pages("learningActivityReports", params)


class Users(Stream[Any, dict[str, Any]]):
    connector: LinkedInLearningConnector
    model: ClassVar[str] = "lms_users"
    supports_since: ClassVar[bool] = True
    fields: ClassVar[dict[str, Coverage]] = {"remote_created_at": U}

    def pages(self, since: datetime | None) -> Iterator[Sequence[dict[str, Any]]]:
        seen: set[str] = set()
        for page in report_pages(self.connector, since):
            fresh = []
            for row in page:  # one row per learner and course: a learner is listed once
                key = mapping.learner_id(row.get("learnerDetails") or {})
                if key and key not in seen:
                    seen.add(key)
                    fresh.append(row)
            yield fresh

    def to_record(self, raw: dict[str, Any]) -> Record | None:
        return mapping.user(raw)


class Progressions(Stream[Any, dict[str, Any]]):
    connector: LinkedInLearningConnector
    model: ClassVar[str] = "lms_course_progressions"
    supports_since: ClassVar[bool] = True

    def pages(self, since: datetime | None) -> Iterator[Sequence[dict[str, Any]]]:
        yield from report_pages(self.connector, since)

    def to_record(self, raw: dict[str, Any]) -> Record | None:
        return mapping.progression(raw)
