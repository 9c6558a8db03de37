"""The state of one emulated Cornerstone portal, in Cornerstone's own terms: employees with a
numeric `id`, an external `userId` and a `guid` (Employee API v2, shaped on the captured
employee sample); learning objects, transcripts and LO competencies as Reporting API view rows
(`lo_*`, `reg_num`/`user_lo_*`, `competency_*` columns of reference 2.5), seeded from the kit's
shared world with the vendor's oddities: an inactive employee, an inactive learning object, a
removed transcript, and a transcript whose status name is a translation with no status group."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.responses import JSONResponse, Response

from lmsbridge.testing.emulators.kit import Emulator, TokenIssuer, World

HOURLY_LIMIT = 24_000  # the Reporting API's hourly allowance [reference 2.4]
TRANSCRIPT_SEARCH_PAGE = 50  # [reference 2.3]
STATUS = {  # world state -> (status id, English name, status group id)
    "ENROLLED": (1, "Registered", 12),
    "IN_PROGRESS": (2, "In Progress", 13),
    "COMPLETED": (3, "Completed", 11),
    "DROPPED": (4, "Removed", 12),
}


def iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def envelope(status: int, message: str) -> dict[str, Any]:
    """Cornerstone's error body [reference 2.4]."""
    return {
        "status": str(status),
        "timeStamp": iso(now()),
        "error": {
            "errorId": str(uuid.uuid4()),
            "message": message,
            "code": str(status),
            "description": None,
            "details": None,
        },
    }


def throttled(wait: float) -> Response:
    """The 429 with the `x-csod-*` headers; Retry-After is not documented, so none is sent."""
    return JSONResponse(
        envelope(429, "CSOD Too many requests."),
        429,
        {
            "x-csod-throttling-rate-limit-urilevel": str(HOURLY_LIMIT),
            "x-csod-requests-remaining-urilevel": "0",
        },
    )


@dataclass
class Portal(Emulator):
    client_id: str = "csod-client"
    client_secret: str = "csod-secret"
    employees: list[dict[str, Any]] = field(default_factory=list)
    training: list[dict[str, Any]] = field(default_factory=list)
    transcripts: list[dict[str, Any]] = field(default_factory=list)
    competencies: list[dict[str, Any]] = field(default_factory=list)
    repeat_first_page: bool = False
    page_size_cap: int | None = None  # shrinks every page (tests of paging)
    next_reg_num: int = 50_001

    def __post_init__(self) -> None:
        Emulator.__init__(self, throttled)
        self.issuer = TokenIssuer(self.client_id, self.client_secret)

    def employee(self, key: str) -> dict[str, Any] | None:
        return next((e for e in self.employees if str(e["id"]) == key or e["guid"] == key), None)

    def lo(self, lo_id: str) -> dict[str, Any] | None:
        return next((t for t in self.training if t["lo_object_id"] == lo_id), None)

    def view(self, name: str) -> list[dict[str, Any]] | None:
        if name == "vw_rpt_user":
            return [user_row(e) for e in self.employees]
        return {
            "vw_rpt_training": self.training,
            "vw_rpt_transcript": self.transcripts,
            "vw_rpt_lo_competencies_local": self.competencies,
        }.get(name)

    def add_lo(
        self, title: str, url: str, ref: str | None, provider: str, descr: str | None
    ) -> dict[str, Any]:
        moment = iso(now())
        provider_id = next((t["lo_provider_id"] for t in self.training if t["lo_provider"] == provider), None)
        row = {
            "lo_object_id": str(uuid.uuid4()),
            "lo_ref": ref,
            "lo_title": title,
            "lo_descr": descr,
            "lo_type": "Material",
            "lo_active": 1,
            "lo_provider_id": provider_id if provider_id is not None else 900 + len(self.training),
            "lo_provider": provider,
            "lo_url": url,
            "lo_version": 1,
            "lo_version_dt": moment,
            "lo_create_dt": moment,
            "_last_touched_dt_utc": moment,
        }
        self.training.append(row)
        return row

    def assign(
        self, user_id: int, lo_id: str, state: str = "ENROLLED", when: datetime | None = None
    ) -> dict[str, Any]:
        for row in self.transcripts:
            if (
                row["transc_user_id"] == user_id
                and row["transc_object_id"] == lo_id
                and not row["is_removed"]
            ):
                return row
        moment = when or now()
        status_id, name, group = STATUS[state]
        row = {
            "reg_num": self.next_reg_num,
            "transc_user_id": user_id,
            "transc_object_id": lo_id,
            "user_lo_status_id": status_id,
            "user_lo_status": name,
            "user_lo_status_group_id": group,
            "user_lo_assigned_dt": iso(moment),
            "user_lo_reg_dt": iso(moment),
            "user_lo_start_dt": iso(moment + timedelta(hours=1))
            if state in ("IN_PROGRESS", "COMPLETED")
            else None,
            "user_lo_comp_dt": None,
            "user_lo_last_modified_dt": iso(moment),
            "user_lo_last_action_dt": iso(moment),
            "_last_touched_dt_utc": iso(max(moment, now()) if when is None else moment),
            "user_lo_pct_complete": 0,
            "user_lo_score": None,
            "user_lo_pass": None,
            "is_assigned": 1,
            "is_removed": 1 if state == "DROPPED" else 0,
            "is_archive": 0,
            "is_latest_reg_num": 1,
            "is_standalone": 1,
        }
        self.next_reg_num += 1
        self.transcripts.append(row)
        return row

    def complete(self, row: dict[str, Any], when: datetime) -> None:
        row.update(
            user_lo_status_id=3,
            user_lo_status="Completed",
            user_lo_status_group_id=11,
            user_lo_comp_dt=iso(when),
            user_lo_pct_complete=100,
            user_lo_start_dt=row["user_lo_start_dt"] or iso(when),
            user_lo_last_action_dt=iso(now()),
            _last_touched_dt_utc=iso(now()),
        )

    def touch(self, row: dict[str, Any]) -> None:
        """A learner goes on with a learning object: the transcript row moves to now."""
        row.update(user_lo_pct_complete=min(99, int(row["user_lo_pct_complete"] or 0) + 10))
        row.update(user_lo_last_action_dt=iso(now()), _last_touched_dt_utc=iso(now()))


def user_row(e: dict[str, Any]) -> dict[str, Any]:
    return {
        "user_id": e["id"],
        "user_ref": e["userId"],
        "user_name_first": e["firstName"],
        "user_name_last": e["lastName"],
        "user_email": e["primaryEmail"],
        "user_status_id": 1 if e["workerStatus"]["active"] else 2,
        "_last_touched_dt_utc": e["employeeMetaData"]["modifiedDate"],
    }


def seeded_portal(
    seed: int = 1,
    *,
    client_id: str = "csod-client",
    client_secret: str = "csod-secret",
    users: int = 12,
    courses: int = 6,
    enrolments: int = 30,
    translated: bool = False,
) -> Portal:
    """`translated`: the last transcript row carries a French status name and no status group,
    which maps to no status (Kombo's null, which the wire contract's enum does not admit)."""
    world = World.seeded(seed, users=users, courses=courses, enrolments=enrolments)
    portal = Portal(client_id=client_id, client_secret=client_secret)
    rng = uuid.UUID(int=seed)
    by_user: dict[str, int] = {}
    for index, u in enumerate(world.users):
        number = 2000 + index
        by_user[u.key] = number
        portal.employees.append(
            {
                "id": number,
                "userId": f"E{1000 + index}",
                "userName": u.email.split("@")[0],
                "guid": str(uuid.uuid5(rng, u.key)),
                "firstName": u.first_name,
                "lastName": u.last_name,
                "middleName": None,
                "primaryEmail": u.email,
                "workerStatus": {
                    "lastHireDate": iso(u.created),
                    "originalHireDate": None,
                    "active": u.active,
                    "absent": False,
                },
                "ous": [{"id": 110, "ouId": "HQ", "name": "Headquarters", "type": "Division"}],
                "employeeMetaData": {"createdDate": iso(u.created), "modifiedDate": iso(u.created)},
            }
        )
    providers = [(501, "Cornerstone"), (502, "Acme Learning")]
    skill_names = {s.key: s.name for s in world.skills}
    skill_ids: dict[str, int] = {}
    by_course: dict[str, str] = {}
    for index, c in enumerate(world.courses):
        lo_id = str(uuid.uuid5(rng, c.key))
        by_course[c.key] = lo_id
        provider = providers[index % len(providers)]
        portal.training.append(
            {
                "lo_object_id": lo_id,
                "lo_ref": None,
                "lo_title": c.title,
                "lo_descr": c.description,
                "lo_type": "Online Course",
                "lo_active": 1 if c.active else 0,
                "lo_provider_id": provider[0],
                "lo_provider": provider[1],
                "lo_url": c.url,
                "lo_version": 1 + index % 3,
                "lo_version_dt": iso(c.created + timedelta(days=index % 3)),
                "lo_create_dt": iso(c.created),
                "_last_touched_dt_utc": iso(c.created + timedelta(days=index % 3)),
            }
        )
        for key in c.skills:
            competency = skill_ids.setdefault(key, 7000 + len(skill_ids))
            portal.competencies.append(
                {
                    "lo_object_id": lo_id,
                    "competency_id": competency,
                    "competency_title": skill_names.get(key, key),
                    "_last_touched_dt_utc": iso(c.created),
                }
            )
    for e in world.enrolments:
        user_id, learning_object = by_user.get(e.user), by_course.get(e.course)
        if user_id is None or learning_object is None:
            continue
        row = portal.assign(user_id, learning_object, e.state, e.enrolled)
        if e.state == "COMPLETED" and e.completed is not None:
            portal.complete(row, e.completed)
            row["_last_touched_dt_utc"] = row["user_lo_last_action_dt"] = iso(e.completed)
            row["user_lo_score"] = e.score
    # A portal in French: a status name no group id explains (Kombo maps it to null).
    if translated and portal.transcripts:
        odd = portal.transcripts[-1]
        odd.update(
            user_lo_status="En attente de validation", user_lo_status_group_id=None, user_lo_status_id=99
        )
    return portal
