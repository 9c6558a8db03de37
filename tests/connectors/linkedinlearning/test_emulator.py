"""The LinkedIn Learning emulator speaks LinkedIn's protocol as its clients use it: the token
endpoint, Rest.li 2.0 and the dotted 1.0 query encodings, URNs by path, start/count pages with
relative links, `{"message", "serviceErrorCode", "status"}` errors and a bare 429."""

from __future__ import annotations

from urllib.parse import quote

import httpx

from tests.connectors.linkedinlearning.conftest import CLIENT, Account


def test_token_endpoint_and_bearer(account: Account) -> None:
    answer = httpx.post(
        f"{account.url}/oauth/v2/accessToken",
        data={"grant_type": "client_credentials", "client_id": CLIENT[0], "client_secret": CLIENT[1]},
    ).json()
    assert answer["expires_in"] == 7775999 and "refresh_token" not in answer
    wrong = httpx.post(
        f"{account.url}/oauth/v2/accessToken",
        data={"grant_type": "client_credentials", "client_id": CLIENT[0], "client_secret": "no"},
    )
    assert wrong.status_code == 401
    refused = account.get("learningAssets?q=localeAndType&assetType=COURSE", token="not-a-token")
    assert refused.status_code == 401 and refused.json() == {
        "message": "Invalid access token",
        "status": 401,
        "serviceErrorCode": 65600,
    }


def test_both_query_encodings_give_the_same_courses(account: Account) -> None:
    token = account.token()
    restli2 = account.get(
        "learningAssets?q=criteria&assetFilteringCriteria=(assetTypes:List(COURSE),locales:List((language:en,country:US)))&count=50",
        token,
    ).json()
    dotted = account.get(
        "learningAssets?q=criteria&assetFilteringCriteria.assetTypes[0]=COURSE"
        "&assetFilteringCriteria.locales[0].language=en&assetFilteringCriteria.locales[0].country=US&count=50",
        token,
        protocol=None,
    ).json()
    assert [e["urn"] for e in restli2["elements"]] == [e["urn"] for e in dotted["elements"]]
    assert restli2["elements"] and all(
        e["urn"].startswith("urn:li:lyndaCourse:") for e in restli2["elements"]
    )
    french = [a for a in account.site.assets if a.language == "fr"]
    assert french and french[0].urn not in {e["urn"] for e in restli2["elements"]}
    retired = [a.urn for a in account.site.assets if a.retired]
    listed = account.get(
        "learningAssets?q=localeAndType&assetType=COURSE&sourceLocale=(language:en,country:US)&includeRetired=true&count=100",
        token,
    ).json()
    assert set(retired) <= {e["urn"] for e in listed["elements"]}


def test_pages_link_relatively_and_urns_resolve(account: Account) -> None:
    token = account.token()
    page = account.get(
        "learningAssets?q=localeAndType&assetType=COURSE&sourceLocale.language=en&count=2", token
    ).json()
    assert page["paging"]["start"] == 0 and page["paging"]["count"] == 2
    (link,) = [x for x in page["paging"]["links"] if x["rel"] == "next"]
    assert link["href"].startswith("/v2/learningAssets?") and "start=2" in link["href"]
    second = httpx.get(account.url + link["href"], headers={"Authorization": f"Bearer {token}"}).json()
    assert second["paging"]["start"] == 2
    urn = page["elements"][0]["urn"]
    one = account.get(f"learningAssets/{quote(urn, safe='')}", token).json()
    assert one["urn"] == urn and one["title"]["value"]
    missing = account.get(f"learningAssets/{quote('urn:li:lyndaCourse:1', safe='')}", token)
    assert missing.status_code == 404 and missing.json()["status"] == 404


def test_reports_need_their_criteria_and_permission(account: Account) -> None:
    token = account.token()
    bad = account.get("learningActivityReports?q=criteria&startedAt=0", token)
    assert bad.status_code == 400 and "message" in bad.json()
    ok = account.get(
        "learningActivityReports?q=criteria&startedAt=0&timeOffset=(unit:MONTH,duration:1200)"
        "&aggregationCriteria=(primary:INDIVIDUAL,secondary:CONTENT)&count=100",
        token,
    ).json()
    assert ok["paging"]["total"] == len(account.site.activities)
    account.site.reporting_enabled = False
    denied = account.get(
        "learningActivityReports?q=criteria&startedAt=0&timeOffset.unit=DAY&timeOffset.duration=1"
        "&aggregationCriteria.primary=INDIVIDUAL&aggregationCriteria.secondary=CONTENT",
        token,
    )
    assert denied.status_code == 403 and denied.json()["serviceErrorCode"] == 100


def test_a_spent_quota_is_a_bare_429(account: Account) -> None:
    token = account.token()
    account.site.limiter.set(0.5, 1)
    try:
        account.get("learningClassifications?q=localeAndType&type=SKILL", token)
        throttled = account.get("learningClassifications?q=localeAndType&type=SKILL", token)
        assert throttled.status_code == 429 and "retry-after" not in throttled.headers
    finally:
        account.site.limiter.set(None)
