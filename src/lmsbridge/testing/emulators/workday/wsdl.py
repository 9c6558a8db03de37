"""The WSDL the Workday emulator publishes (`GET ...?wsdl`): document/literal SOAP 1.1 in
`urn:com.workday/bsvc`, one operation per request the emulator serves. The request elements are
typed with Workday's element names, order and cardinality, as the code generated from the v31.2
Learning WSDL carries them (`Get_Workers`, which is not Learning's, from reference section 3.3);
only the children lmsbridge or a plain client needs are declared, so a request that misnames,
misorders or omits a required element does not validate. Responses are left open (`xsd:any`):
they carry elements the v31.2 WSDL does not name (skills and providers on course data)."""

from __future__ import annotations

from lmsbridge.testing.emulators.workday.soap import BSVC, OPERATIONS

VERSION_ATTRIBUTE = '<xsd:attribute name="version" type="xsd:string"/>'


def el(name: str, type_: str, low: int = 1, high: str = "1") -> str:
    return f'<xsd:element name="{name}" type="{type_}" minOccurs="{low}" maxOccurs="{high}"/>'


def sequence(*children: str, version: bool = False) -> str:
    attribute = VERSION_ATTRIBUTE if version else ""
    return f"<xsd:complexType><xsd:sequence>{''.join(children)}</xsd:sequence>{attribute}</xsd:complexType>"


def nested(name: str, body: str, low: int = 1, high: str = "1") -> str:
    return f'<xsd:element name="{name}" minOccurs="{low}" maxOccurs="{high}">{body}</xsd:element>'


def refs(name: str, low: int = 0, high: str = "1") -> str:
    return el(name, "wd:Reference", low, high)


# Named types shared by the requests.
TYPES = (
    '<xsd:complexType name="ID"><xsd:simpleContent><xsd:extension base="xsd:string">'
    '<xsd:attribute name="type" type="xsd:string"/><xsd:attribute name="parent_id" type="xsd:string"/>'
    '<xsd:attribute name="parent_type" type="xsd:string"/></xsd:extension></xsd:simpleContent>'
    "</xsd:complexType>"
    '<xsd:complexType name="Reference"><xsd:sequence>'
    + el("ID", "wd:ID", 0, "unbounded")
    + '</xsd:sequence><xsd:attribute name="Descriptor" type="xsd:string"/></xsd:complexType>'
    '<xsd:complexType name="Open"><xsd:sequence><xsd:any namespace="##any" processContents="lax" '
    'minOccurs="0" maxOccurs="unbounded"/></xsd:sequence><xsd:anyAttribute processContents="lax"/>'
    "</xsd:complexType>"
    '<xsd:complexType name="Response_Filter"><xsd:sequence>'
    + el("As_Of_Effective_Date", "xsd:date", 0)
    + el("As_Of_Entry_DateTime", "xsd:dateTime", 0)
    + el("Page", "xsd:decimal", 0)
    + el("Count", "xsd:decimal", 0)
    + "</xsd:sequence></xsd:complexType>"
    '<xsd:complexType name="Business_Process_Parameters"><xsd:sequence>'
    + el("Auto_Complete", "xsd:boolean", 0)
    + el("Run_Now", "xsd:boolean", 0)
    + el("Comment_Data", "wd:Open", 0)
    + "</xsd:sequence></xsd:complexType>"
    # Learning_Course_Data (digital and blended courses alike): the v31.2 children lmsbridge
    # writes or a course keeps, in the WSDL's order. Topic_Reference is optional here although
    # the generated code marks it required: a course created without a topic gets Workday's
    # validation answer from a real tenant (see the `course_topic_id` setting).
    '<xsd:complexType name="Learning_Course_Data"><xsd:sequence>'
    + el("ID", "xsd:string", 0)
    + el("Effective_Date", "xsd:date", 0)
    + el("Version_Label", "xsd:string", 0)
    + el("Version_Notes", "xsd:string", 0)
    + el("Inactive", "xsd:boolean", 0)
    + el("Course_Title", "xsd:string")
    + refs("Skill_Level_Reference")
    + el("Description", "xsd:string")
    + el("Course_Number", "xsd:string", 0)
    + refs("Topic_Reference", 0, "unbounded")
    + refs("Security_Category_Reference", 0, "unbounded")
    + nested(
        "Course_Lesson_Data",
        sequence(
            el("Lesson_Order", "xsd:decimal"),
            el("Make_Lesson_Mandatory", "xsd:boolean", 0),
            nested(
                "External_Content_Lesson_Data",
                sequence(
                    el("External_Content_URL", "xsd:string"),
                    el("Learning_Course_Lesson_Title", "xsd:string"),
                    el("External_Content_Description", "xsd:string", 0),
                ),
                0,
            ),
        ),
        0,
        "unbounded",
    )
    + "</xsd:sequence></xsd:complexType>"
    '<xsd:complexType name="Learning_Enrollment_Data"><xsd:sequence>'
    + el("ID", "xsd:string", 0)
    + refs("Learning_Content_Reference", 1)
    + refs("Learner_Reference", 1)
    + el("Registered_Date", "xsd:date", 0)
    + el("Learning_Enrollment_Completion_Date", "xsd:dateTime", 0)
    + el("Overall_Course_Score", "xsd:decimal", 0)
    + refs("Learning_Grade_Reference")
    + refs("Attendance_Status_Reference")
    + el("Version_Label", "xsd:string", 0)
    + el("Expiration_Date", "xsd:date", 0)
    + el("Rescind_Enrollment", "xsd:boolean", 0)
    + "</xsd:sequence></xsd:complexType>"
    '<xsd:complexType name="Enroll_In_Learning_Course_Data"><xsd:sequence>'
    + refs("Learning_Course_Reference", 1)
    + refs("Learner_Reference", 1)
    + "</xsd:sequence></xsd:complexType>"
)


def get_request(reference: str, criteria: str = "", group: str = "") -> str:
    """A Get_ request: Request_References, Request_Criteria, Response_Filter, Response_Group."""
    return sequence(
        nested("Request_References", sequence(refs(reference, 1, "unbounded")), 0),
        nested("Request_Criteria", sequence(criteria), 0),
        el("Response_Filter", "wd:Response_Filter", 0),
        nested("Response_Group", sequence(group), 0),
        version=True,
    )


COURSE_GROUP = el("Exclude_Course_Image_Data", "xsd:boolean", 0)
REQUESTS = {
    "Get_Workers": get_request(
        "Worker_Reference",
        nested(
            "Transaction_Log_Criteria_Data",
            sequence(
                nested(
                    "Transaction_Date_Range_Data",
                    sequence(el("Updated_From", "xsd:dateTime", 0), el("Updated_Through", "xsd:dateTime", 0)),
                    0,
                )
            ),
            0,
        ),
    ),
    "Get_Learning_Digital_Courses": get_request("Learning_Digital_Course_Reference", group=COURSE_GROUP),
    "Get_Learning_Blended_Courses": get_request("Learning_Blended_Course_Reference", group=COURSE_GROUP),
    "Get_Learning_Enrollments": get_request(
        "Learning_Enrollment_Reference", el("Imported", "xsd:boolean", 0)
    ),
    "Manage_Learning_Course": sequence(
        nested(
            "Manage_Learning_Course_Data",
            "<xsd:complexType><xsd:choice>"
            + nested(
                "Put_Learning_Blended_Course_Request",
                sequence(
                    refs("Learning_Blended_Course_Reference"),
                    el("Learning_Course_Data", "wd:Learning_Course_Data"),
                ),
            )
            + nested(
                "Put_Learning_Digital_Course_Request",
                sequence(
                    refs("Learning_Digital_Course_Reference"),
                    el("Learning_Digital_Course_Data", "wd:Learning_Course_Data"),
                ),
            )
            + "</xsd:choice></xsd:complexType>",
        ),
        el("Business_Process_Parameters", "wd:Business_Process_Parameters", 0),
        version=True,
    ),
    "Put_Learning_Enrollment": sequence(
        refs("Learning_Enrollment_Reference"),
        el("Learning_Enrollment_Data", "wd:Learning_Enrollment_Data"),
        version=True,
    ),
    "Enroll_In_Learning_Course": sequence(
        el("Business_Process_Parameters", "wd:Business_Process_Parameters", 0),
        el("Enroll_In_Learning_Course_Data", "wd:Enroll_In_Learning_Course_Data"),
        version=True,
    ),
    # v44's successor wraps the v31.2 data in Enroll_In_Learning_Content_Data (reference 3.5).
    "Enroll_In_Learning_Content": sequence(
        el("Business_Process_Parameters", "wd:Business_Process_Parameters", 0),
        nested(
            "Enroll_In_Learning_Content_Data",
            sequence(el("Enroll_In_Learning_Course_Data", "wd:Enroll_In_Learning_Course_Data")),
        ),
        version=True,
    ),
}
OPEN_RESPONSE = (
    '<xsd:complexType><xsd:sequence><xsd:any namespace="##any" processContents="lax" minOccurs="0" '
    f'maxOccurs="unbounded"/></xsd:sequence>{VERSION_ATTRIBUTE}</xsd:complexType>'
)


def schema(service: str) -> str:
    """The `xsd:schema` of a service's WSDL (its requests typed, its responses open)."""
    ops = sorted(OPERATIONS.get(service, {}))
    elements = "".join(
        f'<xsd:element name="{op}_Request">{REQUESTS[op]}</xsd:element>'
        f'<xsd:element name="{op}_Response">{OPEN_RESPONSE}</xsd:element>'
        for op in ops
    )
    return (
        f'<xsd:schema targetNamespace="{BSVC}" xmlns:wd="{BSVC}" '
        'xmlns:xsd="http://www.w3.org/2001/XMLSchema" elementFormDefault="qualified" '
        f'attributeFormDefault="qualified">{TYPES}{elements}</xsd:schema>'
    )


def wsdl(service: str, address: str, version: str) -> str:
    """A document/literal WSDL naming the operations served."""
    ops = sorted(OPERATIONS.get(service, {}))
    messages = "".join(
        f'<wsdl:message name="{op}_{part}"><wsdl:part name="body" element="wd:{op}_{part}"/></wsdl:message>'
        for op in ops
        for part in ("Request", "Response")
    )
    port_ops = "".join(
        f'<wsdl:operation name="{op}"><wsdl:input message="wd:{op}_Request"/>'
        f'<wsdl:output message="wd:{op}_Response"/></wsdl:operation>'
        for op in ops
    )
    binding_ops = "".join(
        f'<wsdl:operation name="{op}"><soap:operation soapAction=""/>'
        '<wsdl:input><soap:body use="literal"/></wsdl:input>'
        '<wsdl:output><soap:body use="literal"/></wsdl:output>'
        "</wsdl:operation>"
        for op in ops
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<wsdl:definitions name="{service}" targetNamespace="{BSVC}" xmlns:wd="{BSVC}" '
        'xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/" xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/" '
        'xmlns:xsd="http://www.w3.org/2001/XMLSchema">'
        f"<wsdl:documentation>Workday Web Services {service} {version} (operations served by the "
        "lmsbridge emulator)</wsdl:documentation>"
        f"<wsdl:types>{schema(service)}</wsdl:types>"
        f'{messages}<wsdl:portType name="{service}PortType">{port_ops}</wsdl:portType>'
        f'<wsdl:binding name="{service}Binding" type="wd:{service}PortType">'
        '<soap:binding style="document" transport="http://schemas.xmlsoap.org/soap/http"/>'
        f"{binding_ops}</wsdl:binding>"
        f'<wsdl:service name="{service}Service"><wsdl:port name="{service}" binding="wd:{service}Binding">'
        f'<soap:address location="{address}"/></wsdl:port></wsdl:service></wsdl:definitions>'
    )
