"""`POST /v1/passthrough/moodle/rest` against the Moodle emulator: Moodle's REST server called
with the integration's token, the answer relayed in the contract's shape, the token in no answer
and no log, and nothing sent anywhere but the integration's own site."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select

from lmsbridge.db.tables import interactions
from tests.conftest import Server
from tests.connectors.moodle.conftest import TOKEN, Moodle
from tests.connectors.moodle.test_api import finished_run, integration_of, moodle_api
from tests.contract import checked

SITE_INFO = {"wsfunction": "core_webservice_get_site_info"}


def send(
    api: httpx.Client, body: dict[str, Any], path: str = "/v1/passthrough/moodle/rest"
) -> httpx.Response:
    response = checked(api.post(path, json=body))
    assert TOKEN not in response.text
    return response


def test_a_passthrough_call_reaches_moodle_with_the_token_and_relays_its_answer(
    clean_server: Server, moodle: Moodle
) -> None:
    with moodle_api(clean_server, moodle) as api:
        response = send(api, {"method": "POST", "path": "", "params": SITE_INFO})
        assert response.status_code == 200, response.text
        assert response.headers["Concurrency-Limit"] == "30"
        body = response.json()
        assert body["warnings"] == []
        data = body["data"]
        assert data["status"] == 200
        assert data["url"] == f"{moodle.url}/webservice/rest/server.php?{_query(SITE_INFO)}"
        assert data["headers"]["content-type"].startswith("application/json")
        assert data["data"]["sitename"]
        assert any(f["name"] == "core_user_get_users" for f in data["data"]["functions"])
        [call] = moodle.site.calls_of("core_webservice_get_site_info")[-1:]
        assert call.token_in_query is False  # a POST carries the token in its body

        # An object `data` is sent as Moodle reads parameters: a PHP-style form.
        users = send(
            api,
            {
                "method": "POST",
                "path": "",
                "params": {"wsfunction": "core_user_get_users"},
                "data": {"criteria": [{"key": "email", "value": "%"}]},
            },
        ).json()["data"]
        assert users["status"] == 200
        assert {u["username"] for u in users["data"]["users"]} >= {"admin"}

        # A GET carries it in the query, where the relayed url shows it redacted.
        got = send(api, {"method": "GET", "path": "", "params": SITE_INFO}).json()["data"]
        assert got["status"] == 200 and got["data"]["sitename"]
        assert "wstoken=%5Bredacted%5D" in got["url"] or "wstoken=[redacted]" in got["url"]
        assert moodle.site.calls_of("core_webservice_get_site_info")[-1].token_in_query is True

        # Moodle's own refusal is the remote's answer, relayed.
        refused = send(
            api, {"method": "POST", "path": "", "params": {"wsfunction": "no_such_function"}}
        ).json()["data"]
        assert refused["status"] == 200 and "exception" in refused["data"]

        finished_run(clean_server, integration_of(api))
    clean_server.app.state.interactions.flush()
    with clean_server.store.read() as conn:
        logged = list(conn.execute(select(interactions).where(interactions.c.path.like("/v1/passthrough/%"))))
    assert logged, "passthrough calls are in the interaction log"
    for row in logged:
        assert TOKEN not in f"{row.query} {row.request_body} {row.response_body} {row.request_headers}"


def _query(params: dict[str, str]) -> str:
    return "&".join(f"{k}={v}" for k, v in {**params, "moodlewsrestformat": "json"}.items())


@pytest.mark.parametrize(
    "path",
    [
        "https://attacker.example.com/collect",
        "//attacker.example.com/collect",
        "http://127.0.0.1:1/webservice/rest/server.php",
        "../../../../admin/index.php",
        "/../../login/index.php",
        "\\\\attacker.example.com\\x",
    ],
)
def test_a_passthrough_path_that_leaves_the_site_is_refused_before_anything_is_sent(
    clean_server: Server, moodle: Moodle, path: str
) -> None:
    with moodle_api(clean_server, moodle) as api:
        finished_run(clean_server, integration_of(api))  # the first sync calls the site too
        before = len(moodle.site.calls)
        response = send(api, {"method": "POST", "path": path, "params": SITE_INFO})
        assert response.status_code == 400, response.text
        assert response.json()["error"]["code"] == "PLATFORM.INPUT_INVALID"
        assert len(moodle.site.calls) == before


def test_a_passthrough_for_another_tool_or_api_is_refused(clean_server: Server, moodle: Moodle) -> None:
    with moodle_api(clean_server, moodle) as api:
        wrong_tool = send(api, {"method": "GET", "path": "/users"}, "/v1/passthrough/sandbox/v1")
        assert wrong_tool.status_code == 400
        assert "is a Moodle integration" in wrong_tool.json()["error"]["message"]
        wrong_api = send(api, {"method": "GET", "path": ""}, "/v1/passthrough/moodle/soap")
        assert wrong_api.status_code == 400
        assert "moodle/rest" in wrong_api.json()["error"]["message"]
        for body in ({"path": ""}, {"method": "TRACE", "path": ""}, {"method": "GET"}):
            assert send(api, body).status_code == 400


def test_a_passthrough_goes_through_the_connectors_retry(clean_server: Server, moodle: Moodle) -> None:
    from lmsbridge.testing.emulators.moodle import Fault

    with moodle_api(clean_server, moodle) as api:
        moodle.site.add_fault(
            Fault(kind="http_status", status=503, times=1, function="core_webservice_get_site_info")
        )
        response = send(api, {"method": "POST", "path": "", "params": SITE_INFO})
        assert response.status_code == 200, response.text
        assert response.json()["data"]["status"] == 200
