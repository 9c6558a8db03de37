"""The state of one emulated SuccessFactors Learning tenant, kept as the rows its OData services
answer (field names and types from reference 1.4 and the vendor-specs schemas): students,
catalog items, each learner's to-do items and learning history, the OCN staging area and the
learning events received. Seeded from the kit's world with the vendor's oddities: an inactive
student (`notActive` "yes"), an inactive item, and a history row whose customer-configured
completion status means failed."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from starlette.responses import JSONResponse, Response

from lmsbridge.testing.emulators.kit import Emulator, Fault, TokenIssuer, World

TOKEN_SECONDS = 1800  # the Learning token server's tokens [reference 1.2]
OCN_PACE_SECONDS = 500.0  # one OCN course every 500 seconds [reference 1.6, Kombo]
PROVIDERS = ("SAP_CONTENT", "ACME_ACADEMY")
FAILED_STATUS = "COURSE-FAILED"


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def now_ms() -> int:
    return int(time.time() * 1000)


def odata_error(status: int, code: str, message: str) -> Response:
    return JSONResponse({"error": {"code": code, "message": message}}, status)


def throttled(wait: float) -> Response:
    return JSONResponse(
        {"error": {"code": "429", "message": "Too many requests; the service is throttled."}},
        429,
        {"Retry-After": str(max(1, round(wait + 0.49)))},
    )


@dataclass
class SuccessFactorsSite(Emulator):
    client_id: str = "sf-client"
    client_secret: str = "sf-secret"
    company_id: str = "ACME01"
    saml_assertion: str = "PHNhbWw+ZGVtbzwvc2FtbD4="
    students: list[dict[str, Any]] = field(default_factory=list)
    items: list[dict[str, Any]] = field(default_factory=list)
    todos: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    histories: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    ocn_courses: dict[str, dict[str, Any]] = field(default_factory=dict)
    learning_events: list[dict[str, Any]] = field(default_factory=list)
    ocn_posted_at: list[float] = field(default_factory=list)  # when each accepted OCN post came (epoch s)
    ocn_pace_seconds: float = OCN_PACE_SECONDS
    import_on_post: bool = True  # False: OCN courses wait in staging until `run_ocn_import()`
    repeat_first_page: bool = False
    next_links: bool = True

    def __post_init__(self) -> None:
        Emulator.__init__(self, throttled)
        self.issuer = TokenIssuer(self.client_id, self.client_secret, TOKEN_SECONDS)
        self.platform_issuer = TokenIssuer(self.client_id, self.client_secret, 86_400)
        self._ocn_lock = threading.Lock()
        self._last_ocn = -1e18

    def vendor_error(self, fault: Fault) -> Response:
        return odata_error(fault.status, str(fault.status), fault.body or "Injected error")

    def valid(self, authorization: str | None) -> bool:
        return self.issuer.valid(authorization) or self.platform_issuer.valid(authorization)

    def item(self, type_id: str, item_id: str) -> dict[str, Any] | None:
        return next((i for i in self.items if i["itemTypeID"] == type_id and i["itemID"] == item_id), None)

    def ocn_wait(self) -> float:
        """Seconds until OCN accepts another post (0: now, and the post is counted)."""
        with self._ocn_lock:
            wait = self._last_ocn + self.ocn_pace_seconds - time.monotonic()
            if wait > 0:
                return wait
            self._last_ocn = time.monotonic()
            self.ocn_posted_at.append(time.time())
            return 0.0

    def receive_ocn(self, course: dict[str, Any]) -> None:
        self.ocn_courses[str(course["courseID"])] = course
        if self.import_on_post:
            self.import_ocn(course)

    def run_ocn_import(self) -> None:
        for course in self.ocn_courses.values():
            self.import_ocn(course)

    def import_ocn(self, course: dict[str, Any]) -> None:
        """Learning's OCN import: the staged course becomes (or updates) a catalog item of type
        OCN; a changed title or status is a new revision."""

        def text(values: Any) -> str:
            return str(values[0]["value"]) if isinstance(values, list) and values else ""

        existing = self.item("OCN", str(course["courseID"])) or next(
            (i for i in self.items if i["itemID"] == str(course["courseID"])), None
        )
        title = text(course.get("title")) or (existing or {}).get("itemTitle", "")
        descr = (
            text(course.get("description")) if course.get("description") else (existing or {}).get("Descr")
        )
        active = str(course.get("status", "ACTIVE")).upper() == "ACTIVE"
        if existing is None:
            moment = now_ms()
            self.items.append(
                item_row(
                    "OCN", str(course["courseID"]), title, descr or "", course["providerID"], moment, active
                )
            )
            self.items[-1]["sourceID"] = "OCN"
            return
        if (existing["itemTitle"], existing["active"], existing["Descr"]) != (title, active, descr):
            existing.update(
                itemTitle=title,
                Descr=descr,
                active=active,
                revisionDate=max(now_ms(), existing["revisionDate"] + 1),
            )
            existing["revisionNumber"] = str(int(existing["revisionNumber"]) + 1)

    def record_event(self, event: dict[str, Any]) -> str | None:
        """An OCN learning event: a completed history row for the learner (the to-do row goes)."""
        user_id, course_id = str(event.get("userID") or ""), str(event.get("courseID") or "")
        if not any(s["studentID"] == user_id for s in self.students):
            return f"Invalid userID {user_id}"
        found = next((i for i in self.items if i["itemID"] == course_id), None)
        if found is None:
            return f"Invalid courseID {course_id}"
        stamp = event.get("completedTimestamp")
        if not isinstance(stamp, int):
            return "completedTimestamp must be epoch time"
        stamp = stamp * 1000 if stamp < 10**11 else stamp  # epoch seconds or milliseconds [reference 1.5]
        self.learning_events.append(event)
        self.todos[user_id] = [r for r in self.todos.get(user_id, []) if r["componentID"] != course_id]
        rows = [r for r in self.histories.get(user_id, []) if r["componentID"] != course_id]
        rows.append(
            history_row(found, str(event.get("completionStatusID") or "COMPLETE"), stamp, event.get("grade"))
        )
        self.histories[user_id] = rows
        return None


def item_row(
    type_id: str, item_id: str, title: str, descr: str, provider: str, created: int, active: bool
) -> dict[str, Any]:
    return {
        "itemID": item_id,
        "itemTypeID": type_id,
        "itemTitle": title,
        "Descr": descr,
        "classificationID": "TIME-BASED",
        "Provider": provider,
        "revisionDate": created,
        "revisionNumber": "1",
        "sourceID": "CATALOG",
        "domainID": "PUBLIC",
        "active": active,
        "createDate": created,
    }


def todo_row(item: dict[str, Any], assigned: int) -> dict[str, Any]:
    return {
        "componentTypeID": item["itemTypeID"],
        "componentID": item["itemID"],
        "revisionDate": item["revisionDate"],
        "revisionNumber": item["revisionNumber"],
        "title": item["itemTitle"],
        "assignedDate": assigned,
        "requiredDate": None,
        "daysRemaining": None,
        "addUser": "A",
        "origin": "ADMIN",
        "isRequired": False,
    }


def history_row(item: dict[str, Any], status_id: str, completed: int, grade: Any = None) -> dict[str, Any]:
    return {
        "componentTypeID": item["itemTypeID"],
        "componentID": item["itemID"],
        "revisionDate": item["revisionDate"],
        "revisionNumber": item["revisionNumber"],
        "title": item["itemTitle"],
        "completionStatusID": status_id,
        "grade": None if grade is None else str(grade),
        "totalHours": 1.5,
        "creditHours": 1.0,
        "completionDate": completed,
        "lastCompletionDate": completed,
        "lastUpdateTimestamp": completed,
        "studentComponentID": abs(hash((item["itemID"], completed))) % 10**9,
        "componentKey": f"{item['itemTypeID']}-{item['itemID']}",
    }


def seeded_site(
    seed: int = 1,
    *,
    client_id: str = "sf-client",
    client_secret: str = "sf-secret",
    users: int = 12,
    courses: int = 6,
    enrolments: int = 30,
    ocn_pace_seconds: float = OCN_PACE_SECONDS,
) -> SuccessFactorsSite:
    world = World.seeded(seed, users=users, courses=courses, enrolments=enrolments)
    site = SuccessFactorsSite(
        client_id=client_id, client_secret=client_secret, ocn_pace_seconds=ocn_pace_seconds
    )
    student_of: dict[str, str] = {}
    for index, u in enumerate(world.users):
        student_id = f"U{1001 + index}"
        student_of[u.key] = student_id
        site.students.append(
            {
                "studentID": student_id,
                "personGUID": f"GUID-{1001 + index}",
                "personExternalID": student_id,
                "firstName": u.first_name,
                "middleName": None,
                "lastName": u.last_name,
                "emailAddr": u.email,
                "notActive": "no" if u.active else "yes",
                "hireDate": ms(u.created),
                "termDate": None,
                "domainID": "PUBLIC",
                "profileStatus": "COMPLETE",
            }
        )
    if site.students and all(s["notActive"] == "no" for s in site.students):
        site.students[-1]["notActive"] = "yes"  # one learner who left: Learning keeps the record
    item_of: dict[str, dict[str, Any]] = {}
    for index, c in enumerate(world.courses):
        row = item_row(
            "COURSE",
            f"CRS-{1001 + index}",
            c.title,
            c.description,
            PROVIDERS[index % 2],
            ms(c.created),
            c.active,
        )
        site.items.append(row)
        item_of[c.key] = row
    failed_once = False
    for e in world.enrolments:
        user_id, item = student_of.get(e.user), item_of.get(e.course)
        if user_id is None or item is None:
            continue
        todo = site.todos.setdefault(user_id, [])
        done = site.histories.setdefault(user_id, [])
        if any(r["componentID"] == item["itemID"] for r in (*todo, *done)):
            continue
        if e.state == "COMPLETED" and e.completed is not None:
            status = "COMPLETE"
            if not failed_once:  # a customer-configured status that means failed
                status, failed_once = FAILED_STATUS, True
            done.append(history_row(item, status, ms(e.completed), e.score))
        elif e.state != "DROPPED":
            todo.append(todo_row(item, ms(e.enrolled)))
    return site


def moment_of(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1000, UTC)
