"""The Moodle connector's preflight, through `PATCH /v1/integrations/{id}`: an update the site
refuses is not saved and the answer names the fix; functions missing only for writes come back
as warnings."""

from __future__ import annotations

from typing import Any

import httpx

from lmsbridge.connectors.moodle import functions as fn
from lmsbridge.jobs import wake_workers
from tests.conftest import Server
from tests.connectors.moodle.conftest import Moodle
from tests.connectors.moodle.test_api import finished_run, integration_of, moodle_api
from tests.contract import checked, validate


def patch(api: httpx.Client, body: dict[str, Any]) -> httpx.Response:
    integration = integration_of(api)
    response = api.patch(f"/v1/integrations/{integration}", json=body)
    if response.status_code == 200:
        # The integration as `GET /integrations/{id}` answers it.
        validate("GET", f"/integrations/{integration}", 200, response.json())
    else:
        checked(response)
    return response


def test_a_token_moodle_rejects_is_not_saved(clean_server: Server, moodle: Moodle) -> None:
    with moodle_api(clean_server, moodle) as api:
        finished_run(clean_server, integration_of(api))
        refused = patch(api, {"credentials": {"token": "not-a-token"}})
        assert refused.status_code == 400
        error = refused.json()["error"]
        assert error["code"] == "INTEGRATION.AUTHENTICATION_INVALID"
        assert (
            "invalidtoken" in error["message"] and "update the integration's credentials" in error["message"]
        )
        assert "not-a-token" not in refused.text
        # The stored token still works: a sync after the refused update reads the site.
        assert checked(api.post("/v1/force-sync", json={})).status_code == 200
        wake_workers()
        assert finished_run(clean_server, integration_of(api)).state == "SUCCEEDED"


def test_a_site_url_nothing_answers_on_is_refused(clean_server: Server, moodle: Moodle) -> None:
    with moodle_api(clean_server, moodle) as api:
        finished_run(clean_server, integration_of(api))
        refused = patch(api, {"settings": {"site_url": "http://127.0.0.1:9"}})
        assert refused.status_code == 400
        assert refused.json()["error"]["code"] == "REMOTE.SERVICE_UNAVAILABLE"
        assert "could not be reached" in refused.json()["error"]["message"]


def test_functions_missing_for_reads_refuse_and_for_writes_warn(clean_server: Server, moodle: Moodle) -> None:
    with moodle_api(clean_server, moodle) as api:
        finished_run(clean_server, integration_of(api))
        moodle.site.disable_function(fn.CREATE_COURSES)
        warned = patch(api, {"settings": {"write_batch_size": 10}})
        assert warned.status_code == 200, warned.text
        [warning] = warned.json()["warnings"]
        assert fn.CREATE_COURSES in warning["message"] and "Functions" in warning["message"]
        wake_workers()
        finished_run(clean_server, integration_of(api))

        moodle.site.disable_function(fn.GET_USERS)
        refused = patch(api, {"settings": {"write_batch_size": 20}})
        assert refused.status_code == 400
        assert refused.json()["error"]["code"] == "INTEGRATION.PERMISSION_MISSING"
        assert fn.GET_USERS in refused.json()["error"]["message"]
