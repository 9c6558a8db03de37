"""The Udemy emulator speaks Udemy's protocol as its clients use it: Basic auth on every call,
trailing slash or not, DRF pages with absolute next links, `{"detail"}` errors, report filters,
field selection, and a 429 with Retry-After."""

from __future__ import annotations

import httpx

from tests.connectors.udemy.conftest import Org


def test_pages_follow_next_links_until_null(org: Org) -> None:
    first = org.get("courses/list/", params={"page_size": 2})
    assert first.status_code == 200
    body = first.json()
    assert body["count"] == len(org.site.listed_courses()) and body["previous"] is None
    seen = [c["id"] for c in body["results"]]
    while body["next"]:
        body = httpx.get(body["next"], auth=("udemy-test-client", "udemy-test-secret-5a6b7c8d9e")).json()
        seen += [c["id"] for c in body["results"]]
    assert len(seen) == len(set(seen)) == body["count"]
    assert all(c["_class"] == "course" for c in first.json()["results"])


def test_paths_without_trailing_slash_and_single_course(org: Org) -> None:
    assert org.get("courses/list", params={"page_size": 1}).status_code == 200
    course = org.site.listed_courses()[0]
    assert org.get(f"courses/list/{course.id}/").json()["id"] == course.id
    assert org.get("courses/list/1/").json() == {"detail": "Not found."}


def test_errors_are_drf_details(org: Org) -> None:
    missing = org.get("courses/list/", auth=None)
    assert missing.status_code == 401 and missing.json() == {
        "detail": "Authentication credentials were not provided."
    }
    wrong = org.get("courses/list/", auth=("udemy-test-client", "x"))
    assert wrong.status_code == 401 and wrong.json()["detail"] == "Invalid username/password."
    assert org.get("courses/list/", params={"page": 99}).json() == {"detail": "Invalid page."}
    bad = org.get("analytics/user-course-activity/", params={"from_date": "yesterday"})
    assert bad.status_code == 400


def test_report_filters_and_field_selection(org: Org) -> None:
    rows = org.get("analytics/user-course-activity/", params={"page_size": 1000}).json()["results"]
    assert any(r["user_name"] == "Anonymized User" for r in rows)
    future = org.get("analytics/user-course-activity/", params={"from_date": "2999-01-01"}).json()
    assert future["count"] == 0 and future["results"] == []
    one = rows[0]
    by_course = org.get("analytics/user-course-activity/", params={"course_id": one["course_id"]}).json()
    assert all(r["course_id"] == one["course_id"] for r in by_course["results"])
    picked = org.get("courses/list/", params={"fields[course]": "title"}).json()["results"][0]
    assert set(picked) == {"_class", "id", "title"}
    users = org.get("analytics/user-activity/").json()["results"]
    assert any(u["user_is_deactivated"] for u in users) or all(
        le.deactivated is False for le in org.site.learners
    )


def test_throttled_answer(org: Org) -> None:
    org.site.limiter.set(0.5, 1)
    try:
        org.get("courses/list/")
        throttled = org.get("courses/list/")
        assert throttled.status_code == 429 and int(throttled.headers["Retry-After"]) >= 1
        assert "throttled" in throttled.json()["detail"]
    finally:
        org.site.limiter.set(None)
