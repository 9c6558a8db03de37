"""The SuccessFactors emulator against what is known of the vendor: every answer carries exactly
the properties its service's `$metadata` declares, with their declared types; the rows validate
against the vendor-specs JSON schemas where they overlap; tokens, criteria filters, paging, the
"No search results" answer and OCN's pace behave as reference section 1 describes."""

from __future__ import annotations

import json
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest

from lmsbridge.testing.emulators.successfactors.metadata import SETS
from tests.connectors.successfactors.conftest import CLIENT, SCOPE, Tenant

SPECS = (
    Path(__file__).resolve().parents[3]
    / "../shared/reference/vendor-specs/successfactors/tap-successfactors-schemas"
)
EDM = "{http://docs.oasis-open.org/odata/ns/edm}"
PYTHON_TYPES: dict[str, tuple[type, ...]] = {
    "Edm.String": (str,),
    "Edm.Int64": (int,),
    "Edm.Boolean": (bool,),
    "Edm.Double": (int, float),
}
READ_SETS = [s for s in SETS if s.name not in ("OcnCourses", "OCNLearningEvents")]


def declared(tenant: Tenant, service: str, token: str) -> dict[str, str]:
    return declared_types(tenant, service, token)[""]


def declared_types(tenant: Tenant, service: str, token: str) -> dict[str, dict[str, str]]:
    """The service's entity type (under "") and complex types (under their qualified names)."""
    answer = tenant.get(f"{service}/$metadata", token)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/xml")
    root = ET.fromstring(answer.text)
    schema = root.find(f".//{EDM}Schema")
    entity = root.find(f".//{EDM}EntityType")
    assert schema is not None and entity is not None
    types = {"": {p.attrib["Name"]: p.attrib["Type"] for p in entity.findall(f"{EDM}Property")}}
    for found in root.findall(f".//{EDM}ComplexType"):
        properties = {p.attrib["Name"]: p.attrib["Type"] for p in found.findall(f"{EDM}Property")}
        types[f"{schema.attrib['Namespace']}.{found.attrib['Name']}"] = properties
    return types


def conforms(row: dict[str, Any], properties: dict[str, str], types: dict[str, dict[str, str]]) -> None:
    """`row` carries exactly `properties`, each of its declared type (complex collections too)."""
    assert set(row) == set(properties)
    for name, value in row.items():
        kind = properties[name]
        if kind.startswith("Collection("):
            inner = kind[len("Collection(") : -1]
            assert value is None or isinstance(value, list), name
            for entry in value or []:
                conforms(entry, types[inner], types)
            continue
        assert value is None or isinstance(value, PYTHON_TYPES[kind]), (name, value)
        if kind != "Edm.Boolean":
            assert not isinstance(value, bool), name


def learner_with(tenant: Tenant, source: dict[str, list[dict[str, Any]]]) -> str:
    return next(user for user, rows in source.items() if rows)


@pytest.mark.parametrize("entity_set", READ_SETS, ids=lambda s: s.name)
def test_answers_carry_exactly_what_metadata_declares(tenant: Tenant, entity_set: Any) -> None:
    token = tenant.token()
    properties = declared(tenant, entity_set.service, token)
    params: dict[str, str] = {}
    if "learningplan" in entity_set.service:
        params["$filter"] = f"criteria/targetUserID eq '{learner_with(tenant, tenant.site.todos)}'"
    elif "userlearning" in entity_set.service:
        params["$filter"] = f"criteria/targetUserID eq '{learner_with(tenant, tenant.site.histories)}'"
    answer = tenant.get(f"{entity_set.service}/{entity_set.name}", token, **params)
    assert answer.status_code == 200, answer.text
    rows = answer.json()["value"]
    assert rows
    for row in rows:
        conforms(row, properties, {})


def test_post_answers_carry_exactly_what_metadata_declares(tenant: Tenant) -> None:
    """OCN's course post and the learning event answer with what they received, reduced to the
    properties (and complex types) their `$metadata` declares; what is not declared is dropped."""
    token = tenant.token()
    headers = {"Authorization": f"Bearer {token}"}
    ocn = "public/admin/ocn/v1"
    course = {
        "courseID": "meta-1",
        "providerID": "LMSBRIDGE",
        "status": "ACTIVE",
        "title": [{"locale": "English", "value": "Metadata"}],
        "description": [{"locale": "English", "value": "Checked"}],
        "content": [
            {
                "providerID": "LMSBRIDGE",
                "launchURL": "https://c.example.com/m",
                "contentTitle": "Metadata",
                "contentID": "meta-1",
                "launchType": 3,
                "mobileEnabled": True,
                "unknownToSap": "dropped",
            }
        ],
        "price": [{"currency": "EUR", "value": 1}],  # sent by some clients, not declared here
    }
    answer = httpx.post(
        f"{tenant.url}/learning/odatav4/{ocn}/OcnCourses", json={"ocnCourses": [course]}, headers=headers
    )
    assert answer.status_code == 200, answer.text
    types = declared_types(tenant, ocn, token)
    (row,) = answer.json()["value"]
    conforms(row, types[""], types)
    assert row["content"][0]["launchURL"] == "https://c.example.com/m" and row["thumbnailURI"] is None

    user_id = next(u for u, rows in tenant.site.todos.items() if rows)
    events = "public/admin/learningevent-service/v1"
    event = {
        "userID": user_id,
        "courseID": tenant.site.todos[user_id][0]["componentID"],
        "providerID": "SAP_CONTENT",
        "courseCompleted": True,
        "completedTimestamp": 1_767_225_600_000,
        "completionStatusID": "COMPLETE",
        "grade": "90",
    }
    answer = httpx.post(
        f"{tenant.url}/learning/odatav4/{events}/OCNLearningEvents", json=event, headers=headers
    )
    assert answer.status_code == 201, answer.text
    types = declared_types(tenant, events, token)
    body = {k: v for k, v in answer.json().items() if not k.startswith("@odata.")}
    conforms(body, types[""], types)


@pytest.mark.skipif(not SPECS.exists(), reason="../shared is absent")
@pytest.mark.parametrize(
    ("schema", "service", "source"),
    [
        ("learning_historys.json", "public/user/userlearning-service/v1/learninghistorys", "histories"),
        (
            "user_todo_learning_items.json",
            "public/user/learningplan-service/v1/UserTodoLearningItems",
            "todos",
        ),
    ],
)
def test_rows_validate_against_the_vendor_specs(
    tenant: Tenant, schema: str, service: str, source: str
) -> None:
    spec = json.loads((SPECS / schema).read_text())
    user = learner_with(tenant, getattr(tenant.site, source))
    answer = tenant.get(service, **{"$filter": f"criteria/targetUserID eq '{user}'"})
    assert answer.status_code == 200, answer.text
    for row in answer.json()["value"]:
        jsonschema.validate(row, spec)
        assert set(row) & set(spec["properties"]) == set(row)  # no property the vendor's records lack


def test_tokens_learning_server_and_saml_bearer(tenant: Tenant) -> None:
    url = tenant.url
    bad = httpx.post(
        f"{url}/learning/oauth-api/rest/v1/token", auth=(CLIENT[0], "wrong"), json={"scope": SCOPE}
    )
    assert bad.status_code == 401
    wrong_company = {**SCOPE, "companyId": "OTHER"}
    assert (
        httpx.post(
            f"{url}/learning/oauth-api/rest/v1/token", auth=CLIENT, json={"scope": wrong_company}
        ).status_code
        == 401
    )
    assert tenant.get("searchStudent/v1/Students", "not-a-token").json() == {
        "error_description": "The token has expired."
    }
    form = {
        "grant_type": "urn:ietf:params:oauth:grant-type:saml2-bearer",
        "client_id": CLIENT[0],
        "company_id": "ACME01",
        "assertion": tenant.site.saml_assertion,
    }
    platform = httpx.post(f"{url}/oauth/token", data=form)
    assert platform.status_code == 200 and platform.json()["expires_in"] == 86_400
    assert tenant.get("searchStudent/v1/Students", platform.json()["access_token"]).status_code == 200
    assert httpx.post(f"{url}/oauth/token", data={**form, "assertion": "x"}).status_code == 401


def test_criteria_paging_and_no_search_results(tenant: Tenant) -> None:
    token = tenant.token()
    everyone = tenant.site.students
    first = tenant.get("searchStudent/v1/Students", token, **{"$top": "5", "$count": "true"}).json()
    assert first["@odata.count"] == len(everyone) and len(first["value"]) == 5
    assert "$skip=5" in first["@odata.nextLink"]
    unsupported = tenant.get("searchStudent/v1/Students", token, **{"$filter": "criteria/hireDate gt 5"})
    assert unsupported.status_code == 400 and "Unsupported filter" in unsupported.json()["error"]["message"]
    inactive = tenant.get("searchStudent/v1/Students", token, **{"$filter": "criteria/isActive eq false"})
    assert {r["studentID"] for r in inactive.json()["value"]} == {
        s["studentID"] for s in everyone if s["notActive"] == "yes"
    }
    nobody = tenant.get(
        "public/user/userlearning-service/v1/learninghistorys",
        token,
        **{"$filter": "criteria/targetUserID eq 'NOBODY'"},
    )
    assert nobody.status_code == 404
    assert nobody.json()["error"]["message"] == "No search results for provided search criteria"


def test_ocn_accepts_one_post_per_pace_window(tenant: Tenant) -> None:
    tenant.site.ocn_pace_seconds = 0.5
    token = tenant.token()
    course = {
        "courseID": "x1",
        "providerID": "P",
        "status": "ACTIVE",
        "title": [{"locale": "English", "value": "X"}],
    }

    def post() -> httpx.Response:
        return httpx.post(
            f"{tenant.url}/learning/odatav4/public/admin/ocn/v1/OcnCourses",
            json={"ocnCourses": [course]},
            headers={"Authorization": f"Bearer {token}"},
        )

    assert post().status_code == 200
    refused = post()
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    time.sleep(0.5)
    assert post().status_code == 200
    assert tenant.site.item("OCN", "x1") is not None
