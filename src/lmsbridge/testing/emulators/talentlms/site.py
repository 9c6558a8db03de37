"""The state of one emulated TalentLMS portal: users, courses, enrolments and background tasks,
kept in TalentLMS's own terms (integer ids, `active`/`inactive`, unix timestamps, the portal's
date format), seeded from the kit's shared world with the vendor's oddities: a soft-deleted user
(hidden from lists, "no longer available" by id), an inactive user, a course hidden from the
catalog, an inactive course, an instructor enrolment, courses without a code."""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from lmsbridge.testing.emulators.kit import Emulator, World

DATE_FORMAT = "DDMMYYYY"  # the portal's `siteinfo.date_format`; dates are rendered with it
FIRST_USER_ID = 1  # the portal owner (an admin), as every TalentLMS portal has one
BATCH_LIMIT = 100  # items per batch upsert [T7]
PAGE_SIZE_MAX = 100  # v2 page[size] [T7]
V1_PAGE_SIZE_MAX = 1000  # v1 page_size [T11]


def portal_date(moment: datetime | None) -> str | None:
    """A date as the portal shows it (DDMMYYYY: `25/12/2019, 03:58:40`)."""
    return None if moment is None else moment.astimezone(UTC).strftime("%d/%m/%Y, %H:%M:%S")


def unix(moment: datetime | None) -> str | None:
    return None if moment is None else str(int(moment.timestamp()))


def iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


@dataclass
class User:
    id: int
    login: str
    name: str
    surname: str
    email: str
    status: str  # active | inactive
    user_type: str  # Learner-Instructor | SuperAdmin ...
    registration: datetime
    last_updated: datetime
    deleted: bool = False  # soft-deleted (permanent=no): hidden from lists


@dataclass
class Course:
    id: int
    name: str
    code: str
    description: str
    status: str  # active | inactive
    creation_date: datetime
    last_update_on: datetime
    hide_from_catalog: bool = False


@dataclass
class Enrolment:
    user_id: int
    course_id: int
    role: str  # learner | instructor
    enrolled_on: datetime
    completion_percentage: int
    completed_on: datetime | None


@dataclass
class Task:
    id: str
    kind: str
    results: list[dict[str, Any]]
    polls_left: int  # answers "in_progress" this many more times, then "completed"


@dataclass
class TalentLmsSite(Emulator):
    api_key: str = "talentlms-key"
    domain: str = "acme"
    users: dict[int, User] = field(default_factory=dict)
    courses: dict[int, Course] = field(default_factory=dict)
    enrolments: dict[tuple[int, int], Enrolment] = field(default_factory=dict)
    tasks: dict[str, Task] = field(default_factory=dict)
    # Test switches: a remote that answers v2 users' first page whatever page is asked for, and
    # whether v2 answers are checked against the vendor's OpenAPI file (`spec.SpecCheck`).
    repeat_first_page: bool = False
    task_polls: int = 1
    spec_check: Any = None
    hourly_limit: int = 10_000  # plan quota (Grow/Pro/Plus/Premium) reported by v1 ratelimit [T7]
    used_this_hour: int = 0
    lock: threading.RLock = field(default_factory=threading.RLock)

    def __post_init__(self) -> None:
        from lmsbridge.testing.emulators.talentlms.errors import throttled

        super().__init__(throttled)

    # -- lookups --------------------------------------------------------------------------------------
    def listed_users(self) -> list[User]:
        return [u for u in sorted(self.users.values(), key=lambda u: u.id) if not u.deleted]

    def next_user_id(self) -> int:
        return max(self.users, default=0) + 1

    def next_course_id(self) -> int:
        return max(self.courses, default=0) + 1

    def course_by_code(self, code: str) -> Course | None:
        return next((c for c in self.courses.values() if c.code and c.code == code), None)

    def new_task(self, kind: str, results: list[dict[str, Any]]) -> Task:
        task = Task(str(uuid.uuid4()), kind, results, self.task_polls)
        self.tasks[task.id] = task
        return task

    def touch_user(self, user: User) -> None:
        user.last_updated = now()


def seeded_site(
    seed: int = 1,
    api_key: str = "talentlms-key",
    *,
    users: int = 12,
    courses: int = 6,
    enrolments: int = 30,
) -> TalentLmsSite:
    """The shared world for `seed`, dressed as a TalentLMS portal."""
    world = World.seeded(seed=seed, users=users, courses=courses, enrolments=enrolments)
    site = TalentLmsSite(api_key=api_key)
    owner_at = min([u.created for u in world.users], default=now())
    site.users[FIRST_USER_ID] = User(
        FIRST_USER_ID,
        "admin",
        "Portal",
        "Owner",
        "owner@acme.example",
        "active",
        "SuperAdmin",
        owner_at,
        owner_at,
    )
    user_ids: dict[str, int] = {}
    for index, w in enumerate(world.users):
        uid = site.next_user_id()
        user_ids[w.key] = uid
        site.users[uid] = User(
            uid,
            w.email.split("@")[0],
            w.first_name,
            w.last_name,
            w.email,
            "active" if w.active else "inactive",
            "Learner-Instructor",
            w.created,
            w.created,
            deleted=index == len(world.users) - 1 and len(world.users) > 3,  # the last one: soft-deleted
        )
    course_ids: dict[str, int] = {}
    for index, c in enumerate(world.courses):
        cid = site.next_course_id()
        course_ids[c.key] = cid
        site.courses[cid] = Course(
            cid,
            c.title,
            "" if index % 3 == 2 else f"C{cid:03d}",  # TalentLMS course codes are optional
            c.description,
            "active" if c.active else "inactive",
            c.created,
            c.created,
            hide_from_catalog=index == 1,
        )
    for e in world.enrolments:
        if e.state == "DROPPED":  # TalentLMS keeps no trace of a removed enrolment
            continue
        key = (user_ids[e.user], course_ids[e.course])
        percentage = {"ENROLLED": 0, "IN_PROGRESS": 40 + (key[0] * 7 + key[1]) % 50, "COMPLETED": 100}[
            e.state
        ]
        site.enrolments[key] = Enrolment(*key, "learner", e.enrolled, percentage, e.completed)
    if site.courses and len(site.users) > 2:  # one instructor: not a learner's progression
        first_course = min(site.courses)
        site.enrolments[(2, first_course)] = Enrolment(2, first_course, "instructor", owner_at, 0, None)
    return site
