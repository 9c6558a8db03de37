"""The Sandbox LMS's data: deterministic for a seed and a size, in the Sandbox's own "remote"
shape (which the connector maps to unified records, as a real connector maps a real API)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

FIRST_NAMES = [
    "Ada",
    "Grace",
    "Alan",
    "Linus",
    "Margaret",
    "Ken",
    "Barbara",
    "Dennis",
    "Frances",
    "Edsger",
    "Hedy",
    "John",
    "Radia",
    "Tim",
    "Katherine",
    "Donald",
    "Mary",
    "Niklaus",
    "Sophie",
    "Yukihiro",
]
LAST_NAMES = [
    "Lovelace",
    "Hopper",
    "Turing",
    "Torvalds",
    "Hamilton",
    "Thompson",
    "Liskov",
    "Ritchie",
    "Allen",
    "Dijkstra",
    "Lamarr",
    "McCarthy",
    "Perlman",
    "Berners-Lee",
    "Johnson",
    "Knuth",
    "Shelley",
    "Wirth",
    "Wilson",
    "Matsumoto",
]
TOPICS = [
    "Security",
    "Privacy",
    "Leadership",
    "Python",
    "SQL",
    "Negotiation",
    "Compliance",
    "Design",
    "Sales",
    "Onboarding",
    "First Aid",
    "Accessibility",
    "Finance",
    "Cloud",
    "Writing",
]
LEVELS = ["Fundamentals", "Essentials", "Advanced", "Masterclass", "In Practice"]
PROVIDERS = ["Acme Academy", "Northwind Learning", "Contoso University", "Globex Training"]
PROGRESS = ["ENROLLED", "IN_PROGRESS", "COMPLETED", "DROPPED"]

EPOCH = datetime(2024, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class SandboxSize:
    users: int
    courses: int
    progressions: int
    seed: int

    @property
    def skills(self) -> int:
        return max(5, self.courses // 4)

    def revisions_of(self, course: int) -> int:
        return 2 if course % 5 == 0 else 1


def iso(moment: datetime) -> str:
    return moment.isoformat()


def _when(rng: random.Random, days: int = 600) -> datetime:
    return EPOCH + timedelta(seconds=rng.randrange(days * 86400))


def user(i: int, rng: random.Random) -> dict[str, Any]:
    first, last = FIRST_NAMES[i % len(FIRST_NAMES)], LAST_NAMES[(i // len(FIRST_NAMES) + i) % len(LAST_NAMES)]
    return {
        "first_name": first,
        "last_name": last,
        "email": f"{first.lower()}.{last.lower()}.{i}@example.com",
        "active": rng.random() > 0.05,
        "created": iso(_when(rng)),
    }


def course(i: int, size: SandboxSize, rng: random.Random) -> dict[str, Any]:
    title = f"{TOPICS[i % len(TOPICS)]} {LEVELS[(i // len(TOPICS)) % len(LEVELS)]} {i}"
    revisions = []
    for r in range(1, size.revisions_of(i) + 1):
        skills = sorted({f"skill-{rng.randrange(size.skills)}" for _ in range(rng.randrange(4))})
        revisions.append(
            {
                "id": f"course-{i}-r{r}",
                "title": title if r == size.revisions_of(i) else f"{title} (edition {r})",
                "description": f"Everything about {TOPICS[i % len(TOPICS)].lower()}, edition {r}.",
                "url": f"https://sandbox.lmsbridge.local/courses/{i}/r{r}",
                "active": r == size.revisions_of(i),
                "skills": skills,
                "created": iso(_when(rng)),
            }
        )
    return {"provider": f"prov-{i % len(PROVIDERS)}", "created": iso(_when(rng)), "revisions": revisions}


def progression(
    k: int, size: SandboxSize, revisions: list[tuple[str, str]], rng: random.Random
) -> dict[str, Any]:
    # Pair k -> (user, revision) is one-to-one for k < users * revisions, so no pair repeats.
    user_index = k % size.users
    course_id, revision_id = revisions[(k // size.users + user_index * 7) % len(revisions)]
    state = PROGRESS[rng.randrange(len(PROGRESS))]
    enrolled = _when(rng)
    completed = enrolled + timedelta(days=rng.randrange(1, 60)) if state == "COMPLETED" else None
    return {
        "user": f"user-{user_index}",
        "revision": revision_id,
        "course": course_id,
        "state": state,
        "enrolled": iso(enrolled),
        "completed": iso(completed) if completed else None,
        "score": rng.randrange(50, 101) if completed else None,
    }


def generate(size: SandboxSize) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(model, remote_id, data) for every record of a fresh Sandbox."""
    rng = random.Random(size.seed)
    for i, name in enumerate(PROVIDERS):
        yield "lms_course_providers", f"prov-{i}", {"name": name, "created": iso(_when(rng))}
    for i in range(size.skills):
        yield (
            "lms_skills",
            f"skill-{i}",
            {"name": f"{TOPICS[i % len(TOPICS)]} skill {i}", "created": iso(_when(rng))},
        )
    for i in range(3):
        yield (
            "hris_skills",
            f"hskill-{i}",
            {
                "name": f"{TOPICS[i]} proficiency",
                "description": f"Working knowledge of {TOPICS[i].lower()}.",
                "levels": ["Beginner", "Intermediate", "Expert"],
            },
        )
    for i in range(size.users):
        yield "lms_users", f"user-{i}", user(i, rng)
    revisions: list[tuple[str, str]] = []
    for i in range(size.courses):
        data = course(i, size, rng)
        revisions.extend((f"course-{i}", r["id"]) for r in data["revisions"])
        yield "lms_courses", f"course-{i}", data
    count = min(size.progressions, size.users * len(revisions)) if revisions else 0
    for k in range(count):
        yield "lms_course_progressions", f"prog-{k}", progression(k, size, revisions, rng)
