"""The `$metadata` (OData v4 CSDL) of every service the emulator serves. Each entity type lists
exactly the properties the emulator's rows carry (a test checks answers against it), with the
types of the vendor-specs schemas (epoch milliseconds as Edm.Int64, revisionNumber a string);
the OCN course's localized texts and content rows are complex types (reference 1.5). The post
services answer with what they received, `shaped` to the declared properties."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape

S, I64, B, D = "Edm.String", "Edm.Int64", "Edm.Boolean", "Edm.Double"


@dataclass(frozen=True)
class EntitySet:
    service: str  # path under /learning/odatav4/
    name: str
    entity: str
    keys: tuple[str, ...]
    properties: dict[str, str]
    complex_types: dict[str, dict[str, str]] = field(default_factory=dict)


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
# OCN's course body (reference 1.5): localized texts and content rows are complex types.
LOCALE_TEXT = {"locale": S, "value": S}
OCN_CONTENT = {
    "providerID": S, "launchURL": S, "contentTitle": S, "contentID": S, "launchType": I64, "mobileEnabled": B,
}  # fmt: skip
OCN_COURSE = {
    "courseID": S, "providerID": S, "status": S, "title": "Collection(LocaleText)",
    "description": "Collection(LocaleText)", "thumbnailURI": S, "content": "Collection(OcnContent)",
    "revisionNumber": I64,
}  # fmt: skip
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
    EntitySet(
        "public/admin/ocn/v1",
        "OcnCourses",
        "OcnCourse",
        ("courseID",),
        OCN_COURSE,
        {"LocaleText": LOCALE_TEXT, "OcnContent": OCN_CONTENT},
    ),
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


def complex_type(kind: str) -> str | None:
    """The complex type a property holds a collection of (`Collection(LocaleText)`), or None."""
    if kind.startswith("Collection(") and not kind.startswith("Collection(Edm."):
        return kind[len("Collection(") : -1]
    return None


def shaped(entity_set: EntitySet, row: dict[str, Any]) -> dict[str, Any]:
    """A received body as the service answers it: exactly the declared properties (null when
    absent), complex collections reduced to their declared properties the same way."""

    def reduce(properties: dict[str, str], source: Any) -> dict[str, Any]:
        source = source if isinstance(source, dict) else {}
        out: dict[str, Any] = {}
        for name, kind in properties.items():
            value = source.get(name)
            inner = complex_type(kind)
            if inner is not None and isinstance(value, list):
                value = [reduce(entity_set.complex_types[inner], v) for v in value]
            out[name] = value
        return out

    return reduce(entity_set.properties, row)


def _properties(properties: dict[str, str], keys: tuple[str, ...], ns: str) -> str:
    def typed(kind: str) -> str:
        inner = complex_type(kind)
        return f"Collection({ns}.{inner})" if inner is not None else kind

    return "".join(
        f'<Property Name="{escape(name)}" Type="{typed(kind)}" Nullable="{str(name not in keys).lower()}"/>'
        for name, kind in properties.items()
    )


def csdl(entity_set: EntitySet) -> str:
    ns = namespace(entity_set)
    keys = "".join(f'<PropertyRef Name="{k}"/>' for k in entity_set.keys)
    props = _properties(entity_set.properties, entity_set.keys, ns)
    complex_types = "".join(
        f'<ComplexType Name="{name}">{_properties(properties, (), ns)}</ComplexType>'
        for name, properties in entity_set.complex_types.items()
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<edmx:Edmx xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx" Version="4.0">'
        "<edmx:DataServices>"
        f'<Schema xmlns="http://docs.oasis-open.org/odata/ns/edm" Namespace="{ns}">'
        f"{complex_types}"
        f'<EntityType Name="{entity_set.entity}"><Key>{keys}</Key>{props}</EntityType>'
        f'<EntityContainer Name="EntityContainer">'
        f'<EntitySet Name="{entity_set.name}" EntityType="{ns}.{entity_set.entity}"/>'
        "</EntityContainer></Schema></edmx:DataServices></edmx:Edmx>"
    )
