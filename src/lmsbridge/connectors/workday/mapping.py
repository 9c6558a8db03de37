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


def user(raw: ET.Element) -> UserRecord:
    data = raw.find("wd:Worker_Data", NS)
    name = "wd:Personal_Data/wd:Name_Data/wd:Legal_Name_Data/wd:Name_Detail_Data/"
    active = raw.findtext("wd:Worker_Data/wd:Employment_Data/wd:Worker_Status_Data/wd:Active", "", NS)
    employee_id = first_id(raw, "Worker_Reference", "Employee_ID") or (
        data.findtext("wd:Worker_ID", "", NS) if data is not None else ""
    )
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


def course(raw: ET.Element) -> CourseRecord:
    data = course_data(raw)
    course_wid = first_id(raw, None, "WID")
    version = data.findtext("wd:Version_Label", "", NS) or ""
    created = moment(data.findtext("wd:Created_Moment", None, NS))
    found = provider(raw)
    inactive = data.findtext("wd:Inactive", "0", NS) in ("1", "true")
    return CourseRecord(
        remote_id=course_wid,
        origin_id=data.findtext("wd:Learning_Course_ID", None, NS),
        provider_remote_id=found.remote_id if found else None,
        remote_created_at=created,
        revisions=(
            RevisionRecord(
                remote_id=revision_id(course_wid, version),
                title=data.findtext("wd:Course_Title", None, NS),
                description=data.findtext("wd:Description", None, NS) or None,
                remote_url=data.findtext("wd:External_Content_URL", None, NS) or None,
                status="INACTIVE" if inactive else "ACTIVE",
                remote_created_at=created,
                skill_remote_ids=tuple(s.remote_id for s in skills(raw)),
                remote_data={"Version_Label": version, "kind": raw.tag.split("}")[-1]},
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
