"""The state of one emulated Udemy Business organization, in Udemy's own terms: integer course
ids with `_class`, categories and subcategories, report rows keyed by e-mail with ISO moments,
seeded from the kit's shared world with the vendor's oddities: a deactivated user, a
GDPR-anonymized learner ("Anonymized User"), a retired course (gone from the list, its report
rows kept), courses without a subcategory, completion ratios as numbers 0-100."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.responses import JSONResponse, Response

from lmsbridge.testing.emulators.kit import Emulator, World

FIRST_COURSE_ID = 1_480_000
PAGE_SIZE_MAX = 1000  # [reference 4.2: the emulator caps pages at 1000]
CATEGORIES = [(288, "Development"), (268, "Business"), (294, "IT & Software"), (292, "Personal Development")]
FIRST_SUBCATEGORY_ID = 8_000


def throttled(wait: float) -> Response:
    """Udemy's 429: Retry-After in seconds [reference 4.2], DRF's throttle body."""
    seconds = max(1, round(wait + 0.49))
    return JSONResponse(
        {"detail": f"Request was throttled. Expected available in {seconds} seconds."},
        429,
        {"Retry-After": str(seconds)},
    )


def iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


@dataclass
class Learner:
    email: str
    name: str
    surname: str
    external_id: str | None
    joined: datetime
    deactivated: bool = False


@dataclass
class Course:
    id: int
    title: str
    description: str
    slug: str
    category: tuple[int, str]
    subcategory: tuple[int, str] | None
    updated: datetime
    retired: bool = False


@dataclass
class Activity:
    email: str
    course_id: int
    enrolled: datetime
    started: datetime | None
    completed: datetime | None
    ratio: float
    last_accessed: datetime
    assigned: bool = False


@dataclass
class UdemySite(Emulator):
    client_id: str = "udemy-client"
    client_secret: str = "udemy-secret"
    account_id: str = "123456"
    learners: list[Learner] = field(default_factory=list)
    courses: list[Course] = field(default_factory=list)
    activities: list[Activity] = field(default_factory=list)
    repeat_first_page: bool = False

    def __post_init__(self) -> None:
        Emulator.__init__(self, throttled)

    def listed_courses(self) -> list[Course]:
        return [c for c in self.courses if not c.retired]

    def course(self, course_id: int) -> Course | None:
        return next((c for c in self.listed_courses() if c.id == course_id), None)

    def touch(self, activity: Activity) -> None:
        """A learner went on with a course: the row's ratio and last access move."""
        moment = now()
        activity.started = activity.started or moment
        activity.ratio = min(99.0, activity.ratio + 10)
        activity.last_accessed = moment


def seeded_site(
    seed: int = 1,
    *,
    client_id: str = "udemy-client",
    client_secret: str = "udemy-secret",
    account_id: str = "123456",
    users: int = 12,
    courses: int = 6,
    enrolments: int = 30,
) -> UdemySite:
    world = World.seeded(seed, users=users, courses=courses, enrolments=enrolments)
    site = UdemySite(client_id=client_id, client_secret=client_secret, account_id=account_id)
    skill_names = {s.key: s.name for s in world.skills}
    by_user: dict[str, Learner] = {}
    for index, u in enumerate(world.users):
        learner = Learner(
            u.email,
            u.first_name,
            u.last_name,
            f"ext-{index + 1:04d}" if index % 2 == 0 else None,
            u.created,
            deactivated=not u.active,
        )
        site.learners.append(learner)
        by_user[u.key] = learner
    subcategories: dict[str, tuple[int, str]] = {}
    by_course: dict[str, Course] = {}
    for index, c in enumerate(world.courses):
        sub = None
        if c.skills:
            name = skill_names.get(c.skills[0], c.skills[0])
            sub = subcategories.setdefault(name, (FIRST_SUBCATEGORY_ID + len(subcategories), name))
        slug = c.title.lower().replace(" ", "-")[:60]
        course = Course(
            FIRST_COURSE_ID + index * 7,
            c.title,
            c.description,
            slug,
            CATEGORIES[index % len(CATEGORIES)],
            sub,
            c.created,
            retired=not c.active,
        )
        site.courses.append(course)
        by_course[c.key] = course
    pairs: set[tuple[str, int]] = set()
    for e in world.enrolments:
        known, listed = by_user.get(e.user), by_course.get(e.course)
        if known is None or listed is None:
            continue
        learner, course = known, listed
        if (learner.email, course.id) in pairs:
            continue  # the report has one row per learner and course
        pairs.add((learner.email, course.id))
        started = e.enrolled + timedelta(hours=2) if e.state in ("IN_PROGRESS", "COMPLETED") else None
        ratio = 100.0 if e.state == "COMPLETED" else 35.0 if e.state == "IN_PROGRESS" else 0.0
        last = max(m for m in (e.enrolled, started, e.completed) if m is not None)
        site.activities.append(
            Activity(
                learner.email, course.id, e.enrolled, started, e.completed, ratio, last, assigned=ratio == 0
            )
        )
    # A learner erased under GDPR: the rows stay, the person does not.
    if site.activities:
        first = site.activities[0]
        site.learners.append(Learner("", "Anonymized User", "", None, first.enrolled))
        site.activities.append(Activity("", first.course_id, first.enrolled, None, None, 0.0, first.enrolled))
    return site


def course_json(site: UdemySite, course: Course, base_url: str) -> dict[str, Any]:
    category = {
        "_class": "course_category",
        "id": course.category[0],
        "title": course.category[1],
        "url": f"/courses/{course.category[1].lower().replace(' ', '-')}/",
    }
    sub = None
    if course.subcategory is not None:
        sub = {
            "_class": "course_subcategory",
            "id": course.subcategory[0],
            "title": course.subcategory[1],
            "url": f"/courses/{course.subcategory[1].lower().replace(' ', '-')}/",
        }
    return {
        "_class": "course",
        "id": course.id,
        "title": course.title,
        "description": course.description,
        "url": f"{base_url}/course/{course.slug}/",
        "mobile_native_deeplink": f"udemy://course/{course.id}",
        "estimated_content_length": 95 + course.id % 60,
        "num_lectures": 12 + course.id % 9,
        "num_quizzes": course.id % 3,
        "is_practice_test_course": False,
        "has_closed_caption": True,
        "caption_languages": ["English [Auto]"],
        "categories": [course.category[1]] + ([course.subcategory[1]] if course.subcategory else []),
        "primary_category": category,
        "primary_subcategory": sub,
        "instructors": ["Lee Example"],
        "images": {"size_100x100": f"{base_url}/img/{course.id}_100.jpg"},
        "locale": {"_class": "locale", "locale": "en_US"},
        "last_update_date": course.updated.date().isoformat(),
        "xapi_activity_id": f"{base_url}/course/{course.id}",
    }


def learner_row(learner: Learner, site: UdemySite) -> dict[str, Any]:
    rows = [a for a in site.activities if a.email == learner.email]
    last = max((a.last_accessed for a in rows), default=None)
    return {
        "user_name": learner.name,
        "user_surname": learner.surname,
        "user_email": learner.email,
        "user_role": "Student",
        "user_external_id": learner.external_id,
        "user_joined_date": learner.joined.date().isoformat(),
        "user_is_deactivated": learner.deactivated,
        "num_new_enrolled_courses": len(rows),
        "num_new_assigned_courses": sum(a.assigned for a in rows),
        "num_new_started_courses": sum(a.started is not None for a in rows),
        "num_completed_courses": sum(a.completed is not None for a in rows),
        "num_completed_lectures": sum(int(a.ratio // 10) for a in rows),
        "num_completed_quizzes": 0,
        "num_video_consumed_minutes": sum(int(a.ratio) for a in rows),
        "num_web_visited_days": len(rows),
        "last_date_visit": last.date().isoformat() if last else None,
    }


def activity_row(activity: Activity, site: UdemySite) -> dict[str, Any]:
    learner = next((le for le in site.learners if le.email == activity.email), None)
    course = next((c for c in site.courses if c.id == activity.course_id), None)
    return {
        "user_email": activity.email,
        "user_external_id": learner.external_id if learner else None,
        "user_name": learner.name if learner else "Anonymized User",
        "user_surname": learner.surname if learner else "",
        "user_is_deactivated": learner.deactivated if learner else False,
        "lms_user_id": None,
        "course_id": activity.course_id,
        "course_title": course.title if course else None,
        "course_category": course.category[1] if course else None,
        "course_duration": 95,
        "completion_ratio": activity.ratio,
        "num_video_consumed_minutes": int(activity.ratio),
        "course_enroll_date": iso(activity.enrolled),
        "course_start_date": iso(activity.started),
        "course_completion_date": iso(activity.completed),
        "course_first_completion_date": iso(activity.completed),
        "course_last_accessed_date": iso(activity.last_accessed),
        "is_assigned": activity.assigned,
        "assigned_by": "admin@example.com" if activity.assigned else None,
    }
