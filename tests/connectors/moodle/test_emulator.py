"""The emulator speaks Moodle's REST protocol as Moodle's server does, checked with plain HTTP
requests (no connector): parameter sources and encoding, formats, error bodies and statuses."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import httpx
import pytest

from lmsbridge.testing.emulators.moodle import REST_PATH, decode_php_form
from tests.conftest import free_port
from tests.connectors.moodle.conftest import TOKEN, Moodle
from tests.waiting import wait_until


def call(moodle: Moodle, function: str | None, fmt: str | None = "json", **params: Any) -> httpx.Response:
    data = {"wstoken": TOKEN, **params}
    if function is not None:
        data["wsfunction"] = function
    if fmt is not None:
        data["moodlewsrestformat"] = fmt
    return httpx.post(f"{moodle.url}{REST_PATH}", data=data, timeout=10)


def test_function_errors_are_http_200_with_moodles_error_body(moodle: Moodle) -> None:
    response = call(moodle, "core_course_get_courses", **{"options[ids][0]": "abc"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {
        "exception": "core\\exception\\invalid_parameter_exception",  # 4.5 and later namespace it
        "errorcode": "invalidparameter",
        "message": "Invalid parameter value detected",
        "debuginfo": "options => Invalid parameter value detected: ids => Invalid parameter value detected: "
        'Invalid external api parameter: the value is "abc", the server was expecting "int" type',
    }
    moodle.site.debug = False
    assert "debuginfo" not in call(moodle, "core_course_get_courses", **{"options[ids][0]": "abc"}).json()


@pytest.mark.parametrize(
    ("params", "debuginfo"),
    [
        ({}, "Missing required key in single structure: enrolments"),
        (
            {"enrolments[0][userid]": "3", "enrolments[0][courseid]": "2"},
            "enrolments => Invalid parameter value detected: "
            "Missing required key in single structure: roleid",
        ),
        (
            {
                "enrolments[0][roleid]": "5",
                "enrolments[0][userid]": "3",
                "enrolments[0][courseid]": "2",
                "x": "1",
            },
            "Unexpected keys (x) detected in parameter array.",
        ),
        (
            {"enrolments": "5"},
            "enrolments => Invalid parameter value detected: Only arrays accepted. The bad value is: '5'",
        ),
    ],
)
def test_parameters_are_validated_against_the_functions_declared_structure(
    moodle: Moodle, params: dict[str, str], debuginfo: str
) -> None:
    body = call(moodle, "enrol_manual_enrol_users", **params).json()
    assert (body["errorcode"], body["debuginfo"]) == ("invalidparameter", debuginfo)


def test_enrolled_users_can_be_narrowed_to_some_fields_but_not_unknown_ones(moodle: Moodle) -> None:
    options = {"options[0][name]": "userfields", "options[0][value]": "id"}
    users = call(moodle, "core_enrol_get_enrolled_users", courseid="2", **options).json()
    assert users and all(set(u) == {"id", "fullname"} for u in users)
    options["options[0][value]"] = "id,shoesize"
    refused = call(moodle, "core_enrol_get_enrolled_users", courseid="2", **options).json()
    assert refused["errorcode"] == "invaliduserfield"


def test_a_function_without_a_return_value_answers_null(moodle: Moodle) -> None:
    params = {"enrolments[0][roleid]": "5", "enrolments[0][userid]": "9", "enrolments[0][courseid]": "2"}
    response = call(moodle, "enrol_manual_enrol_users", **params)
    assert response.status_code == 200 and response.text == "null"
    assert (9, 2) in moodle.site.enrolments


def test_json_is_written_as_php_writes_it(moodle: Moodle) -> None:
    response = call(moodle, "core_webservice_get_site_info")
    assert '"siteurl":"http:\\/\\/127.0.0.1:' in response.text
    assert response.headers["cache-control"].startswith("private, must-revalidate")
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.json()["siteid"] == 1


def test_xml_is_the_default_format_for_answers_and_errors(moodle: Moodle) -> None:
    ok = call(moodle, "core_webservice_get_site_info", fmt=None)
    assert ok.headers["content-type"].startswith("application/xml")
    assert ok.text.startswith('<?xml version="1.0" encoding="UTF-8" ?>\n<RESPONSE>\n<SINGLE>')
    assert '<KEY name="sitename"><VALUE>Emulated Moodle</VALUE>' in ok.text
    error = call(moodle, "core_nope", fmt="yaml")
    assert '<EXCEPTION class="dml_missing_record_exception">' in error.text
    assert "<ERRORCODE>invalidrecord</ERRORCODE>" in error.text


def test_parameters_come_from_the_query_and_the_form_and_the_form_wins(moodle: Moodle) -> None:
    response = httpx.post(
        f"{moodle.url}{REST_PATH}",
        params={"wsfunction": "core_user_get_users", "moodlewsrestformat": "json", "wstoken": "wrong"},
        data={"wstoken": TOKEN, "criteria[0][key]": "username", "criteria[0][value]": "admin"},
    )
    assert [u["id"] for u in response.json()["users"]] == [2]
    via_get = httpx.get(
        f"{moodle.url}{REST_PATH}",
        params={
            "wsfunction": "core_user_get_users",
            "moodlewsrestformat": "json",
            "wstoken": TOKEN,
            "criteria[0][key]": "email",
            "criteria[0][value]": "ADA.%",
        },
    )
    assert [u["username"] for u in via_get.json()["users"]] == ["ada.okafor0"]


@pytest.mark.parametrize(
    ("function", "token", "expected"),
    [
        (
            "core_user_get_users",
            "nope",
            ("core\\exception\\moodle_exception", "invalidtoken", "Invalid token - token not found"),
        ),
        (
            None,
            TOKEN,
            (
                "core\\exception\\invalid_parameter_exception",
                "invalidparameter",
                "Invalid parameter value detected",
            ),
        ),
        ("core_nope", TOKEN, ("dml_missing_record_exception", "invalidrecord", None)),
    ],
)
def test_authentication_and_function_lookup_errors(
    moodle: Moodle, function: str | None, token: str, expected: tuple[str, str, str | None]
) -> None:
    data = {"wstoken": token, "moodlewsrestformat": "json", **({"wsfunction": function} if function else {})}
    body = httpx.post(f"{moodle.url}{REST_PATH}", data=data).json()
    assert (body["exception"], body["errorcode"]) == expected[:2]
    if expected[2]:
        assert body["message"] == expected[2]


def test_a_function_outside_the_tokens_service_is_an_access_exception(moodle: Moodle) -> None:
    moodle.site.disable_function("core_user_get_users")
    body = call(moodle, "core_user_get_users", **{"criteria[0][key]": "id", "criteria[0][value]": "2"}).json()
    assert (body["exception"], body["errorcode"], body["message"]) == (
        "webservice_access_exception",
        "accessexception",
        "Access control exception",
    )
    assert "core_user_get_users()" in body["debuginfo"]


def test_with_web_services_off_the_server_answers_403_with_an_empty_body(moodle: Moodle) -> None:
    moodle.site.webservices_enabled = False
    response = call(moodle, "core_webservice_get_site_info")
    assert (response.status_code, response.text) == (403, "")


def test_faults_can_be_injected_over_http(moodle: Moodle) -> None:
    added = httpx.post(
        f"{moodle.url}/_emulator/faults", json={"kind": "http_status", "status": 503, "times": 1}
    )
    assert added.status_code == 200
    assert call(moodle, "core_webservice_get_site_info").status_code == 503
    assert call(moodle, "core_webservice_get_site_info").status_code == 200
    httpx.post(f"{moodle.url}/_emulator/functions/core_webservice_get_site_info/disable")
    assert call(moodle, "core_webservice_get_site_info").json()["errorcode"] == "accessexception"


def test_php_bracket_encoding_decodes_into_nested_arrays() -> None:
    assert decode_php_form(
        [
            ("courses[0][fullname]", "A"),
            ("courses[0][customfields][0][shortname]", "x"),
            ("a[]", "1"),
            ("a[]", "2"),
        ]
    ) == {
        "courses": {"0": {"fullname": "A", "customfields": {"0": {"shortname": "x"}}}},
        "a": {"0": "1", "1": "2"},
    }


@pytest.mark.slow
def test_lmsbridge_emulate_moodle_serves_a_seeded_site() -> None:
    port = free_port()
    token = "a1b2c3d4e5f60718293a4b5c6d7e8f90"
    process = subprocess.Popen(
        [sys.executable, "-m", "lmsbridge", "emulate", "moodle", "--port", str(port), "--token", token],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        banner = [process.stdout.readline() for _ in range(3)]
        assert f"site_url: http://127.0.0.1:{port}" in banner[1]
        assert token in banner[2]

        def site_info() -> httpx.Response | None:
            try:
                return httpx.post(
                    f"http://127.0.0.1:{port}{REST_PATH}",
                    data={
                        "wstoken": token,
                        "wsfunction": "core_webservice_get_site_info",
                        "moodlewsrestformat": "json",
                    },
                )
            except httpx.TransportError:
                return None

        response = wait_until(site_info, timeout=20, message="the emulator did not start", interval=0.1)
        assert response.json()["username"] == "admin"
    finally:
        process.terminate()
        process.wait(10)
        if process.stdout is not None:
            process.stdout.close()
