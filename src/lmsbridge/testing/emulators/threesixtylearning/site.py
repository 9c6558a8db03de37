"""A 360Learning company as the emulator holds it, seeded from the kit's shared world and dressed
in 360Learning's shapes and oddities: 24-hex ObjectIds, soft-deleted users still listed with a
`deletedAt` history, invited users, archived and deleted courses, courses with several versions
and a translation, native and external courses, attempts (several per learner and course), and
skills. Bulk operations run through `pending -> queued -> running -> completed`, one step per
poll or per 50 ms, and apply their effect when they complete."""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from lmsbridge.testing.emulators.kit import Emulator, TokenIssuer, World
from lmsbridge.testing.emulators.kit.limiter import plain_429

MAX_RUNNING = 3
STEPS = ("pending", "queued", "running", "completed")
# The vendor's fixed page sizes (reference section 3.1).
PAGE_SIZES = {
    "users": 500,
    "courses": 500,
    "stats": 500,
    "skills": 500,
    "integrations": 500,
    "operations": 20,
}


def object_id(*parts: object) -> str:
    return hashlib.sha256("/".join(map(str, parts)).encode()).hexdigest()[:24]


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Operation:
    id: str
    type: str
    created: datetime
    inputs: list[dict[str, Any]]
    integration_id: str | None
    polls: int = 0
    results: list[dict[str, Any]] | None = None
    error: str | None = None  # ends in `error` with this message instead of running
    stamps: dict[str, str] = field(default_factory=dict)

    def step(self) -> int:
        elapsed = (now() - self.created).total_seconds()
        return min(len(STEPS) - 1, max(self.polls, int(elapsed / 0.05)))


def throttled(wait: float) -> Any:
    response = plain_429(wait)
    from starlette.responses import JSONResponse

    answer = JSONResponse({"error": "tooManyRequests"}, 429)
    answer.headers["Retry-After"] = response.headers["Retry-After"]
    return answer


class Company(Emulator):
    def __init__(self, client_id: str = "", client_secret: str = "") -> None:
        super().__init__(throttled)
        self.issuer = TokenIssuer(client_id, client_secret, 3600.0)
        self.company_id = object_id("company", client_id)
        self.users: list[dict[str, Any]] = []
        self.courses: list[dict[str, Any]] = []
        self.external: dict[
            str, dict[str, Any]
        ] = {}  # course id -> {integrationId, externalId, launchUrl...}
        self.attempts: list[dict[str, Any]] = []
        self.skills: list[dict[str, Any]] = []
        self.integrations: list[dict[str, Any]] = []
        self.operations: dict[str, Operation] = {}
        self.page_sizes = dict(PAGE_SIZES)
        self.repeat_first_page = False
        self.fail_next_operation: str | None = None  # a test's way to make a bulk operation end in error
        self.spec_check: Any = None
        self.webhooks: list[tuple[str, dict[str, Any]]] = []  # events a subscriber would receive
        self.lock = threading.RLock()
        self.admin_id = object_id("admin", client_id)
        self.group_id = object_id("group", client_id)

    # -- bulk operations -------------------------------------------------------------------------------
    def running(self) -> int:
        return sum(1 for op in self.operations.values() if self.advance(op) < len(STEPS) - 1)

    def advance(self, op: Operation) -> int:
        with self.lock:
            step = op.step()
            stamp = iso(now())
            for name in STEPS[1 : step + 1]:
                op.stamps.setdefault(name, stamp)
            if step == len(STEPS) - 1 and op.results is None:
                op.results = [] if op.error else apply(self, op)
                self.webhooks.append(("bulk.operation.ended", self.ended_event(op)))
            return step

    def operation_body(self, op: Operation) -> dict[str, Any]:
        step = self.advance(op)
        body: dict[str, Any] = {
            "_id": op.id,
            "type": op.type,
            "createdAt": iso(op.created),
            "status": STEPS[step],
        }
        if step >= 1:
            body["queuedAt"] = op.stamps["queued"]
        if step >= 2:
            body["startedAt"] = op.stamps["running"]
            index = len(op.inputs) - 1 if step == 3 else max(0, len(op.inputs) // 2 - 1)
            body["progress"] = {"index": index, "updatedAt": op.stamps.get("completed", op.stamps["running"])}
        if step == 3:
            body["endedAt"] = op.stamps["completed"]
            if op.error:
                body.update(status="error", errorMessage=op.error)
        return body

    def ended_event(self, op: Operation) -> dict[str, Any]:
        return {
            "type": "bulk.operation.ended",
            "timestamp": int(time.time()),
            "data": {
                "bulkOperationId": op.id,
                "type": op.type,
                "status": "completed",
                "createdAt": iso(op.created),
                "endedAt": op.stamps["completed"],
            },
        }

    # -- look-ups --------------------------------------------------------------------------------------
    def course(self, course_id: str) -> dict[str, Any] | None:
        return next((c for c in self.courses if c["_id"] == course_id), None)

    def user(self, user_id: str) -> dict[str, Any] | None:
        return next((u for u in self.users if u["_id"] == user_id), None)

    def integration(self, integration_id: str) -> dict[str, Any] | None:
        return next((i for i in self.integrations if i["_id"] == integration_id), None)


def _course_raw(
    company: Company, key: str, name: str, description: str, created: datetime, status: str, kind: str
) -> dict[str, Any]:
    return {
        "_id": object_id("course", key),
        "name": name,
        "description": description,
        "duration": 30,
        "sourceLang": "en",
        "defaultLang": "en",
        "authorId": company.admin_id,
        "groupId": company.group_id,
        "coAuthorIds": [],
        "createdAt": iso(created),
        "modifiedAt": iso(created + timedelta(days=1)),
        "status": status,
        "translations": [],
        "type": kind,
        "currentVersionNumber": 1,
        "collaborativeLearning": False,
    }


def apply(company: Company, op: Operation) -> list[dict[str, Any]]:
    """An operation's effect, and its per-input results."""
    results: list[dict[str, Any]] = []
    stamp = now()
    for row in op.inputs:
        if op.type == "importExternalCourses":
            found = next(
                (
                    cid
                    for cid, ext in company.external.items()
                    if ext["integrationId"] == op.integration_id and ext["externalId"] == row["externalId"]
                ),
                None,
            )
            if found is None:
                raw = _course_raw(
                    company,
                    f"ext/{op.integration_id}/{row['externalId']}",
                    row["name"],
                    row.get("description", ""),
                    stamp,
                    "published",
                    "external",
                )
                integration = company.integration(op.integration_id or "") or {}
                raw["externalPlatform"] = integration.get("externalPlatform", "")
                company.courses.append(raw)
                found = raw["_id"]
            raw = company.course(found) or {}
            raw.update(name=row["name"], modifiedAt=iso(stamp), status="published")
            if row.get("description"):
                raw["description"] = row["description"]
            if row.get("duration"):
                raw["duration"] = row["duration"]
            raw["defaultLang"] = raw["sourceLang"] = row.get("defaultLang", "en")
            company.external[found] = {"integrationId": op.integration_id, **row}
            results.append({"input": row, "status": "success", "resourceId": found})
        elif op.type == "archiveExternalCourses":
            found = next(
                (
                    cid
                    for cid, ext in company.external.items()
                    if ext["integrationId"] == op.integration_id and ext["externalId"] == row["externalId"]
                ),
                None,
            )
            if found is None:
                results.append(
                    {"input": row, "status": "error", "errorMessage": "External course not found."}
                )
                continue
            (company.course(found) or {}).update(status="archived", modifiedAt=iso(stamp))
            results.append({"input": row, "status": "success", "resourceId": found})
        elif op.type == "importExternalStatistics":
            results.append(_import_statistic(company, op, row, stamp))
        elif op.type == "upsertSkills":
            skill = next((s for s in company.skills if s.get("externalId") == row["externalId"]), None)
            if skill is None:
                skill = {
                    "_id": "SKI" + object_id("skill", row["externalId"])[:21],
                    "parents": [],
                    "status": "published",
                    "translations": [],
                    "externalId": row["externalId"],
                    "createdAt": iso(stamp),
                }
                company.skills.append(skill)
            skill.update(name=row["name"], updatedAt=iso(stamp))
            if row.get("description"):
                skill["description"] = row["description"]
            results.append({"input": row, "status": "success", "resourceId": skill["_id"]})
    return results


def _import_statistic(
    company: Company, op: Operation, row: dict[str, Any], stamp: datetime
) -> dict[str, Any]:
    course_ref, user_ref = row["courseIdentifier"], row["userIdentifier"]
    if course_ref["type"] == "externalId":
        course_id = next(
            (
                cid
                for cid, ext in company.external.items()
                if ext["integrationId"] == op.integration_id and ext["externalId"] == course_ref["value"]
            ),
            None,
        )
    else:
        course_id = course_ref["value"]
    ext = company.external.get(course_id or "")
    if course_id is None or ext is None or ext["integrationId"] != op.integration_id:
        return {
            "input": row,
            "status": "error",
            "errorMessage": "The course does not belong to this integration.",
        }
    user = (
        company.user(user_ref["value"])
        if user_ref["type"] == "internalId"
        else next((u for u in company.users if u.get("mail") == user_ref["value"]), None)
    )
    if user is None or user["status"] == "deleted":
        return {"input": row, "status": "error", "errorMessage": "User not found."}
    mine = [a for a in company.attempts if a["courseId"] == course_id and a["userId"] == user["_id"]]
    first = row["firstActivityAt"]
    latest = max(mine, key=lambda a: a.get("lastActivityAt", ""), default=None)
    if (
        row.get("forceNew")
        or latest is None
        or first > max(latest.get("lastActivityAt", ""), latest.get("completedAt", ""))
    ):
        latest = {
            "_id": object_id("attempt", course_id, user["_id"], len(mine)),
            "courseId": course_id,
            "userId": user["_id"],
            "lang": "en",
            "versionNumber": 1,
            "timeSpent": 0,
            "progress": 0,
            "firstActivityAt": first,
        }
        company.attempts.append(latest)
    latest.update(
        progress=int(row["progress"]), timeSpent=int(row["timeSpent"]), lastActivityAt=row["lastActivityAt"]
    )
    if "score" in row:
        latest["score"] = int(row["score"])
    if int(row["progress"]) >= 100:
        latest["completedAt"] = row["lastActivityAt"]
    return {"input": row, "status": "success", "resourceId": latest["_id"]}


def seeded_company(
    seed: int = 1,
    client_id: str = "cid",
    client_secret: str = "secret",
    users: int = 12,
    courses: int = 6,
    enrolments: int = 30,
) -> Company:
    world = World.seeded(seed, users, courses, enrolments)
    company = Company(client_id, client_secret)
    for index, person in enumerate(world.users):
        raw: dict[str, Any] = {
            "_id": object_id("user", seed, person.key),
            "mail": person.email,
            "status": "active" if person.active else "deleted",
            "lang": "en",
            "firstName": person.first_name,
            "lastName": person.last_name,
            "primaryGroupId": company.group_id,
        }
        if not person.active:  # soft-deleted: still listed, with its deletion history
            raw["deletedAt"] = [iso(person.created + timedelta(days=40))]
        elif index % 7 == 3:
            raw["status"] = "invited"
        company.users.append(raw)
    if company.users and not any(u["status"] == "deleted" for u in company.users):
        gone = company.users[-1]  # every company has a soft-deleted user, the vendor's oddity
        gone.update(status="deleted", deletedAt=[iso(world.users[-1].created + timedelta(days=40))])
    platform = {
        "_id": object_id("integration", seed, "catalog"),
        "externalPlatform": "Acme Academy",
        "authorId": company.admin_id,
        "groupId": company.group_id,
        "defaultCompletion": True,
        "defaultProgress": 100,
    }
    company.integrations.append(platform)
    for index, item in enumerate(world.courses):
        external = index % 3 == 2
        status = "published" if item.active else ("deleted" if index % 2 else "archived")
        raw = _course_raw(
            company,
            f"{seed}/{item.key}",
            item.title,
            item.description,
            item.created,
            status,
            "external" if external else "native",
        )
        if index % 4 == 1:  # released again: a later version and a French translation
            raw["currentVersionNumber"] = 3
            raw["translations"] = [
                {
                    "lang": "fr",
                    "published": True,
                    "translatorIds": [company.admin_id],
                    "translatedFields": {"name": f"{item.title} (fr)", "description": item.description},
                }
            ]
        if external:
            raw["externalPlatform"] = platform["externalPlatform"]
            company.external[raw["_id"]] = {
                "integrationId": platform["_id"],
                "externalId": item.key,
                "name": item.title,
                "launchUrl": item.url,
            }
        company.courses.append(raw)
    by_user = {person.key: company.users[i]["_id"] for i, person in enumerate(world.users)}
    by_course = {item.key: company.courses[i]["_id"] for i, item in enumerate(world.courses)}
    for index, enrolment in enumerate(world.enrolments):
        progress = {"COMPLETED": 100, "IN_PROGRESS": 40 + index % 50, "ENROLLED": 0, "DROPPED": 10}[
            enrolment.state
        ]
        attempt: dict[str, Any] = {
            "_id": object_id("attempt", seed, index),
            "courseId": by_course[enrolment.course],
            "userId": by_user[enrolment.user],
            "versionNumber": 1,
            "lang": "en",
            "firstActivityAt": iso(enrolment.enrolled),
            "lastActivityAt": iso(enrolment.completed or enrolment.enrolled + timedelta(hours=2)),
            "timeSpent": 60_000 * (1 + index % 40),
            "progress": progress,
        }
        if enrolment.completed is not None:
            attempt["completedAt"] = iso(enrolment.completed)
            if enrolment.score is not None:
                attempt["score"] = enrolment.score
        company.attempts.append(attempt)
    for skill in world.skills:
        company.skills.append(
            {
                "_id": "SKI" + object_id("skill", seed, skill.key)[:21],
                "name": skill.name,
                "parents": [],
                "status": "published",
                "translations": [],
                "externalId": skill.key,
                "createdAt": iso(skill.created),
                "updatedAt": iso(skill.created),
            }
        )
    return company
