"""Bulk writes through 360Learning's Bulk API. A submission is answered 202 with the Location of
a bulk operation (`pending -> queued -> running -> completed | error`); the writer polls it and
only then reads the per-input `/results`, so the task's items stay PENDING until the remote
operation ends. Three operations may run per company: a submission refused with
`bulkOperationsConcurrencyLimitReached` (429) waits for a slot instead of failing."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, ClassVar

from lmsbridge.connectors.base import CourseUpsert, ItemOutcome, SkillUpsert
from lmsbridge.connectors.errors import ConnectorError, IntegrationError, ItemError
from lmsbridge.connectors.threesixtylearning import mapping
from lmsbridge.connectors.threesixtylearning.client import RESOLUTION, SERVICE, is_concurrency_limit
from lmsbridge.connectors.writers import CourseWriter, SkillWriter
from lmsbridge.errors import ErrorCode

if TYPE_CHECKING:
    from lmsbridge.connectors.threesixtylearning.connector import ThreeSixtyLearningConnector

ENDED = frozenset({"completed", "error"})


def run_bulk(
    connector: ThreeSixtyLearningConnector, method: str, path: str, inputs: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Submits one bulk operation, waits for it to end and returns its results, one per input in
    input order (a missing result is an error result)."""
    s = connector.settings
    api = connector.api
    deadline = time.monotonic() + s.bulk_timeout_seconds
    while True:
        try:
            response = api.submit_bulk(method, path, {"input": inputs})
        except ConnectorError as error:
            if error.code != ErrorCode.REMOTE_RATE_LIMIT_EXCEEDED or time.monotonic() > deadline:
                raise
            time.sleep(s.bulk_poll_seconds)  # three operations already run: wait for a slot
            continue
        if is_concurrency_limit(response):
            if time.monotonic() > deadline:
                raise ConnectorError(
                    f"{SERVICE} kept three bulk operations running for {s.bulk_timeout_seconds:g}s; "
                    "no slot freed for this one.",
                    code=ErrorCode.REMOTE_RATE_LIMIT_EXCEEDED,
                )
            time.sleep(s.bulk_poll_seconds)
            continue
        RESOLUTION.check(response, SERVICE)
        break
    location = response.headers.get("Location")
    if not location:
        raise ConnectorError(
            f"{SERVICE} accepted {path} without a bulk operation Location.",
            code=ErrorCode.REMOTE_UNKNOWN_HTTP_ERROR,
        )
    while True:
        operation = api.json("GET", location) or {}
        status = operation.get("status")
        if status in ENDED:
            break
        if time.monotonic() > deadline:
            raise ConnectorError(
                f"{SERVICE}'s bulk operation {operation.get('_id')} was still {status} after "
                f"{s.bulk_timeout_seconds:g}s.",
                code=ErrorCode.REMOTE_SERVICE_UNAVAILABLE,
            )
        time.sleep(s.bulk_poll_seconds)
    if status == "error":
        raise ItemError(
            f"{SERVICE}'s bulk operation failed: {operation.get('errorMessage') or 'no reason given'}",
            code=ErrorCode.REMOTE_UNKNOWN_HTTP_ERROR,
        )
    results = api.json("GET", f"{location.rstrip('/')}/results") or []
    missing = {"status": "error", "errorMessage": "no result for this input"}
    return [
        results[i] if i < len(results) and isinstance(results[i], dict) else missing
        for i in range(len(inputs))
    ]


def _failed(origin_id: str, result: dict[str, Any]) -> ItemOutcome:
    return ItemOutcome(
        origin_id,
        error=ItemError(
            f"{SERVICE}: {result.get('errorMessage') or 'refused'}", code=ErrorCode.REMOTE_INPUT_INVALID
        ),
    )


class Courses(CourseWriter[Any]):
    """External courses, matched on `externalId` (the item's origin id) within lmsbridge's
    integration: an existing one is replaced, a new one created in the integration group's catalog."""

    connector: ThreeSixtyLearningConnector
    batch_size: ClassVar[int] = 1000

    def batch_size_for(self) -> int:
        return self.connector.settings.write_batch_size

    def invalid(self, item: CourseUpsert) -> str | None:
        if not item.title.strip():
            return "360Learning needs a course name."
        if item.duration is not None and not 1 <= item.duration <= 100_000:
            return "360Learning takes a duration of 1 to 100,000 minutes."
        return None

    def prepare(self, items: Sequence[CourseUpsert]) -> None:
        self.integration_id = self.connector.integration()

    def write_batch(self, batch: Sequence[CourseUpsert]) -> Iterator[ItemOutcome]:
        c = self.connector
        inputs = [self._input(item) for item in batch]
        results = run_bulk(c, "PUT", f"/api/v2/bulk/integrations/{self.integration_id}/courses", inputs)
        for item, result in zip(batch, results, strict=True):
            if result.get("status") != "success":
                yield _failed(item.origin_id, result)
                continue
            course_id = str(result["resourceId"])
            raw = c.api.json("GET", f"/api/v2/courses/{course_id}")
            record = replace(mapping.course(raw, c.providers_by_platform()), origin_id=item.origin_id)
            yield ItemOutcome(item.origin_id, remote_id=course_id, record=record)

    def _input(self, item: CourseUpsert) -> dict[str, Any]:
        s = self.connector.settings
        lang = (item.languages[0] if item.languages else s.default_lang).split("-")[0].split("_")[0].lower()
        body: dict[str, Any] = {
            "externalId": item.origin_id,
            "name": item.title,
            "launchUrl": item.course_url,
            "defaultLang": lang,
            "sources": [{"name": s.external_platform}],
            "subjects": [],
        }
        if item.description:
            body["description"] = item.description
        if item.thumbnail_url:
            body["imageUrl"] = item.thumbnail_url
        if item.duration is not None:
            body["duration"] = item.duration
        return body


class Skills(SkillWriter[Any]):
    """Skills through `PUT /api/v2/bulk/skills`, matched on `externalId` (the origin id). The
    upsert has no status: a skill cannot be archived this way."""

    connector: ThreeSixtyLearningConnector
    batch_size: ClassVar[int] = 1000

    def batch_size_for(self) -> int:
        return self.connector.settings.write_batch_size

    def invalid(self, item: SkillUpsert) -> str | None:
        if not item.name.strip():
            return "360Learning needs a skill name."
        if item.status != "ACTIVE":
            return "360Learning's skill upsert cannot archive a skill (status must be ACTIVE)."
        return None

    def write_batch(self, batch: Sequence[SkillUpsert]) -> Iterator[ItemOutcome]:
        inputs = [
            {"externalId": item.origin_id, "name": item.name, "parentExternalIds": []} for item in batch
        ]
        results = run_bulk(self.connector, "PUT", "/api/v2/bulk/skills", inputs)
        for item, result in zip(batch, results, strict=True):
            if result.get("status") != "success":
                yield _failed(item.origin_id, result)
                continue
            skill_id = str(result["resourceId"])
            record = mapping.hris_skill({"_id": skill_id, "name": item.name, "externalId": item.origin_id})
            yield ItemOutcome(item.origin_id, remote_id=skill_id, record=record)


__all__ = ["Courses", "IntegrationError", "Skills", "run_bulk"]
