"""The state of one emulated Cornerstone portal, in Cornerstone's own terms: employees with a
numeric `id`, an `externalId` and a `guid` (Employee API v2: the first fields as csod.dev's
employee pagination example shows them, the rest as the captured v1 employee sample);
learning objects, transcripts and LO competencies as Reporting API view rows. The
`vw_rpt_training` and `vw_rpt_transcript` rows carry only columns of those views' field lists
(digitregroup/cornerstone-client src/models/vw_rpt_training.json and vw_rpt_transcript.json, the
repository vendor-specs/cornerstone/SOURCE.txt names), typed as Cornerstone's reporting objects
document them: `lo_active` is "Y"/"N", `is_removed` a boolean, `is_archive` a number. Every
version of a learning object is its own row with its own `lo_object_id`; `related_lo_id` names
the original version and `is_latest_training_version` flags the current one, and a transcript row
names the version the learner took (`transc_object_id`). Seeded from the kit's shared world with
the vendor's oddities: an inactive employee, an inactive learning object, removed transcripts,
learning objects with several versions, and a transcript whose status name is a French
translation with no status group."""

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
    # What a material was created with that no view column carries (its launch URL): the
    # emulator's own record of the create call, never served by a view.
    materials: dict[str, dict[str, Any]] = field(default_factory=dict)
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
        self, title: str, url: str, ref: str | None, provider: str, descr: str | None = None
    ) -> dict[str, Any]:
        """A URL material, as the Learning Object API creates one: one row, no versioning."""
        moment = iso(now())
        provider_id = next((t["lo_provider_id"] for t in self.training if t["lo_provider"] == provider), None)
        row = training_row(
            str(uuid.uuid4()),
            title=title,
            lo_type="Material",
            active=True,
            provider=(provider_id or str(uuid.uuid5(uuid.NAMESPACE_URL, provider)), provider),
            created=moment,
            ref=ref,
        )
        self.training.append(row)
        self.materials[row["lo_object_id"]] = {"url": url, "description": descr}
        return row

    def add_version(self, lo_id: str, when: datetime | None = None) -> dict[str, Any]:
        """An administrator versions a learning object: a new row (its own id) becomes the latest;
        the earlier versions stay, no longer latest, and keep their transcripts."""
        current = self.lo(lo_id)
        if current is None:
            raise KeyError(lo_id)
        root = current["related_lo_id"] or current["lo_object_id"]
        versions = [t for t in self.training if (t["related_lo_id"] or t["lo_object_id"]) == root]
        moment = iso(when or now())
        for t in versions:
            t.update(is_latest_training_version=False, _last_touched_dt_utc=moment)
        latest = max(versions, key=lambda t: int(t["lo_version"] or 1))
        row = {
            **latest,
            "lo_object_id": str(uuid.uuid4()),
            "related_lo_id": root,
            "lo_version": str(int(latest["lo_version"] or 1) + 1),
            "is_latest_training_version": True,
            "training_version_effective_dt": moment,
            "training_version_start_dt": moment,
            "lo_create_dt": moment,
            "lo_modified_dt": moment,
            "_last_touched_dt_utc": moment,
        }
        self.training.append(row)
        for c in [c for c in self.competencies if c["lo_object_id"] == latest["lo_object_id"]]:
            self.competencies.append(
                {**c, "lo_object_id": row["lo_object_id"], "_last_touched_dt_utc": moment}
            )
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
            "user_lo_create_dt": iso(moment),
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
            "is_assigned": True,
            "is_removed": state == "DROPPED",
            "is_archive": 0,
            "is_latest_reg_num": 1,
            "is_latest_version_on_transcript": True,
            "is_standalone": True,
        }
        # The learner's registrations of the object's other versions are no longer the latest.
        lo = self.lo(lo_id)
        root = (lo["related_lo_id"] or lo["lo_object_id"]) if lo else lo_id
        for other in self.transcripts:
            taken = self.lo(other["transc_object_id"])
            if (
                other["transc_user_id"] == user_id
                and taken
                and (taken["related_lo_id"] or taken["lo_object_id"]) == root
            ):
                other["is_latest_version_on_transcript"] = False
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


def training_row(
    lo_id: str,
    *,
    title: str,
    lo_type: str,
    active: bool,
    provider: tuple[str, str],
    created: str | None,
    ref: str | None = None,
    version: str | None = None,
    original: str | None = None,
    latest: bool = True,
) -> dict[str, Any]:
    """A `vw_rpt_training` row, with columns of the view's field list only. `related_lo_id` is
    null on an original version (an inference: the column is documented as the original
    version's id, not what the original itself carries)."""
    return {
        "lo_object_id": lo_id,
        "lo_ref": ref,
        "lo_title": title,
        "lo_type": lo_type,
        "lo_active": "Y" if active else "N",
        "lo_provider_id": provider[0],
        "lo_provider": provider[1],
        "lo_version": version,
        "related_lo_id": original,
        "is_latest_training_version": latest,
        "training_version_effective_dt": created,
        "training_version_start_dt": created,
        "lo_create_dt": created,
        "lo_modified_dt": created,
        "_last_touched_dt_utc": created,
    }


def user_row(e: dict[str, Any]) -> dict[str, Any]:
    """A `vw_rpt_user` row (columns of the captured sample vendor-specs/.../user.json)."""
    return {
        "user_id": e["id"],
        "user_ref": e["externalId"],
        "user_name_first": e["firstName"],
        "user_name_last": e["lastName"],
        "user_email": e["primaryEmail"],
        "user_status_id": 1 if e["workerStatus"]["active"] else 2,
        "user_guid": e["guid"],
        "user_create_dt": e["employeeMetaData"]["createdDate"],
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
    translated: bool = True,
    retired: bool = True,
) -> Portal:
    """The kit's world as a portal. Course i has 1 + i % 3 versions (online courses are
    versioned); a learner's registration names version `i % versions` of it, so transcripts point
    at earlier versions too. `translated`: the last active transcript row carries a French status
    name and no status group, which maps to no status (Kombo's null). `retired`: when the world
    has no inactive course, its last course is inactive (`lo_active` "N") all the same."""
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
                "externalId": f"E{1000 + index}",
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
    providers = [(str(uuid.uuid5(rng, name)), name) for name in ("Cornerstone", "Acme Learning")]
    skill_names = {s.key: s.name for s in world.skills}
    skill_ids: dict[str, int] = {}
    versions_of: dict[str, list[str]] = {}
    inactive = {c.key for c in world.courses if not c.active}
    if retired and not inactive and world.courses:
        inactive = {world.courses[-1].key}
    for index, c in enumerate(world.courses):
        count = 1 + index % 3
        original = str(uuid.uuid5(rng, c.key))
        versions_of[c.key] = []
        for number in range(1, count + 1):
            lo_id = original if number == 1 else str(uuid.uuid5(rng, f"{c.key}@{number}"))
            versions_of[c.key].append(lo_id)
            portal.training.append(
                training_row(
                    lo_id,
                    title=c.title,
                    lo_type="Online Course",
                    active=c.key not in inactive,
                    provider=providers[index % len(providers)],
                    created=iso(c.created + timedelta(days=30 * (number - 1))),
                    version=str(number),
                    original=None if number == 1 else original,
                    latest=number == count,
                )
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
    for index, e in enumerate(world.enrolments):
        user_id, versions = by_user.get(e.user), versions_of.get(e.course)
        if user_id is None or not versions:
            continue
        row = portal.assign(user_id, versions[index % len(versions)], e.state, e.enrolled)
        if e.state == "COMPLETED" and e.completed is not None:
            portal.complete(row, e.completed)
            row["_last_touched_dt_utc"] = row["user_lo_last_action_dt"] = iso(e.completed)
            row["user_lo_score"] = e.score
    # A portal in French: a status name no group id explains (Kombo maps it to null).
    odd = next((r for r in reversed(portal.transcripts) if not r["is_removed"]), None)
    if translated and odd is not None:
        odd.update(
            user_lo_status="En attente de validation", user_lo_status_group_id=None, user_lo_status_id=99
        )
    return portal
