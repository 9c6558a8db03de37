"""The Workday connector and emulator against each other over real HTTP: a standard SOAP client
(zeep) reading the emulator's WSDL, every request the connector sends (reads and each write)
validated against that WSDL's schema, workers' custom fields, both authentication modes, and each
documented fault ending in its contract code."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from lmsbridge.connectors.base import ConnectorContext, CourseUpsert, PassthroughRequest
from lmsbridge.connectors.errors import ConnectorError
from lmsbridge.connectors.workday.connector import WorkdayConnector
from lmsbridge.errors import ErrorCode
from lmsbridge.testing.emulators.kit import Fault
from lmsbridge.testing.emulators.workday import API_VERSION_FOLLOWED, WWS_VERSION
from lmsbridge.testing.emulators.workday.pair import QUICK, WorkdayPair
from lmsbridge.testing.emulators.workday.site import WorkdaySite, seeded_site, soap_fault

zeep = pytest.importorskip("zeep")
PASSWORD = "workday-test-password-1a2b3c"


@pytest.fixture
def site() -> Iterator[tuple[str, WorkdaySite]]:
    served = WorkdayPair.shared()
    current = served.use(seeded_site(seed=4, user_name="ISU", password=PASSWORD))
    yield served.url, current
    served.reset()


def connector(url: str, **settings: Any) -> WorkdayConnector:
    mode = settings.get("auth_mode", "ws_security")
    credentials = (
        {"username": "ISU", "password": PASSWORD}
        if mode == "ws_security"
        else {
            "client_id": "workday-client",
            "client_secret": PASSWORD,
            "refresh_token": f"refresh-{PASSWORD}",
        }
    )
    credentials.update(settings.pop("credentials", {}))
    return WorkdayConnector(
        ConnectorContext(
            integration_id="workday:test",
            settings={"base_url": url, "tenant": "acme", **QUICK, **settings},
            credentials=credentials,
        )
    )


def read_all(c: WorkdayConnector, model: str) -> list[Any]:
    return [r for page in c.read(model, None) for r in page]


def test_a_standard_soap_client_calls_the_emulator_from_its_wsdl(site: tuple[str, WorkdaySite]) -> None:
    from lxml import etree
    from zeep.wsse.username import UsernameToken

    url, tenant = site
    assert WWS_VERSION in API_VERSION_FOLLOWED
    client = zeep.Client(
        f"{url}/ccx/service/acme/Learning/{WWS_VERSION}?wsdl", wsse=UsernameToken("ISU@acme", PASSWORD)
    )
    operations = set(client.service._binding._operations)
    assert {"Get_Learning_Enrollments", "Manage_Learning_Course", "Enroll_In_Learning_Content"} <= operations
    # zeep builds the request from the WSDL's types: keyword arguments, not hand-written XML.
    answer = client.service.Get_Learning_Enrollments(
        Response_Filter={"Page": 1, "Count": 4}, version=WWS_VERSION
    )
    results, data = answer["_value_1"]
    assert results.findtext("{urn:com.workday/bsvc}Total_Results") == str(len(tenant.enrollments))
    assert len(data) == 4
    worker, course = tenant.workers[0], tenant.courses[1]
    enrolled = client.service.Enroll_In_Learning_Course(
        Business_Process_Parameters={"Auto_Complete": True},
        Enroll_In_Learning_Course_Data={
            "Learning_Course_Reference": {"ID": [{"_value_1": course.wid, "type": "WID"}]},
            "Learner_Reference": {"ID": [{"_value_1": worker.employee_id, "type": "Employee_ID"}]},
        },
        version=WWS_VERSION,
    )
    proposed = next(
        e for e in enrolled["_value_1"] if etree.QName(e).localname == "Proposed_Enrollment_Reference"
    )
    assert tenant.enrollment(proposed.findtext("{urn:com.workday/bsvc}ID")) is not None
    with pytest.raises(zeep.exceptions.Fault) as fault:
        zeep.Client(
            f"{url}/ccx/service/acme/Learning/{WWS_VERSION}?wsdl", wsse=UsernameToken("ISU@acme", "wrong")
        ).service.Get_Learning_Enrollments(Response_Filter={"Page": 1}, version=WWS_VERSION)
    assert fault.value.code.endswith("authenticationError")


def wsdl_schema(url: str, service: str) -> Any:
    """The XML Schema inside the emulator's WSDL of a service, as lxml validates with it."""
    from lxml import etree

    document = etree.fromstring(httpx.get(f"{url}/ccx/service/acme/{service}/{WWS_VERSION}?wsdl").content)
    return etree.XMLSchema(document.find(".//{http://www.w3.org/2001/XMLSchema}schema"))


def test_every_request_the_connector_sends_validates_against_the_wsdl_schema(
    site: tuple[str, WorkdaySite],
) -> None:
    from lxml import etree

    url, tenant = site
    sent: list[bytes] = []

    class Recording(httpx.HTTPTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            if request.method == "POST":
                sent.append(request.read())
            return super().handle_request(request)

    c = connector(url, course_topic_id="GENERAL")
    c.context = ConnectorContext(
        integration_id=c.context.integration_id,
        settings=c.context.settings,
        credentials=c.context.credentials,
        transport=Recording(),
    )
    for model in ("lms_users", "lms_courses", "lms_course_progressions"):
        assert read_all(c, model)
    tenant.touch(tenant.workers[0])
    changed = [u for page in c.read("lms_users", datetime.now(UTC) - timedelta(minutes=1)) for u in page]
    assert [u.remote_id for u in changed] == [tenant.workers[0].employee_id]  # sent Updated_From
    outcomes = list(
        c.upsert_courses([CourseUpsert("schema-1", "Schema course", "https://c.example.com/s", "About")])
    )
    assert outcomes[0].error is None, outcomes
    course = next(x for x in tenant.courses if x.course_id == "schema-1")
    progression = c.enrol(tenant.workers[0].employee_id, f"{course.wid}:1.0")
    c.complete(progression.remote_id, datetime(2026, 1, 15, tzinfo=UTC), 90)
    assert c.deactivate_course(course.wid).revisions[0].status == "INACTIVE"

    schemas = {service: wsdl_schema(url, service) for service in ("Learning", "Human_Resources")}
    operations = set()
    for body in sent:
        request = etree.fromstring(body).find("{http://schemas.xmlsoap.org/soap/envelope/}Body")[0]
        name = etree.QName(request).localname
        operations.add(name)
        schema = schemas["Human_Resources" if name == "Get_Workers_Request" else "Learning"]
        assert schema.validate(request), (name, schema.error_log.last_error)
        assert request.get("{urn:com.workday/bsvc}version") == WWS_VERSION
    assert operations >= {
        "Get_Workers_Request",
        "Get_Learning_Digital_Courses_Request",
        "Get_Learning_Blended_Courses_Request",
        "Get_Learning_Enrollments_Request",
        "Manage_Learning_Course_Request",
        "Enroll_In_Learning_Content_Request",
        "Put_Learning_Enrollment_Request",
    }


def test_the_schema_refuses_a_misordered_or_incomplete_request(site: tuple[str, WorkdaySite]) -> None:
    from lxml import etree

    url, _ = site
    schema = wsdl_schema(url, "Learning")
    ns = 'xmlns:wd="urn:com.workday/bsvc" wd:version="v44.1"'
    misordered = (  # Business_Process_Parameters before the data: the order Enroll uses, not Manage
        f"<wd:Manage_Learning_Course_Request {ns}><wd:Business_Process_Parameters/>"
        "<wd:Manage_Learning_Course_Data><wd:Put_Learning_Digital_Course_Request>"
        "<wd:Learning_Digital_Course_Data><wd:Course_Title>T</wd:Course_Title><wd:Description/>"
        "</wd:Learning_Digital_Course_Data></wd:Put_Learning_Digital_Course_Request>"
        "</wd:Manage_Learning_Course_Data></wd:Manage_Learning_Course_Request>"
    )
    without_learner = (
        f"<wd:Put_Learning_Enrollment_Request {ns}><wd:Learning_Enrollment_Data>"
        '<wd:Learning_Content_Reference><wd:ID wd:type="WID">x</wd:ID></wd:Learning_Content_Reference>'
        "</wd:Learning_Enrollment_Data></wd:Put_Learning_Enrollment_Request>"
    )
    for xml in (misordered, without_learner):
        assert not schema.validate(etree.fromstring(xml))


def test_workers_custom_ids_are_custom_and_integration_fields(site: tuple[str, WorkdaySite]) -> None:
    url, tenant = site
    users = {u.remote_id: u for u in read_all(connector(url), "lms_users")}
    for worker in tenant.workers:
        user = users[worker.employee_id]
        assert user.custom_fields == {label: value for _, label, value in worker.custom_ids}
        custom = {(f.key, f.label) for f in user.integration_fields if f.type == "CUSTOM"}
        assert custom == {(f"Custom_ID/{type_id}", label) for type_id, label, _ in worker.custom_ids}
        assert ("User_ID", "DEFAULT") in {(f.key, f.type) for f in user.integration_fields}
    assert any(len(u.custom_fields or {}) > 1 for u in users.values())


def test_oauth_mode_reads_with_a_refresh_token(site: tuple[str, WorkdaySite]) -> None:
    url, tenant = site
    users = read_all(connector(url, auth_mode="oauth"), "lms_users")
    assert {u.remote_id for u in users} == {w.employee_id for w in tenant.workers}
    assert connector(url, auth_mode="oauth").preflight() == []


@pytest.mark.parametrize(
    ("credentials", "settings", "code"),
    [
        ({"password": "wrong"}, {}, ErrorCode.INTEGRATION_AUTHENTICATION_INVALID),
        ({"refresh_token": "wrong"}, {"auth_mode": "oauth"}, ErrorCode.INTEGRATION_AUTHENTICATION_INVALID),
        ({}, {"tenant": "other"}, ErrorCode.REMOTE_INPUT_INVALID),
    ],
)
def test_rejected_credentials_and_tenants_end_in_their_codes(
    site: tuple[str, WorkdaySite], credentials: dict[str, str], settings: dict[str, Any], code: ErrorCode
) -> None:
    url, _ = site
    with pytest.raises(ConnectorError) as error:
        connector(url, credentials=credentials, **settings).preflight()
    assert error.value.code is code


def test_faults_end_in_contract_codes(site: tuple[str, WorkdaySite]) -> None:
    url, tenant = site
    c = connector(url)
    # validationError on an unknown learner: this item fails, with Workday's message.
    with c.session(None), pytest.raises(ConnectorError) as error:
        c.perform_enrol("999999", f"{tenant.courses[0].wid}:1.0")
    assert error.value.code is ErrorCode.REMOTE_INPUT_INVALID and "999999" in error.value.message
    # processingFault (inactive content) is an item error too.
    tenant.courses[0].inactive = True
    with c.session(None), pytest.raises(ConnectorError) as error:
        c.perform_enrol(tenant.workers[0].employee_id, f"{tenant.courses[0].wid}:1.0")
    assert error.value.code is ErrorCode.REMOTE_INPUT_INVALID and "inactive" in error.value.message
    # authorizationError: a missing domain permission.
    body = bytes(
        soap_fault("SOAP-ENV:Client.authorizationError", "The task submitted is not authorized.").body
    )
    tenant.faults.add(Fault("status", None, 1, 500, body=body.decode(), content_type="text/xml"))
    with pytest.raises(ConnectorError) as error:
        c.preflight()
    assert error.value.code is ErrorCode.INTEGRATION_PERMISSION_MISSING
    # A server fault is retried, then ends in REMOTE.SERVICE_UNAVAILABLE.
    body = bytes(soap_fault("SOAP-ENV:Server", "Internal error").body)
    tenant.faults.add(Fault("status", None, None, 500, body=body.decode(), content_type="text/xml"))
    with pytest.raises(ConnectorError) as error:
        c.preflight()
    assert error.value.code is ErrorCode.REMOTE_SERVICE_UNAVAILABLE
    tenant.faults.clear()


def test_page_zero_is_refused_as_workday_does(site: tuple[str, WorkdaySite]) -> None:
    url, _ = site
    c = connector(url)
    with c.session(None) as api, pytest.raises(ConnectorError) as error:
        api.call(
            "Learning",
            "Get_Learning_Enrollments",
            "<bsvc:Response_Filter><bsvc:Page>0</bsvc:Page></bsvc:Response_Filter>",
        )
    assert "Page Number cannot be zero" in error.value.message


def test_digital_and_blended_courses_read_from_their_own_row_elements(site: tuple[str, WorkdaySite]) -> None:
    url, tenant = site
    courses = {c.remote_id: c for c in read_all(connector(url), "lms_courses")}
    assert set(courses) == {c.wid for c in tenant.courses}
    assert {c.kind for c in tenant.courses} == {"Digital", "Blended"}
    for course in tenant.courses:
        record = courses[course.wid]
        revision = record.revisions[0]
        assert record.origin_id == course.course_id  # the data's ID
        assert revision.remote_url == (course.url or None)  # the external-content lesson's link
        assert revision.remote_created_at is not None and record.remote_created_at is None
        assert revision.remote_data == {"Version_Label": course.version, "kind": course.kind}


def test_soap_passthrough_adds_the_security_header_and_rest_needs_oauth(
    site: tuple[str, WorkdaySite],
) -> None:
    url, tenant = site
    envelope = (
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:bsvc="urn:com.workday/bsvc"><soapenv:Body><bsvc:Get_Workers_Request bsvc:version="v44.1">'
        "<bsvc:Response_Filter><bsvc:Count>2</bsvc:Count></bsvc:Response_Filter>"
        "</bsvc:Get_Workers_Request></soapenv:Body></soapenv:Envelope>"
    )
    c = connector(url)
    answer = c.passthrough(
        "soap", PassthroughRequest("POST", f"Human_Resources/{WWS_VERSION}", data=envelope)
    )
    assert answer.status == 200 and "Get_Workers_Response" in str(answer.data)
    assert tenant.workers[0].employee_id in str(answer.data) and PASSWORD not in str(answer)
    with pytest.raises(ConnectorError):  # REST takes no user name and password
        c.passthrough("rest", PassthroughRequest("GET", "v1/acme/workers"))
    rest = connector(url, auth_mode="oauth").passthrough("rest", PassthroughRequest("GET", "v1/acme/workers"))
    assert rest.status == 200 and rest.data["total"] == len(tenant.workers)
    with pytest.raises(ConnectorError):
        c.passthrough("soap", PassthroughRequest("POST", "https://elsewhere.example/", data=envelope))
