"""The `$metadata` (OData v4 CSDL) of every service the emulator serves. Each entity type lists
exactly the properties the emulator's rows carry (a test checks answers against it), with the
types of the vendor-specs schemas (epoch milliseconds as Edm.Int64, revisionNumber a string)."""

from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import escape

S, I64, B, D = "Edm.String", "Edm.Int64", "Edm.Boolean", "Edm.Double"


@dataclass(frozen=True)
class EntitySet:
    service: str  # path under /learning/odatav4/
    name: str
    entity: str
    keys: tuple[str, ...]
    properties: dict[str, str]


STUDENT = {
    "studentID": S, "personGUID": S, "personExternalID": S, "firstName": S, "middleName": S, "lastName": S,
    "emailAddr": S, "notActive": S, "hireDate": I64, "termDate": I64, "domainID": S, "profileStatus": S,
}  # fmt: skip
ITEM = {
    "itemID": S, "itemTypeID": S, "itemTitle": S, "Descr": S, "classificationID": S, "Provider": S,
    "revisionDate": I64, "revisionNumber": S, "sourceID": S, "domainID": S, "active": B, "createDate": I64,
}  # fmt: skip
TODO = {
    "componentTypeID": S, "componentID": S, "revisionDate": I64, "revisionNumber": S, "title": S,
    "assignedDate": I64, "requiredDate": I64, "daysRemaining": I64, "addUser": S, "origin": S,
    "isRequired": B,
}  # fmt: skip
HISTORY = {
    "componentTypeID": S, "componentID": S, "revisionDate": I64, "revisionNumber": S, "title": S,
    "completionStatusID": S, "grade": S, "totalHours": D, "creditHours": D, "completionDate": I64,
    "lastCompletionDate": I64, "lastUpdateTimestamp": I64, "studentComponentID": I64, "componentKey": S,
}  # fmt: skip
OCN_COURSE = {"courseID": S, "providerID": S, "status": S, "thumbnailURI": S, "revisionNumber": I64}
OCN_EVENT = {
    "userID": S, "courseID": S, "providerID": S, "courseCompleted": B, "completedTimestamp": I64,
    "completionStatusID": S, "grade": S, "totalHours": D, "creditHours": D,
}  # fmt: skip

COMPONENT_KEYS = ("componentTypeID", "componentID", "revisionDate")
SETS = (
    EntitySet("searchStudent/v1", "Students", "Student", ("studentID",), STUDENT),
    EntitySet("public/admin/searchItem/v1", "Items", "Item", ("itemTypeID", "itemID"), ITEM),
    EntitySet(
        "public/user/learningplan-service/v1",
        "UserTodoLearningItems",
        "UserTodoLearningItem",
        COMPONENT_KEYS,
        TODO,
    ),
    EntitySet(
        "public/user/userlearning-service/v1", "learninghistorys", "learninghistory", COMPONENT_KEYS, HISTORY
    ),
    EntitySet("public/admin/ocn/v1", "OcnCourses", "OcnCourse", ("courseID",), OCN_COURSE),
    EntitySet(
        "public/admin/learningevent-service/v1",
        "OCNLearningEvents",
        "OCNLearningEvent",
        ("userID", "courseID"),
        OCN_EVENT,
    ),
)
BY_SERVICE = {s.service: s for s in SETS}


def namespace(entity_set: EntitySet) -> str:
    return "com.sap.hana.lms." + entity_set.service.replace("/", ".").replace("-", "")


def csdl(entity_set: EntitySet) -> str:
    ns = namespace(entity_set)
    keys = "".join(f'<PropertyRef Name="{k}"/>' for k in entity_set.keys)
    props = "".join(
        f'<Property Name="{escape(name)}" Type="{kind}" Nullable="{nullable}"/>'
        for name, kind in entity_set.properties.items()
        for nullable in [str(name not in entity_set.keys).lower()]
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<edmx:Edmx xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx" Version="4.0">'
        "<edmx:DataServices>"
        f'<Schema xmlns="http://docs.oasis-open.org/odata/ns/edm" Namespace="{ns}">'
        f'<EntityType Name="{entity_set.entity}"><Key>{keys}</Key>{props}</EntityType>'
        f'<EntityContainer Name="EntityContainer">'
        f'<EntitySet Name="{entity_set.name}" EntityType="{ns}.{entity_set.entity}"/>'
        "</EntityContainer></Schema></edmx:DataServices></edmx:Edmx>"
    )
