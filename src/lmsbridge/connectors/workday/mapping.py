"""Workday's SOAP answers as lmsbridge records. Users are workers keyed by Employee_ID; courses
by WID, their `Learning_Course_ID` the origin id, and one revision per `Version_Label`
(`{WID}:{label}`); skills and providers are the references tagged on course data; a learning
enrollment is COMPLETED when it has a completion date, DROPPED when rescinded, ENROLLED
otherwise (Workday's enrollment has no progress of its own)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from typing import Any

from lmsbridge.connectors.records import (
    CourseRecord,
    ProgressionRecord,
    ProviderRecord,
    RemoteField,
    RevisionRecord,
    SkillRecord,
    UserRecord,
)
from lmsbridge.connectors.workday.client import BSVC, NS, first_id


def flat(node: ET.Element) -> dict[str, Any]:
    """An element as nested dicts for remote_data (names without namespace; repeated names listed)."""
    out: dict[str, Any] = {}
    for child in node:
        name = child.tag.split("}")[-1]
        value: Any = flat(child) if len(child) else (child.text or "").strip()
        if child.get(f"{{{BSVC}}}type"):
            value = {"type": child.get(f"{{{BSVC}}}type"), "value": value}
        if child.get(f"{{{BSVC}}}Descriptor"):
            value = {
                "Descriptor": child.get(f"{{{BSVC}}}Descriptor"),
                **(value if isinstance(value, dict) else {}),
            }
        if name in out:
            out[name] = [*out[name], value] if isinstance(out[name], list) else [out[name], value]
        else:
            out[name] = value
    return out


def moment(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def custom_ids(data: ET.Element | None) -> list[tuple[str, str, str]]:
    """The worker's Custom IDs, the fields a Workday customer defines for workers (Maintain Custom
    ID Types): (type id, type name, value) from `Personal_Data/Identification_Data/Custom_ID/
    Custom_ID_Data` (`ID`, `ID_Type_Reference`)."""
    out = []
    path = "wd:Personal_Data/wd:Identification_Data/wd:Custom_ID/wd:Custom_ID_Data"
    for found in data.findall(path, NS) if data is not None else ():
        value = (found.findtext("wd:ID", "", NS) or "").strip()
        kind = found.find("wd:ID_Type_Reference", NS)
        type_id = first_id(found, "ID_Type_Reference") if kind is not None else ""
        label = kind.get(f"{{{BSVC}}}Descriptor") if kind is not None else None
        if value and type_id:
            out.append((type_id, label or type_id, value))
    return out


def worker_fields(data: ET.Element | None) -> tuple[dict[str, Any] | None, tuple[RemoteField, ...]]:
    """`custom_fields` (each Custom ID by its type's name, the value as Workday gives it) and
    `integration_fields` (the worker's fields outside the unified user: its Workday user name, a
    DEFAULT field, and each Custom ID type it carries, CUSTOM; the contract allows no value)."""
    ids = custom_ids(data)
    fields = (
        [RemoteField("User_ID", "DEFAULT", "User Name")]
        if data is not None and data.find("wd:User_ID", NS) is not None
        else []
    )
    fields += [RemoteField(f"Custom_ID/{type_id}", "CUSTOM", label) for type_id, label, _ in ids]
    return ({label: value for _, label, value in ids} or None), tuple(fields)


def user(raw: ET.Element) -> UserRecord:
    data = raw.find("wd:Worker_Data", NS)
    name = "wd:Personal_Data/wd:Name_Data/wd:Legal_Name_Data/wd:Name_Detail_Data/"
    active = raw.findtext("wd:Worker_Data/wd:Employment_Data/wd:Worker_Status_Data/wd:Active", "", NS)
    employee_id = first_id(raw, "Worker_Reference", "Employee_ID") or (
        data.findtext("wd:Worker_ID", "", NS) if data is not None else ""
    )
    custom_fields, integration_fields = worker_fields(data)
    return UserRecord(
        remote_id=employee_id,
        first_name=data.findtext(name + "wd:First_Name", None, NS) if data is not None else None,
        last_name=data.findtext(name + "wd:Last_Name", None, NS) if data is not None else None,
        work_email=data.findtext(
            "wd:Personal_Data/wd:Contact_Data/wd:Email_Address_Data/wd:Email_Address", None, NS
        )
        if data is not None
        else None,
        status="ACTIVE" if active in ("1", "true") else "INACTIVE",
        remote_data=flat(raw),
        custom_fields=custom_fields,
        integration_fields=integration_fields,
    )


def course_data(raw: ET.Element) -> ET.Element:
    found = next((child for child in raw if child.tag.endswith("_Course_Data")), None)
    if found is None:
        raise ValueError("a learning course without its data")
    return found


def skills(raw: ET.Element) -> list[SkillRecord]:
    out = []
    for ref in course_data(raw).findall("wd:Skill_Item_Reference", NS):
        skill_id = next((i.text or "" for i in ref.findall("wd:ID", NS)), "")
        if skill_id:
            out.append(
                SkillRecord(
                    remote_id=skill_id, name=ref.get(f"{{{BSVC}}}Descriptor"), remote_data=flat_ref(ref)
                )
            )
    return out


def provider(raw: ET.Element) -> ProviderRecord | None:
    ref = course_data(raw).find("wd:Content_Provider_Reference", NS)
    if ref is None:
        return None
    provider_id = next((i.text or "" for i in ref.findall("wd:ID", NS)), "")
    name = ref.get(f"{{{BSVC}}}Descriptor")
    return (
        ProviderRecord(remote_id=provider_id, name=name, remote_data=flat_ref(ref)) if provider_id else None
    )


def flat_ref(ref: ET.Element) -> dict[str, Any]:
    return {
        "Descriptor": ref.get(f"{{{BSVC}}}Descriptor"),
        "ID": [{"type": i.get(f"{{{BSVC}}}type"), "value": i.text} for i in ref.findall("wd:ID", NS)],
    }


def revision_id(course_wid: str, version: str) -> str:
    return f"{course_wid}:{version or '1'}"


def kind_of(raw: ET.Element) -> str:
    """Digital or Blended, from the row's reference (`Learning_Digital_Course_Reference` in
    Get_Learning_Digital_Courses, `Learning_Blended_Course_Reference` in Get_Learning_Blended_Courses)."""
    return "Blended" if len(raw) and raw[0].tag.endswith("Learning_Blended_Course_Reference") else "Digital"


def course_url(data: ET.Element) -> str | None:
    """The link of the course's first external-content lesson."""
    path = "wd:Course_Lesson_Data/wd:External_Content_Lesson_Data/wd:External_Content_URL"
    return (data.findtext(path, "", NS) or "").strip() or None


def course(raw: ET.Element) -> CourseRecord:
    data = course_data(raw)
    course_wid = first_id(raw, None, "WID")
    version = data.findtext("wd:Version_Label", "", NS) or ""
    found = provider(raw)
    inactive = data.findtext("wd:Inactive", "0", NS) in ("1", "true")
    return CourseRecord(
        remote_id=course_wid,
        origin_id=data.findtext("wd:ID", None, NS) or first_id(raw, None, "Learning_Course_ID") or None,
        provider_remote_id=found.remote_id if found else None,
        revisions=(
            RevisionRecord(
                remote_id=revision_id(course_wid, version),
                title=data.findtext("wd:Course_Title", None, NS),
                description=data.findtext("wd:Description", None, NS) or None,
                remote_url=course_url(data),
                status="INACTIVE" if inactive else "ACTIVE",
                # The version's effective date: the day this revision took effect.
                remote_created_at=moment(data.findtext("wd:Effective_Date", None, NS)),
                skill_remote_ids=tuple(s.remote_id for s in skills(raw)),
                remote_data={"Version_Label": version, "kind": kind_of(raw)},
            ),
        ),
        remote_data=flat(raw),
    )


def progression(raw: ET.Element) -> ProgressionRecord:
    data = raw.find("wd:Learning_Enrollment_Data", NS)
    assert data is not None
    course_wid = first_id(data, "Learning_Content_Reference", "WID")
    completed = moment(data.findtext("wd:Learning_Enrollment_Completion_Date", None, NS))
    rescinded = data.findtext("wd:Rescind_Enrollment", "0", NS) in ("1", "true")
    status = "DROPPED" if rescinded else "COMPLETED" if completed else "ENROLLED"
    return ProgressionRecord(
        remote_id=first_id(raw, "Learning_Enrollment_Reference", "WID"),
        user_remote_id=first_id(data, "Learner_Reference"),
        revision_remote_id=revision_id(course_wid, data.findtext("wd:Version_Label", "", NS) or ""),
        course_remote_id=course_wid,
        status=status,
        enrolled_at=moment(data.findtext("wd:Registered_Date", None, NS)),
        completed_at=completed if status == "COMPLETED" else None,
        remote_data=flat(raw),
    )
