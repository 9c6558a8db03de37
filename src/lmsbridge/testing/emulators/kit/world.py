"""One seeded world of users, courses, enrolments, completions and skills that every emulator
starts from and that the Sandbox generates too (`lmsbridge.sandbox.generator`), so the same seed
gives the same people and courses in every remote, each emulator dressing them in its vendor's
shapes and oddities."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lmsbridge.sandbox.generator import SandboxSize, generate


@dataclass(frozen=True)
class WorldUser:
    key: str
    first_name: str
    last_name: str
    email: str
    active: bool
    created: datetime


@dataclass(frozen=True)
class WorldCourse:
    key: str
    title: str
    description: str
    url: str
    active: bool
    created: datetime
    skills: tuple[str, ...] = ()


@dataclass(frozen=True)
class WorldEnrolment:
    user: str
    course: str
    state: str  # ENROLLED | IN_PROGRESS | COMPLETED | DROPPED
    enrolled: datetime
    completed: datetime | None
    score: int | None


@dataclass(frozen=True)
class WorldSkill:
    key: str
    name: str
    created: datetime


@dataclass
class World:
    seed: int
    users: list[WorldUser] = field(default_factory=list)
    courses: list[WorldCourse] = field(default_factory=list)
    enrolments: list[WorldEnrolment] = field(default_factory=list)
    skills: list[WorldSkill] = field(default_factory=list)

    @classmethod
    def seeded(cls, seed: int = 1, users: int = 12, courses: int = 6, enrolments: int = 30) -> World:
        """The Sandbox's data for this seed and size, one revision per course (its latest)."""
        world = cls(seed)
        size = SandboxSize(users=users, courses=courses, progressions=enrolments, seed=seed)
        for model, key, data in generate(size):
            world._add(model, key, data)
        return world

    def _add(self, model: str, key: str, data: dict[str, Any]) -> None:
        if model == "lms_users":
            self.users.append(
                WorldUser(
                    key,
                    data["first_name"],
                    data["last_name"],
                    data["email"],
                    data["active"],
                    datetime.fromisoformat(data["created"]),
                )
            )
        elif model == "lms_courses":
            latest = data["revisions"][-1]
            self.courses.append(
                WorldCourse(
                    key,
                    latest["title"],
                    latest["description"],
                    latest["url"],
                    latest["active"],
                    datetime.fromisoformat(data["created"]),
                    tuple(latest["skills"]),
                )
            )
        elif model == "lms_course_progressions":
            completed = data.get("completed")
            self.enrolments.append(
                WorldEnrolment(
                    data["user"],
                    data["course"],
                    data["state"],
                    datetime.fromisoformat(data["enrolled"]),
                    datetime.fromisoformat(completed) if completed else None,
                    data.get("score"),
                )
            )
        elif model == "lms_skills":
            self.skills.append(WorldSkill(key, data["name"], datetime.fromisoformat(data["created"])))
