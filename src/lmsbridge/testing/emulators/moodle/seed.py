"""A seeded site: people, courses with activities, enrolments, completions and competencies,
the same for the same seed."""

from __future__ import annotations

import random
import time
from collections.abc import Callable

from lmsbridge.testing.emulators.moodle.protocol import EDITING_TEACHER, NEWEST, SEED_EPOCH
from lmsbridge.testing.emulators.moodle.site import MoodleSite

# ---------------------------------------------------------------------------------------------------
# A seeded site
# ---------------------------------------------------------------------------------------------------

FIRST_NAMES = (
    "Ada",
    "Ben",
    "Chloé",
    "Dmitri",
    "Eva",
    "Farid",
    "Grace",
    "Hiro",
    "Ines",
    "Jonas",
    "Kemi",
    "Lars",
)
LAST_NAMES = (
    "Okafor",
    "Lindqvist",
    "Moreau",
    "Petrov",
    "Schmidt",
    "Haddad",
    "Hopper",
    "Tanaka",
    "Silva",
    "Berg",
)
TOPICS = (
    "Workplace Safety",
    "Data Privacy Basics",
    "Leadership Fundamentals",
    "Customer Care",
    "Project Management",
    "Presentation Skills",
    "Cybersecurity Awareness",
    "Negotiation",
)


def seeded_site(
    *,
    seed: int = 1,
    users: int = 8,
    courses: int = 5,
    token: str | None = None,
    completion_task_interval: float | None = 60.0,
    debug: bool = False,
    clock: Callable[[], float] = time.time,
    version: str = NEWEST,
) -> MoodleSite:
    """A site with learners, courses (with activities, completion criteria, a hidden course and
    one without completion tracking), enrolments in every state, completions, and competency
    frameworks linked to courses. The same seed gives the same site."""
    rng = random.Random(seed)
    site = MoodleSite(
        completion_task_interval=completion_task_interval, debug=debug, clock=clock, version=version
    )
    if token is not None:
        site.add_token(token)
    learners = []
    for n in range(users):
        first, last = FIRST_NAMES[n % len(FIRST_NAMES)], LAST_NAMES[(n * 3) % len(LAST_NAMES)]
        handle = f"{first}.{last}{n}".lower().replace("é", "e")
        learners.append(
            site.add_user(
                handle,
                first,
                last,
                f"{handle}@example.com",
                idnumber=f"EMP{1000 + n}",
                department=("Sales", "Engineering", "Operations")[n % 3],
                suspended=n == users - 1,
                firstaccess=SEED_EPOCH + n * 3600,
                lastaccess=SEED_EPOCH + n * 7200,
            )
        )
    catalog = []
    for n in range(courses):
        topic = TOPICS[n % len(TOPICS)]
        course = site.add_course(
            topic if n < len(TOPICS) else f"{topic} {n // len(TOPICS) + 1}",
            f"C{100 + n}",
            activities=0 if n == 2 else 2 + n % 2,
            summary=f"<p>{topic}: a course of the emulated site.</p>",
            visible=0 if n == courses - 1 and courses > 2 else 1,
            enablecompletion=0 if n == 2 else 1,
            startdate=SEED_EPOCH,
        )
        course.timecreated = course.timemodified = SEED_EPOCH + n * 86_400
        catalog.append(course)
    framework = site.add_framework("Core skills", "CORE", description="Skills every employee builds.")
    other = site.add_framework("Digital skills", "DIGITAL")
    skills = [
        site.add_competency(framework.id, name, f"CORE-{i}")
        for i, name in enumerate(("Communication", "Teamwork", "Problem solving", "Leadership"))
    ] + [
        site.add_competency(other.id, name, f"DIG-{i}")
        for i, name in enumerate(("Data literacy", "Security"))
    ]
    for fw in site.frameworks.values():
        fw.timecreated = fw.timemodified = SEED_EPOCH
    for comp in skills:
        comp.timecreated = comp.timemodified = SEED_EPOCH
    for course in catalog:
        for comp in rng.sample(skills, 2):
            site.add_course_competency(course.id, comp.id).timecreated = SEED_EPOCH
    for user in learners:
        for course in rng.sample(catalog, min(len(catalog), 3)):
            enrolment = site.enrol(user.id, course.id)
            enrolment.timecreated = SEED_EPOCH
            roll = rng.random()
            criteria = course.criteria
            if roll < 0.15:
                enrolment.status = 1  # suspended: a dropped learner
            elif roll < 0.45 and criteria:
                for cmid in criteria:
                    site.complete_activity(cmid, user.id, at=SEED_EPOCH + rng.randrange(86_400, 90 * 86_400))
            elif roll < 0.7 and criteria:
                site.complete_activity(
                    criteria[0], user.id, at=SEED_EPOCH + rng.randrange(86_400, 30 * 86_400)
                )
                site.visit_course(user.id, course.id, SEED_EPOCH + 40 * 86_400)
    if courses:
        site.enrol(2, catalog[0].id, roleid=EDITING_TEACHER).timecreated = SEED_EPOCH
    site.run_completion_task()
    return site
