"""The state of one emulated Workday tenant, in Workday's terms: workers with WIDs and
Employee_IDs, digital and blended learning courses with a `Version_Label`, skills and a content
provider tagged on each course, and learning enrollments (registered, completed or rescinded),
seeded from the kit's shared world."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime

from starlette.responses import Response

from lmsbridge.testing.emulators.kit import Emulator, TokenIssuer, World

WWS_VERSION = "v44.1"  # the Workday Web Services version the emulator follows
PROVIDERS = ("Workday Learning", "Acme Academy")
# The tenant's Custom ID types (Maintain Custom ID Types), as a customer defines them.
BADGE = ("BADGE_NUMBER", "Badge Number")
FORMER_LMS = ("FORMER_LMS_ID", "Former LMS ID")


def wid(*parts: object) -> str:
    """A Workday ID: 32 hex characters, stable for the same parts."""
    return hashlib.md5(":".join(map(str, parts)).encode(), usedforsecurity=False).hexdigest()


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def soap_fault(code: str, message: str, status: int = 500) -> Response:
    """A SOAP 1.1 fault as Workday sends it: HTTP 500, `faultcode` `SOAP-ENV:Client.<kind>`, the
    message in `faultstring`, and the detail of the WSDL's fault types: `Validation_Fault/
    Validation_Error/Message` for validation errors, `Processing_Fault/Detail_Message` for
    processing faults (both types are in the code generated from the v31.2 Learning WSDL)."""
    detail = ""
    if code.endswith("validationError"):
        detail = (
            '<detail><wd:Validation_Fault xmlns:wd="urn:com.workday/bsvc"><wd:Validation_Error>'
            f"<wd:Message>{escape(message)}</wd:Message></wd:Validation_Error></wd:Validation_Fault></detail>"
        )
    elif code.endswith("processingFault"):
        detail = (
            '<detail><wd:Processing_Fault xmlns:wd="urn:com.workday/bsvc">'
            f"<wd:Detail_Message>{escape(message)}</wd:Detail_Message></wd:Processing_Fault></detail>"
        )
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"><SOAP-ENV:Body>'
        f"<SOAP-ENV:Fault><faultcode>{code}</faultcode><faultstring>{escape(message)}</faultstring>"
        f"{detail}</SOAP-ENV:Fault></SOAP-ENV:Body></SOAP-ENV:Envelope>"
    )
    return Response(body, status, media_type="text/xml; charset=utf-8")


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def throttled(wait: float) -> Response:
    """Workday publishes no limit; an overloaded tenant answers 429 with Retry-After (assumed)."""
    response = soap_fault("SOAP-ENV:Server", "Too many requests", 429)
    response.headers["Retry-After"] = str(max(1, round(wait + 0.49)))
    return response


class LastingRefreshTokens(TokenIssuer):
    """Workday's refresh tokens for an integration system user do not expire and are not
    rotated: a token serves every refresh, and the token answer carries no new one."""

    def issue(self, with_refresh: bool) -> dict[str, object]:
        return super().issue(with_refresh=False)

    def use_refresh_token(self, token: str) -> bool:
        with self._lock:
            return token in self._refresh


@dataclass
class Worker:
    wid: str
    employee_id: str
    first_name: str
    last_name: str
    email: str
    active: bool
    user_name: str
    cost_center: str
    updated: datetime
    # The tenant's Custom IDs of this worker: (Custom_ID_Type_ID, type name, value).
    custom_ids: list[tuple[str, str, str]] = field(default_factory=list)


@dataclass
class Course:
    wid: str
    course_id: str
    kind: str  # Digital | Blended
    title: str
    description: str
    url: str
    version: str
    inactive: bool
    skills: list[tuple[str, str]]  # (Skill_Item_ID, name)
    provider: str
    created: datetime
    topic: tuple[str, str] = ("GENERAL", "General")  # (Learning_Topic_ID, name)


@dataclass
class Enrollment:
    wid: str
    course_wid: str
    employee_id: str
    registered: datetime
    completed: datetime | None
    rescinded: bool
    version: str
    score: int | None = None


@dataclass
class WorkdaySite(Emulator):
    tenant: str = "acme"
    user_name: str = "ISU_lmsbridge"
    password: str = "workday-secret"
    client_id: str = "workday-client"
    workers: list[Worker] = field(default_factory=list)
    courses: list[Course] = field(default_factory=list)
    enrollments: list[Enrollment] = field(default_factory=list)
    repeat_first_page: bool = False
    issuer: TokenIssuer | None = None

    def __post_init__(self) -> None:
        Emulator.__init__(self, throttled)
        self.issuer = LastingRefreshTokens(self.client_id, self.password)
        self.issuer.add_refresh_token(f"refresh-{self.password}")

    def worker(self, employee_id: str) -> Worker | None:
        return next((w for w in self.workers if w.employee_id == employee_id), None)

    def course(self, ref: str) -> Course | None:
        return next((c for c in self.courses if ref in (c.wid, c.course_id)), None)

    def enrollment(self, ref: str) -> Enrollment | None:
        return next((e for e in self.enrollments if e.wid == ref), None)

    def new_enrollment(self, course: Course, worker: Worker) -> Enrollment:
        """A registration of the worker in the course's current version, recorded now."""
        enrollment = Enrollment(
            wid("enrollment", course.wid, worker.employee_id, len(self.enrollments)),
            course.wid,
            worker.employee_id,
            now(),
            None,
            False,
            course.version,
        )
        self.enrollments.append(enrollment)
        return enrollment

    def touch(self, worker: Worker) -> None:
        worker.last_name += " (changed)"
        worker.updated = now()


def seeded_site(
    seed: int = 1,
    *,
    tenant: str = "acme",
    user_name: str = "ISU_lmsbridge",
    password: str = "workday-secret",
    users: int = 12,
    courses: int = 6,
    enrolments: int = 30,
) -> WorkdaySite:
    world = World.seeded(seed, users=users, courses=courses, enrolments=enrolments)
    site = WorkdaySite(tenant=tenant, user_name=user_name, password=password)
    skill_names = {s.key: s.name for s in world.skills}
    by_user: dict[str, Worker] = {}
    for index, u in enumerate(world.users):
        worker = Worker(
            wid(seed, "worker", index),
            str(21001 + index),
            u.first_name,
            u.last_name,
            u.email,
            u.active,
            u.email.split("@")[0],
            f"CC-{100 + index % 4}",
            u.created,
            [(*BADGE, f"B-{5000 + index}")] + ([(*FORMER_LMS, f"lms-{index:04d}")] if index % 3 == 0 else []),
        )
        site.workers.append(worker)
        by_user[u.key] = worker
    by_course: dict[str, Course] = {}
    for index, c in enumerate(world.courses):
        course = Course(
            wid(seed, "course", index),
            f"COURSE-{index + 1:03d}",
            "Blended" if index % 3 == 2 else "Digital",
            c.title,
            c.description,
            c.url,
            f"{1 + index % 2}.0",
            not c.active,
            [(f"SKILL-{key}", skill_names.get(key, key)) for key in c.skills],
            PROVIDERS[index % len(PROVIDERS)],
            c.created,
        )
        site.courses.append(course)
        by_course[c.key] = course
    for index, e in enumerate(world.enrolments):
        learner, content = by_user.get(e.user), by_course.get(e.course)
        if learner is None or content is None:
            continue
        site.enrollments.append(
            Enrollment(
                wid(seed, "enrollment", index),
                content.wid,
                learner.employee_id,
                e.enrolled,
                e.completed if e.state == "COMPLETED" else None,
                e.state == "DROPPED",
                content.version,
                e.score,
            )
        )
    return site
