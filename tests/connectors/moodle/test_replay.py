"""The recorded requests of real Moodle sites (`reference/moodle-real/responses`: 4.4.3+ in
production and debug mode, 4.5.6) replayed against the emulator at the same version, on a site
built from the recorded answers; every answer must have the recorded structure (keys, types,
error class and code), except the differences listed, with their reasons, in KNOWN and in
docs/connectors/moodle.md."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from lmsbridge.testing.emulators.moodle import (
    EDITING_TEACHER,
    FUNCTIONS,
    SERVICE,
    STUDENT,
    VIEW_COURSE,
    VIEW_FULL_NAMES,
    VIEW_USER_DETAILS,
    Activity,
    ActivityState,
    Competency,
    Course,
    CourseCompetency,
    Framework,
    MoodleSite,
    Service,
    create_app,
)
from tests.conftest import running

RESPONSES = Path(__file__).resolve().parents[4] / "shared" / "reference" / "moodle-real" / "responses"
# The recorded sites: file prefix -> (Moodle version, debugging on).
RECORDINGS = {"": ("4.4", False), "dbg-": ("4.4", True), "m45-": ("4.5", False)}

# Differences the emulator keeps on purpose: (recording number, difference) -> why.
KNOWN: dict[tuple[str, str], str] = {
    ("55", "xml"): "XML answers list the keys present, not every key the function declares",
}


@dataclass(frozen=True)
class Recording:
    number: str
    name: str
    method: str
    query: list[tuple[str, str]]
    form: list[tuple[str, str]]
    content_type: str
    body: str

    def json(self) -> Any:
        return json.loads(self.body)


def parse(path: Path) -> Recording:
    head, _, body = path.read_text().partition("\n\n")
    lines = head.splitlines()
    method, target = lines[0].split(" ", 1)
    form = parse_qsl(lines[1].removeprefix("form: "), keep_blank_values=True)
    content_type = next(line.split(": ", 1)[1] for line in lines if line.startswith("content-type: "))
    number, _, name = (
        path.name.removeprefix("dbg-").removeprefix("m45-").removesuffix(".real.txt").partition("-")
    )
    return Recording(
        number,
        name,
        method,
        parse_qsl(urlsplit(target).query, keep_blank_values=True),
        form,
        content_type,
        body,
    )


@cache
def recordings(prefix: str) -> dict[str, Recording]:
    found = sorted(p for p in RESPONSES.glob(f"{prefix}[0-9]*.real.txt") if prefix or p.name[0].isdigit())
    return {r.number: r for r in map(parse, found)}


# -- a site built from what the real one answered --------------------------------------------------
def recorded_site(prefix: str) -> MoodleSite:
    version, debug = RECORDINGS[prefix]
    answers = {n: r for n, r in recordings(prefix).items() if r.content_type.startswith("application/json")}

    def answer(number: str) -> Any:
        return answers[number].json()

    info = answer("01")
    site = MoodleSite(sitename=info["sitename"], completion_task_interval=None, debug=debug, version=version)
    for raw in answer("02")["users"]:
        first, _, last = raw["fullname"].partition(" ")
        fields = {k: raw[k] for k in ("idnumber", "department", "institution", "city", "country") if k in raw}
        fields.update({k: raw[k] for k in ("auth", "suspended", "confirmed", "lang", "timezone") if k in raw})
        fields.update(firstaccess=raw["firstaccess"], lastaccess=raw["lastaccess"])
        user = site.add_user(
            raw["username"],
            raw.get("firstname", first),
            raw.get("lastname", last),
            raw["email"],
            user_id=raw["id"],
        )
        for name, value in fields.items():
            setattr(user, name, value)
    for raw in answer("03"):
        if raw["format"] == "site":
            continue
        copied = ("categoryid", "idnumber", "summary", "summaryformat", "format", "visible", "startdate")
        course = Course(
            raw["id"],
            raw["fullname"],
            raw["shortname"],
            **{k: raw[k] for k in copied},
            enddate=raw["enddate"],
            timecreated=raw["timecreated"],
            timemodified=raw["timemodified"],
            enablecompletion=raw["enablecompletion"],
        )
        site.courses[course.id] = course
        site.categories.setdefault(course.categoryid, f"Category {course.categoryid}")
    site._next["course"] = answer("49")[0]["id"]  # the course the recorded create made

    # Activities and completion criteria, from a learner's activity statuses and the criteria
    # (linked to their activity) of the completion statuses.
    def activity(course_id: int, cmid: int, modname: str = "page") -> None:
        if cmid not in site.activities:
            site.activities[cmid] = Activity(cmid, course_id, modname, cmid, f"Activity {cmid}")
            site.courses[course_id].criteria.append(cmid)

    for status in answer("11")["statuses"]:
        activity(int(dict(answers["11"].form)["courseid"]), status["cmid"], status["modname"])
    for number in ("09", "10"):
        for criterion in answer(number)["completionstatus"]["completions"]:
            link = re.search(r"id=(\d+)", criterion["details"]["criteria"])
            if link:
                activity(int(dict(answers[number].form)["courseid"]), int(link.group(1)))
    for number in ("07", "08", "15"):
        for entry in answer(number):
            course = site.courses[entry["id"]]
            if entry["progress"] is not None and not course.criteria:
                activity(course.id, 9000 + course.id)
    course_id = int(dict(answers["06"].form)["courseid"])
    for raw in answer("06"):
        for role in raw["roles"]:
            site.enrol(raw["id"], course_id, roleid=role["roleid"])
    for number in ("07", "08", "15"):
        learner = int(dict(answers[number].form)["userid"])
        for entry in answer(number):
            if (learner, entry["id"]) not in site.enrolments:
                site.enrol(learner, entry["id"], roleid=STUDENT)
            if entry["completed"]:
                course = site.courses[entry["id"]]
                for cmid in course.criteria:
                    site.activity_states[(cmid, learner)] = ActivityState(1, 1_796_000_000)
                site.course_completions[(entry["id"], learner)] = 1_796_000_000
    hidden = [c.id for c in site.courses.values() if not c.visible and c.id < site._next["course"]]
    learner = int(dict(answers["15"].form)["userid"])
    if hidden:
        site.enrol(learner, hidden[0], roleid=STUDENT)  # the hidden course the recording left out
    teacher = dict(answers["16"].form)
    site.enrol(int(teacher["userid"]), int(teacher["courseid"]), roleid=EDITING_TEACHER)
    for raw in answer("12"):
        site.frameworks[raw["id"]] = Framework(raw["id"], raw["shortname"], raw["idnumber"])
    for raw in answer("13"):
        site.competencies[raw["id"]] = Competency(
            raw["id"], raw["competencyframeworkid"], raw["shortname"], raw["idnumber"]
        )
    course_of_links = int(dict(answers["14"].form)["id"])
    for raw in answer("14"):
        link = raw["coursecompetency"]
        site.competencies.setdefault(
            link["competencyid"],
            Competency(
                link["competencyid"], 1, raw["competency"]["shortname"], raw["competency"]["idnumber"]
            ),
        )
        site.course_competencies[link["id"]] = CourseCompetency(
            link["id"], course_of_links, link["competencyid"]
        )
    # The tokens, set up as the recording sites were (the docs' role, minus what they then lacked).
    main = info["userid"]
    lacking = {VIEW_FULL_NAMES}
    site.add_token("<token:main>", main, missing_capabilities=set(lacking), assignable_roles={STUDENT})
    site.add_token("<token:expired>", main, validuntil=1)
    weak = next(u.id for u in site.users.values() if u.username == "lmsbridge_weak")
    site.add_token(
        "<token:weak_user>",
        weak,
        missing_capabilities={
            VIEW_FULL_NAMES,
            VIEW_USER_DETAILS,
            VIEW_COURSE,
            "moodle/course:create",
        },
    )
    suspended = next(u.id for u in site.users.values() if u.username == "lmsbridge_susp")
    site.add_token("<token:suspended_user>", suspended)
    partial = set(FUNCTIONS) - {"core_competency_list_competencies"}
    site.services["partial"] = Service("partial", "lmsbridge without competencies", partial)
    site.add_token("<token:missing_function>", main, service="partial")
    assert SERVICE in site.services
    return site


# -- structure ---------------------------------------------------------------------------------------
def _type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    return {float: "float", str: "str", list: "list", dict: "dict"}[type(value)]


def shape(value: Any, path: str = "$", into: dict[str, set[str]] | None = None) -> dict[str, set[str]]:
    """Every path of a JSON value (list items merged as `[]`) with the types seen there."""
    into = {} if into is None else into
    into.setdefault(path, set()).add(_type(value))
    if isinstance(value, dict):
        for key, item in value.items():
            shape(item, f"{path}.{key}", into)
    elif isinstance(value, list):
        for item in value:
            shape(item, f"{path}[]", into)
    return into


def error_of(value: Any) -> tuple[str, str] | None:
    if isinstance(value, dict) and "exception" in value and "errorcode" in value:
        return value["exception"], value["errorcode"]
    return None


def differences(real: Recording, status: int, content_type: str, body: str) -> list[str]:
    found = []
    if status != 200:
        found.append(f"HTTP {status}")
    if content_type.split(";")[0] != real.content_type.split(";")[0]:
        return [*found, f"content type {content_type}"]
    if not real.content_type.startswith("application/json"):
        tag = re.compile(r"<(RESPONSE|EXCEPTION)(?: class=\"([^\"]+)\")?")
        if tag.search(real.body) and tag.search(body):
            ours, theirs = tag.search(body), tag.search(real.body)
            assert ours is not None and theirs is not None
            if ours.groups() != theirs.groups():
                found.append(f"xml {ours.groups()} vs {theirs.groups()}")
            elif "<RESPONSE>" in body and body.count("<KEY") != real.body.count("<KEY"):
                found.append("xml")
        return found
    expected, got = real.json(), json.loads(body)
    if error_of(expected) or error_of(got):
        if error_of(expected) != error_of(got):
            found.append(f"error {error_of(got)} vs {error_of(expected)}")
        if set(expected) != set(got):
            found.append(f"error keys {sorted(got)} vs {sorted(expected)}")
        return found
    theirs, ours = shape(expected), shape(got)
    for path in sorted(set(theirs) | set(ours)):
        if path not in ours:
            found.append(f"{path}: only in the real answer")
        elif path not in theirs:
            found.append(f"{path}: only in the emulator's")
        elif not ours[path] <= theirs[path]:
            found.append(f"{path}: {'|'.join(sorted(ours[path]))} vs {'|'.join(sorted(theirs[path]))}")
    return found


def replay(prefix: str) -> Iterator[tuple[Recording, list[str]]]:
    site = recorded_site(prefix)
    with running(create_app(site)) as url, httpx.Client(base_url=url, timeout=10) as client:
        for recording in recordings(prefix).values():
            if recording.method == "GET":
                params = [*recording.form, ("moodlewsrestformat", "json")]
                response = client.get("/webservice/rest/server.php", params=params)
            else:
                response = client.post(
                    "/webservice/rest/server.php",
                    params=recording.query,
                    content="&".join(f"{k}={v}" for k, v in _encoded(recording.form)),
                    headers={"content-type": "application/x-www-form-urlencoded"},
                )
            yield (
                recording,
                differences(
                    recording, response.status_code, response.headers.get("content-type", ""), response.text
                ),
            )


def _encoded(pairs: list[tuple[str, str]]) -> Iterator[tuple[str, str]]:
    from urllib.parse import quote

    for key, value in pairs:
        yield quote(key, safe=""), quote(value, safe="")


pytestmark = pytest.mark.skipif(not RESPONSES.is_dir(), reason="../shared/reference/moodle-real is absent")


@pytest.mark.parametrize("prefix", list(RECORDINGS), ids=["4.4", "4.4-debug", "4.5"])
def test_the_emulator_answers_the_recorded_requests_as_the_real_site_did(prefix: str) -> None:
    results = list(replay(prefix))
    unexplained = {
        f"{r.number}-{r.name}": left
        for r, found in results
        if (left := [d for d in found if (r.number, d) not in KNOWN])
    }
    matching = sum(1 for _, diffs in results if not diffs)
    version, debug = RECORDINGS[prefix]
    print(f"\n{version}{' debug' if debug else ''}: {matching}/{len(results)} calls match in structure")
    for name, diffs in unexplained.items():
        print(f"  {name}: {diffs}")
    assert not unexplained
