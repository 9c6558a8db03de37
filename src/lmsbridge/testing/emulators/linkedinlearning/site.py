"""The state of one emulated LinkedIn Learning account, in LinkedIn's terms: URNs
(`urn:li:lyndaCourse:…`, `urn:li:lyndaCategory:…`), localized strings (`{value, locale}`), epoch
milliseconds, learners known only through activity, seeded from the kit's shared world with the
vendor's oddities: a retired course (listed only with includeRetired), a course in another
locale, LIBRARY and SUBJECT classifications beside the SKILL ones, learners without an e-mail
in their details, and progress that is only a percentage until a completion is counted."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.responses import JSONResponse, Response

from lmsbridge.testing.emulators.kit import Emulator, TokenIssuer, World

TOKEN_LIFETIME = 7_775_999  # seconds, about 90 days [reference 5.1]
COUNT_DEFAULT = 10
CRITERIA_TOTAL_CAP = 500  # the criteria finder's totals stop here [reference 5.3, community report]
FIRST_COURSE_ID = 700_000
FIRST_CATEGORY_ID = 8_100


def ms(moment: datetime | None) -> int | None:
    return None if moment is None else int(moment.timestamp() * 1000)


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def throttled(_wait: float) -> Response:
    """A daily quota spent: 429 and no header saying when to come back [reference 5.2]."""
    message = "Resource level throttle APPLICATION DAY limit for calls to this resource is reached."
    return JSONResponse({"message": message, "status": 429}, 429)


@dataclass
class Learner:
    unique_id: str
    name: str
    email: str | None
    profile_urn: str


@dataclass
class Classification:
    urn: str
    type: str  # SKILL | SUBJECT | LIBRARY | TOPIC
    name: str


@dataclass
class Asset:
    urn: str
    title: str
    description: str
    slug: str
    language: str
    country: str
    published: datetime
    updated: datetime
    retired: bool = False
    classifications: list[str] = field(default_factory=list)


@dataclass
class Activity:
    learner: str
    asset: str
    first: datetime
    last: datetime
    progress: int
    completed: bool
    seconds: int


@dataclass
class LinkedInSite(Emulator):
    client_id: str = "li-client"
    client_secret: str = "li-secret"
    learners: list[Learner] = field(default_factory=list)
    classifications: list[Classification] = field(default_factory=list)
    assets: list[Asset] = field(default_factory=list)
    activities: list[Activity] = field(default_factory=list)
    reporting_enabled: bool = True
    repeat_first_page: bool = False

    def __post_init__(self) -> None:
        Emulator.__init__(self, throttled)
        self.issuer = TokenIssuer(self.client_id, self.client_secret, TOKEN_LIFETIME)

    def asset(self, urn: str) -> Asset | None:
        return next((a for a in self.assets if a.urn == urn), None)

    def touch(self, activity: Activity) -> None:
        activity.last = now()
        activity.progress = min(99, activity.progress + 10) if not activity.completed else 100
        activity.seconds += 300

    def edit(self, asset: Asset) -> None:
        asset.title = f"{asset.title} (updated)"
        asset.updated = now()


def _uid(seed: int, text: str) -> str:
    return hashlib.sha256(f"{seed}:{text}".encode()).hexdigest()[:20]


def seeded_site(
    seed: int = 1,
    *,
    client_id: str = "li-client",
    client_secret: str = "li-secret",
    users: int = 12,
    courses: int = 6,
    enrolments: int = 30,
) -> LinkedInSite:
    world = World.seeded(seed, users=users, courses=courses, enrolments=enrolments)
    site = LinkedInSite(client_id=client_id, client_secret=client_secret)
    by_skill: dict[str, str] = {}
    for index, skill in enumerate(world.skills):
        urn = f"urn:li:lyndaCategory:{FIRST_CATEGORY_ID + index}"
        site.classifications.append(Classification(urn, "SKILL", skill.name))
        by_skill[skill.key] = urn
    library = Classification("urn:li:lyndaCategory:9001", "LIBRARY", "Technology")
    subject = Classification("urn:li:lyndaCategory:9002", "SUBJECT", "Software Development")
    site.classifications += [library, subject]
    by_course: dict[str, Asset] = {}
    for index, c in enumerate(world.courses):
        asset = Asset(
            f"urn:li:lyndaCourse:{FIRST_COURSE_ID + index * 13}",
            c.title,
            c.description,
            c.title.lower().replace(" ", "-")[:60],
            "en",
            "US",
            c.created,
            c.created + timedelta(days=30),
            retired=not c.active,
            classifications=[library.urn, subject.urn, *(by_skill[k] for k in c.skills if k in by_skill)],
        )
        site.assets.append(asset)
        by_course[c.key] = asset
    if world.courses:  # a course of the French catalog: not in an en_US listing
        first = world.courses[0]
        site.assets.append(
            Asset(
                f"urn:li:lyndaCourse:{FIRST_COURSE_ID - 1}",
                f"{first.title} (version française)",
                first.description,
                "fr-" + first.title.lower().replace(" ", "-")[:50],
                "fr",
                "FR",
                first.created,
                first.created,
            )
        )
    by_user: dict[str, Learner] = {}
    for index, u in enumerate(world.users):
        learner = Learner(
            _uid(seed, u.email),
            f"{u.first_name} {u.last_name}",
            None if index == 2 else u.email,
            f"urn:li:person:{_uid(seed, 'p' + u.email)[:10]}",
        )
        site.learners.append(learner)
        by_user[u.key] = learner
    pairs: set[tuple[str, str]] = set()
    for e in world.enrolments:
        known, listed = by_user.get(e.user), by_course.get(e.course)
        if known is None or listed is None or e.state not in ("IN_PROGRESS", "COMPLETED"):
            continue  # an enrolment without engagement is not in any report
        learner, asset = known, listed
        if (learner.unique_id, asset.urn) in pairs:
            continue
        pairs.add((learner.unique_id, asset.urn))
        completed = e.state == "COMPLETED"
        last = max(m for m in (e.enrolled, e.completed) if m is not None)
        site.activities.append(
            Activity(
                learner.unique_id, asset.urn, e.enrolled, last, 100 if completed else 40, completed, 1800
            )
        )
    return site


def localized(value: str, asset: Asset | None = None) -> dict[str, Any]:
    language, country = (asset.language, asset.country) if asset else ("en", "US")
    return {"value": value, "locale": {"language": language, "country": country}}


def classification_json(c: Classification) -> dict[str, Any]:
    return {
        "urn": c.urn,
        "type": c.type,
        "name": localized(c.name),
        "owner": {"urn": "urn:li:organization:1337", "name": localized("LinkedIn")},
    }


def asset_json(site: LinkedInSite, asset: Asset, base_url: str) -> dict[str, Any]:
    by_urn = {c.urn: c for c in site.classifications}
    course_id = asset.urn.rsplit(":", 1)[1]
    return {
        "urn": asset.urn,
        "type": "COURSE",
        "title": localized(asset.title, asset),
        "details": {
            "description": localized(asset.description, asset),
            "shortDescription": localized(asset.description[:80], asset),
            "images": {"primary": f"{base_url}/media/{course_id}.jpg"},
            "urls": {
                "webLaunch": f"https://www.linkedin.com/learning/{asset.slug}",
                "ssoLaunch": f"https://www.linkedin.com/checkpoint/enterprise/login/1337?application=learning&redirect=https://www.linkedin.com/learning/{asset.slug}",
            },
            "publishedAt": ms(asset.published),
            "lastUpdatedAt": ms(asset.updated),
            "timeToComplete": {"duration": 3600 + int(course_id) % 3000, "unit": "SECOND"},
            "availability": "RETIRED" if asset.retired else "AVAILABLE",
            "availableLocales": [{"language": asset.language, "country": asset.country}],
            "contributors": [{"name": localized("Sam Instructor"), "contributionType": "AUTHOR"}],
            "classifications": [
                {"associatedClassification": classification_json(by_urn[urn])}
                for urn in asset.classifications
                if urn in by_urn
            ],
        },
    }


def report_json(site: LinkedInSite, activity: Activity) -> dict[str, Any]:
    learner = next(le for le in site.learners if le.unique_id == activity.learner)
    asset = site.asset(activity.asset)
    first, last = ms(activity.first), ms(activity.last)

    def engaged(kind: str, value: int) -> dict[str, Any]:
        return {
            "engagementType": kind,
            "engagementValue": value,
            "engagementMetricQualifier": "TOTAL",
            "assetType": "COURSE",
            "firstEngagedAt": first,
            "lastEngagedAt": last,
        }

    activities = [
        engaged("SECONDS_VIEWED", activity.seconds),
        engaged("PROGRESS_PERCENTAGE", activity.progress),
    ]
    if activity.completed:
        activities.append(engaged("COMPLETIONS", 1))
    details: dict[str, Any] = {
        "name": learner.name,
        "uniqueUserId": learner.unique_id,
        "entity": {"profileUrn": learner.profile_urn},
        "enterpriseGroups": [],
        "customAttributes": {},
    }
    if learner.email:
        details["email"] = learner.email
    return {
        "latestDataAt": ms(now() - timedelta(hours=1)),
        "learnerDetails": details,
        "contentDetails": {
            "name": asset.title if asset else "",
            "contentUrn": activity.asset,
            "contentSource": "LINKEDIN",
            "locale": {"language": "en", "country": "US"},
            "contentProviderName": "LinkedIn",
        },
        "activities": activities,
    }
