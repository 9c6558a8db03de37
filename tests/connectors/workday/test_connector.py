"""The Workday connector and emulator against each other over real HTTP: a standard SOAP client
(zeep) reading the emulator's WSDL, the connector's requests checked against that WSDL's schema,
both authentication modes, and each documented fault ending in its contract code."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from lmsbridge.connectors.base import ConnectorContext
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
    page = etree.fromstring(
        '<wd:Response_Filter xmlns:wd="urn:com.workday/bsvc"><wd:Page>1</wd:Page><wd:Count>4</wd:Count>'
        "</wd:Response_Filter>"
    )
    answer = client.service.Get_Learning_Enrollments(page, version=WWS_VERSION)
    results, data = answer["_value_1"]
    assert results.findtext("{urn:com.workday/bsvc}Total_Results") == str(len(tenant.enrollments))
    assert len(data) == 4
    with pytest.raises(zeep.exceptions.Fault) as fault:
        zeep.Client(
            f"{url}/ccx/service/acme/Learning/{WWS_VERSION}?wsdl", wsse=UsernameToken("ISU@acme", "wrong")
        ).service.Get_Learning_Enrollments(page, version=WWS_VERSION)
    assert fault.value.code.endswith("authenticationError")


def test_the_connectors_requests_validate_against_the_wsdl_schema(site: tuple[str, WorkdaySite]) -> None:
    url, _ = site
    sent: list[bytes] = []

    class Recording(httpx.HTTPTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            if request.method == "POST":
                sent.append(request.read())
            return super().handle_request(request)

    c = connector(url)
    c.context = ConnectorContext(
        integration_id=c.context.integration_id,
        settings=c.context.settings,
        credentials=c.context.credentials,
        transport=Recording(),
    )
    for model in ("lms_users", "lms_courses", "lms_course_progressions"):
        assert read_all(c, model)
    schemas = {
        service: zeep.Client(f"{url}/ccx/service/acme/{service}/{WWS_VERSION}?wsdl").wsdl.types
        for service in ("Learning", "Human_Resources")
    }
    assert sent
    for body in sent:
        from lxml import etree

        request = etree.fromstring(body).find("{http://schemas.xmlsoap.org/soap/envelope/}Body")[0]
        name = etree.QName(request).localname
        service = "Human_Resources" if name == "Get_Workers_Request" else "Learning"
        element = schemas[service].get_element(f"{{urn:com.workday/bsvc}}{name}")
        parsed = element.parse(request, schemas[service])
        assert parsed.version == WWS_VERSION


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
