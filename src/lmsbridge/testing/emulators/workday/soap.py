"""Workday's SOAP operations as the emulator answers them: the request is a SOAP 1.1 envelope in
namespace `urn:com.workday/bsvc`, authenticated by a WS-Security UsernameToken
(`user@tenant`, PasswordText) or an OAuth2 Bearer token; lists are paged by
`Response_Filter/Page` and `Count` and answered with `Response_Results`; errors are SOAP faults
(`SOAP-ENV:Client.validationError`, `...processingFault`, `...authenticationError`)."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from lmsbridge.testing.emulators.workday.site import (
    WWS_VERSION,
    Course,
    Enrollment,
    WorkdaySite,
    Worker,
    escape,
    now,
    wid,
)

BSVC = "urn:com.workday/bsvc"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
COUNT_MAX = 999
NS = {"wd": BSVC}


class SoapFault(Exception):
    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.code = f"SOAP-ENV:Client.{kind}"
        self.message = message


def q(name: str) -> str:
    return f"{{{BSVC}}}{name}"


def text(node: ET.Element | None, path: str) -> str | None:
    if node is None:
        return None
    found = node.find(path, {"wd": BSVC})
    return found.text.strip() if found is not None and found.text else None


def moment(value: str | None, what: str) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise SoapFault("validationError", f"Invalid value for {what}: {value}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def iso(value: datetime | None) -> str:
    return "" if value is None else value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def day(value: datetime | None) -> str:
    return "" if value is None else value.astimezone(UTC).date().isoformat()


def ref(element: str, ids: Sequence[tuple[str, str]], descriptor: str | None = None) -> str:
    attr = f' wd:Descriptor="{escape(descriptor)}"' if descriptor else ""
    inner = "".join(f'<wd:ID wd:type="{t}">{escape(v)}</wd:ID>' for t, v in ids)
    return f"<wd:{element}{attr}>{inner}</wd:{element}>"


def ref_id(node: ET.Element | None, element: str) -> str | None:
    """The first ID of a reference element, whatever its type."""
    if node is None:
        return None
    found = node.find(f"wd:{element}/wd:ID", {"wd": BSVC})
    return found.text.strip() if found is not None and found.text else None


def envelope(body: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<env:Envelope xmlns:env="{SOAP_ENV}"><env:Body>{body}</env:Body></env:Envelope>'
    )


def paged(site: WorkdaySite, request: ET.Element, rows: Sequence[Any]) -> tuple[list[Any], str]:
    page_text = text(request, "wd:Response_Filter/wd:Page") or "1"
    count_text = text(request, "wd:Response_Filter/wd:Count") or "100"
    if not page_text.isdigit() or not count_text.isdigit():
        raise SoapFault("validationError", "Page and Count must be whole numbers")
    page, count = int(page_text), int(count_text)
    if page == 0:
        raise SoapFault("validationError", "Page Number cannot be zero")
    if count == 0 or count > COUNT_MAX:
        raise SoapFault("validationError", f"Count must be between 1 and {COUNT_MAX}")
    pages = max(1, math.ceil(len(rows) / count))
    shown = 1 if site.repeat_first_page else page
    chunk = list(rows[(shown - 1) * count : shown * count])
    results = (
        f"<wd:Response_Results><wd:Total_Results>{len(rows)}</wd:Total_Results>"
        f"<wd:Total_Pages>{pages}</wd:Total_Pages><wd:Page_Results>{len(chunk)}</wd:Page_Results>"
        f"<wd:Page>{page}</wd:Page></wd:Response_Results>"
    )
    return chunk, results


def worker_xml(w: Worker) -> str:
    return (
        "<wd:Worker>"
        + ref("Worker_Reference", [("WID", w.wid), ("Employee_ID", w.employee_id)])
        + f"<wd:Worker_Data><wd:Worker_ID>{w.employee_id}</wd:Worker_ID>"
        f"<wd:User_ID>{escape(w.user_name)}</wd:User_ID><wd:Personal_Data><wd:Name_Data>"
        f"<wd:Legal_Name_Data><wd:Name_Detail_Data><wd:First_Name>{escape(w.first_name)}</wd:First_Name>"
        f"<wd:Last_Name>{escape(w.last_name)}</wd:Last_Name></wd:Name_Detail_Data></wd:Legal_Name_Data>"
        "</wd:Name_Data><wd:Contact_Data><wd:Email_Address_Data>"
        f"<wd:Email_Address>{escape(w.email)}</wd:Email_Address>"
        "</wd:Email_Address_Data></wd:Contact_Data>"
        + custom_ids_xml(w)
        + "</wd:Personal_Data><wd:Employment_Data><wd:Worker_Status_Data>"
        f"<wd:Active>{'1' if w.active else '0'}</wd:Active></wd:Worker_Status_Data></wd:Employment_Data>"
        "<wd:Organization_Data><wd:Worker_Organization_Data><wd:Organization_Data>"
        + ref("Organization_Reference", [("Cost_Center_Reference_ID", w.cost_center)], w.cost_center)
        + "</wd:Organization_Data></wd:Worker_Organization_Data></wd:Organization_Data>"
        "</wd:Worker_Data></wd:Worker>"
    )


def custom_ids_xml(w: Worker) -> str:
    """The worker's Custom IDs (`Identification_Data/Custom_ID/Custom_ID_Data`: `ID` and the
    `ID_Type_Reference` naming the tenant's Custom ID type)."""
    if not w.custom_ids:
        return ""
    return (
        "<wd:Identification_Data>"
        + "".join(
            "<wd:Custom_ID><wd:Custom_ID_Data>"
            f"<wd:ID>{escape(value)}</wd:ID>"
            + ref("ID_Type_Reference", [("Custom_ID_Type_ID", type_id)], label)
            + "</wd:Custom_ID_Data></wd:Custom_ID>"
            for type_id, label, value in w.custom_ids
        )
        + "</wd:Identification_Data>"
    )


# Get_Learning_Digital_Courses answers `Learning_Digital_Course` rows, Get_Learning_Blended_Courses
# `Learning_Course` rows (row, reference, data), as the v31.2 Learning WSDL names them.
ROW_NAMES = {
    "Digital": (
        "Learning_Digital_Course",
        "Learning_Digital_Course_Reference",
        "Learning_Digital_Course_Data",
    ),
    "Blended": ("Learning_Course", "Learning_Blended_Course_Reference", "Learning_Course_Data"),
}


def course_xml(c: Course) -> str:
    """A course in the order of the WSDL's course data; `Skill_Item_Reference` and
    `Content_Provider_Reference` are not in the v31.2 WSDL (assumed later additions)."""
    row, reference, data = ROW_NAMES[c.kind]
    skills = "".join(ref("Skill_Item_Reference", [("Skill_Item_ID", sid)], name) for sid, name in c.skills)
    lesson = (
        "<wd:Course_Lesson_Data><wd:Lesson_Order>1</wd:Lesson_Order><wd:External_Content_Lesson_Data>"
        f"<wd:External_Content_URL>{escape(c.url)}</wd:External_Content_URL>"
        f"<wd:Learning_Course_Lesson_Title>{escape(c.title)}</wd:Learning_Course_Lesson_Title>"
        "</wd:External_Content_Lesson_Data></wd:Course_Lesson_Data>"
        if c.url
        else ""
    )
    return (
        f"<wd:{row}>"
        + ref(reference, [("WID", c.wid), ("Learning_Course_ID", c.course_id)], c.title)
        + f"<wd:{data}>"
        f"<wd:ID>{escape(c.course_id)}</wd:ID>"
        f"<wd:Effective_Date>{day(c.created)}</wd:Effective_Date>"
        f"<wd:Version_Label>{escape(c.version)}</wd:Version_Label>"
        f"<wd:Inactive>{'1' if c.inactive else '0'}</wd:Inactive>"
        f"<wd:Course_Title>{escape(c.title)}</wd:Course_Title>"
        f"<wd:Description>{escape(c.description)}</wd:Description>"
        + ref("Topic_Reference", [("Learning_Topic_ID", c.topic[0])], c.topic[1])
        + lesson
        + skills
        + ref(
            "Content_Provider_Reference",
            [("Learning_Content_Provider_ID", wid("provider", c.provider))],
            c.provider,
        )
        + f"</wd:{data}></wd:{row}>"
    )


def enrollment_xml(e: Enrollment) -> str:
    return (
        "<wd:Learning_Enrollment>"
        + ref("Learning_Enrollment_Reference", [("WID", e.wid)])
        + f"<wd:Learning_Enrollment_Data><wd:ID>{e.wid}</wd:ID>"
        + ref("Learning_Content_Reference", [("WID", e.course_wid)])
        + ref("Learner_Reference", [("Employee_ID", e.employee_id)])
        + f"<wd:Registered_Date>{day(e.registered)}</wd:Registered_Date>"
        + (
            f"<wd:Learning_Enrollment_Completion_Date>{iso(e.completed)}</wd:Learning_Enrollment_Completion_Date>"
            if e.completed
            else ""
        )
        + (f"<wd:Overall_Course_Score>{e.score}</wd:Overall_Course_Score>" if e.score is not None else "")
        + f"<wd:Version_Label>{escape(e.version)}</wd:Version_Label>"
        f"<wd:Rescind_Enrollment>{'1' if e.rescinded else '0'}</wd:Rescind_Enrollment>"
        "</wd:Learning_Enrollment_Data></wd:Learning_Enrollment>"
    )


def response(operation: str, inner: str) -> str:
    opening = f'<wd:{operation}_Response xmlns:wd="{BSVC}" wd:version="{WWS_VERSION}">'
    return f"{opening}{inner}</wd:{operation}_Response>"


def get_workers(site: WorkdaySite, request: ET.Element) -> str:
    span = "wd:Request_Criteria/wd:Transaction_Log_Criteria_Data/wd:Transaction_Date_Range_Data/"
    start = moment(text(request, span + "wd:Updated_From"), "Updated_From")
    end = moment(text(request, span + "wd:Updated_Through"), "Updated_Through")
    rows = [
        w for w in site.workers if (start is None or w.updated >= start) and (end is None or w.updated <= end)
    ]
    chunk, results = paged(site, request, rows)
    return response(
        "Get_Workers",
        results + "<wd:Response_Data>" + "".join(map(worker_xml, chunk)) + "</wd:Response_Data>",
    )


def get_courses(kind: str) -> Callable[[WorkdaySite, ET.Element], str]:
    def answer(site: WorkdaySite, request: ET.Element) -> str:
        chunk, results = paged(site, request, [c for c in site.courses if c.kind == kind])
        inner = "".join(map(course_xml, chunk))
        return response(
            f"Get_Learning_{kind}_Courses", f"{results}<wd:Response_Data>{inner}</wd:Response_Data>"
        )

    return answer


def get_enrollments(site: WorkdaySite, request: ET.Element) -> str:
    wanted = ref_id(request.find("wd:Request_References", {"wd": BSVC}), "Learning_Enrollment_Reference")
    rows = [e for e in site.enrollments if wanted is None or e.wid == wanted]
    if wanted is not None and not rows:
        raise SoapFault(
            "validationError", f"Invalid ID value. '{wanted}' is not a valid ID value for type = 'WID'"
        )
    chunk, results = paged(site, request, rows)
    inner = "".join(map(enrollment_xml, chunk))
    return response("Get_Learning_Enrollments", f"{results}<wd:Response_Data>{inner}</wd:Response_Data>")


def manage_course(site: WorkdaySite, request: ET.Element) -> str:
    """`Manage_Learning_Course_Data` holds a `Put_Learning_Digital_Course_Request` or a
    `Put_Learning_Blended_Course_Request`: the course its reference names is changed (the whole
    data is sent, as a Put does), else the one whose reference ID is the data's `ID` (assumed: it
    keeps a resent request from creating a second course), else a course is created."""
    manage = request.find("wd:Manage_Learning_Course_Data", NS)
    put = next(iter(manage), None) if manage is not None else None
    kind = {
        "Put_Learning_Digital_Course_Request": "Digital",
        "Put_Learning_Blended_Course_Request": "Blended",
    }.get(put.tag.split("}")[-1] if put is not None else "")
    if put is None or kind is None:
        raise SoapFault(
            "validationError", "Manage_Learning_Course_Data needs a Put_Learning_*_Course_Request"
        )
    _, reference_name, data_name = ROW_NAMES[kind]
    data = put.find(f"wd:{data_name}", NS)
    if data is None:
        raise SoapFault("validationError", f"{data_name} is required")
    reference = ref_id(put, reference_name)
    course_id = text(data, "wd:ID")
    course = site.course(reference) if reference else site.course(course_id) if course_id else None
    if reference and course is None:
        raise SoapFault(
            "validationError", f"Invalid ID value. '{reference}' is not a valid ID value for type = 'WID'"
        )
    title, description = text(data, "wd:Course_Title"), text(data, "wd:Description")
    if not title:
        raise SoapFault("validationError", "Course_Title is required")
    url = text(data, "wd:Course_Lesson_Data/wd:External_Content_Lesson_Data/wd:External_Content_URL") or ""
    inactive = text(data, "wd:Inactive") in ("1", "true")
    if course is None:
        course = Course(
            wid("course", course_id or title, len(site.courses)),
            course_id or f"COURSE-{len(site.courses) + 1:03d}",
            kind,
            title,
            description or "",
            url,
            "1.0",
            inactive,
            [],
            "Workday Learning",
            now(),
        )
        site.courses.append(course)
    else:
        changed = (title, description or "", url) != (course.title, course.description, course.url)
        course.title, course.description, course.url, course.inactive = (
            title,
            description or "",
            url,
            inactive,
        )
        if changed:  # a content change is a new version of the course
            course.version = f"{int(float(course.version)) + 1}.0"
    return response(
        "Manage_Learning_Course",
        ref("Course_Event_Reference", [("WID", wid("event", course.wid, course.version))])
        + ref("Course_Reference", [("WID", course.wid), ("Learning_Course_ID", course.course_id)]),
    )


def enroll_request(operation: str) -> Callable[[WorkdaySite, ET.Element], str]:
    """`Enroll_In_Learning_Course` (v31.2: `Enroll_In_Learning_Course_Data` with
    `Learning_Course_Reference` and `Learner_Reference`) and its successor
    `Enroll_In_Learning_Content` (v44: the same data wrapped in `Enroll_In_Learning_Content_Data`).
    Both answer the event and the (proposed) enrollment, as the v31.2 response does."""

    def answer(site: WorkdaySite, request: ET.Element) -> str:
        path = "wd:Enroll_In_Learning_Course_Data"
        if operation == "Enroll_In_Learning_Content":
            path = "wd:Enroll_In_Learning_Content_Data/" + path
        data = request.find(path, NS)
        learner = ref_id(data, "Learner_Reference")
        content = ref_id(data, "Learning_Course_Reference")
        worker = site.worker(learner or "")
        course = site.course(content or "")
        if worker is None:
            raise SoapFault(
                "validationError",
                f"Invalid ID value. '{learner}' is not a valid ID value for type = 'Employee_ID'",
            )
        if course is None:
            raise SoapFault(
                "validationError", f"Invalid ID value. '{content}' is not a valid ID value for type = 'WID'"
            )
        if course.inactive:
            raise SoapFault("processingFault", "You cannot enroll in inactive learning content.")
        existing = next(
            (
                e
                for e in site.enrollments
                if e.course_wid == course.wid and e.employee_id == worker.employee_id and not e.rescinded
            ),
            None,
        )
        if existing is None:
            existing = site.new_enrollment(course, worker)
        return response(
            operation,
            ref("Event_Reference", [("WID", wid("enroll-event", existing.wid))])
            + ref("Proposed_Enrollment_Reference", [("WID", existing.wid)]),
        )

    return answer


def put_enrollment(site: WorkdaySite, request: ET.Element) -> str:
    """Changes the enrollment its reference names, or records a new (legacy) one; the data names
    the content and the learner either way (both are required by the WSDL)."""
    data = request.find("wd:Learning_Enrollment_Data", NS)
    learner, content = ref_id(data, "Learner_Reference"), ref_id(data, "Learning_Content_Reference")
    if data is None or not learner or not content:
        raise SoapFault("validationError", "Learning_Content_Reference and Learner_Reference are required")
    reference = ref_id(request, "Learning_Enrollment_Reference")
    enrollment = site.enrollment(reference) if reference else None
    if reference and enrollment is None:
        raise SoapFault(
            "validationError", f"Invalid ID value. '{reference}' is not a valid ID value for type = 'WID'"
        )
    course, worker = site.course(content), site.worker(learner)
    if course is None or worker is None:
        raise SoapFault("validationError", f"Invalid ID value. '{content if course is None else learner}'")
    if enrollment is None:
        enrollment = site.new_enrollment(course, worker)
    completed = moment(
        text(data, "wd:Learning_Enrollment_Completion_Date"), "Learning_Enrollment_Completion_Date"
    )
    if completed is not None:
        enrollment.completed = completed
    score = text(data, "wd:Overall_Course_Score")
    if score is not None:
        enrollment.score = int(float(score))
    return response(
        "Put_Learning_Enrollment", ref("Learning_Enrollment_Reference", [("WID", enrollment.wid)])
    )


OPERATIONS: dict[str, dict[str, Callable[[WorkdaySite, ET.Element], str]]] = {
    "Human_Resources": {"Get_Workers": get_workers},
    "Learning": {
        "Get_Learning_Digital_Courses": get_courses("Digital"),
        "Get_Learning_Blended_Courses": get_courses("Blended"),
        "Get_Learning_Enrollments": get_enrollments,
        "Manage_Learning_Course": manage_course,
        "Enroll_In_Learning_Content": enroll_request("Enroll_In_Learning_Content"),
        "Enroll_In_Learning_Course": enroll_request("Enroll_In_Learning_Course"),
        "Put_Learning_Enrollment": put_enrollment,
    },
}


def parse(body: bytes) -> ET.Element:
    try:
        return ET.fromstring(body)
    except ET.ParseError as error:
        raise SoapFault("validationError", f"The request is not well-formed XML: {error}") from None


def operation_of(root: ET.Element) -> tuple[str, ET.Element]:
    body = root.find(f"{{{SOAP_ENV}}}Body")
    if root.tag != f"{{{SOAP_ENV}}}Envelope" or body is None or len(body) == 0:
        raise SoapFault("validationError", "The request is not a SOAP 1.1 envelope")
    request = body[0]
    if not request.tag.startswith(f"{{{BSVC}}}") or not request.tag.endswith("_Request"):
        raise SoapFault("validationError", f"Unknown request element {request.tag}")
    return request.tag[len(BSVC) + 2 : -len("_Request")], request


def username_token(root: ET.Element) -> tuple[str, str] | None:
    token = root.find(f"{{{SOAP_ENV}}}Header/{{{WSSE}}}Security/{{{WSSE}}}UsernameToken")
    if token is None:
        return None
    return (token.findtext(f"{{{WSSE}}}Username") or "", token.findtext(f"{{{WSSE}}}Password") or "")


def answer(site: WorkdaySite, service: str, root: ET.Element, bearer: str | None) -> str:
    operation, request = operation_of(root)
    known = OPERATIONS.get(service, {})
    if operation not in known:
        raise SoapFault(
            "validationError", f"The operation {operation} is not available in the {service} service"
        )
    handler = known[operation]
    return envelope(handler(site, request))


def authenticated(site: WorkdaySite, root: ET.Element, authorization: str | None) -> bool:
    token = username_token(root)
    if token is not None:
        return token == (f"{site.user_name}@{site.tenant}", site.password)
    return site.issuer is not None and site.issuer.valid(authorization)
