"""Every query of the read endpoints, and the records in the contract's shapes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Select, Table, false, func, select

from lmsbridge.clock import to_wire
from lmsbridge.db import tables as t
from lmsbridge.ids import derived_id
from lmsbridge.records.listing import ListQuery

if TYPE_CHECKING:
    from lmsbridge.records.registry import ModelSpec


def _wire_common(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "remote_id": row.remote_id,
        "changed_at": to_wire(row.changed_at),
        "remote_deleted_at": to_wire(row.remote_deleted_at),
        "remote_data": row.remote_data,
    }


def _extras() -> dict[str, Any]:
    return {"custom_fields": None, "integration_fields": []}


def integration_fields(integration_id: str, stored: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """Stored `{key, type, label}`s in the contract's shape: the id is the field's, the same for
    every record of the integration (derived from its key), and `value` is null, the only value
    the contract's schema allows."""
    return [
        {
            "id": derived_id(integration_id, "integration_field", f["key"]),
            "key": f["key"],
            "type": f["type"],
            "value": None,
            "label": f.get("label"),
        }
        for f in stored or ()
    ]


def users(_: Connection, rows: list[Any], __: bool) -> list[dict[str, Any]]:
    return [
        {
            **_wire_common(r),
            "first_name": r.first_name,
            "last_name": r.last_name,
            "work_email": r.work_email,
            "status": r.status,
            "remote_created_at": to_wire(r.remote_created_at),
            "custom_fields": r.custom_fields,
            "integration_fields": integration_fields(r.integration_id, r.integration_fields),
        }
        for r in rows
    ]


def lms_skills(_: Connection, rows: list[Any], __: bool) -> list[dict[str, Any]]:
    return [
        {**_wire_common(r), "name": r.name, "remote_created_at": to_wire(r.remote_created_at), **_extras()}
        for r in rows
    ]


def hris_skills(_: Connection, rows: list[Any], __: bool) -> list[dict[str, Any]]:
    return [
        {
            "id": r.id,
            "remote_id": r.remote_id,
            "name": r.name or "",
            "description": r.description,
            "ordered_levels": r.ordered_levels,
            "changed_at": to_wire(r.changed_at),
            "remote_deleted_at": to_wire(r.remote_deleted_at),
            "remote_data": r.remote_data,
        }
        for r in rows
    ]


def courses(conn: Connection, rows: list[Any], include_deleted: bool) -> list[dict[str, Any]]:
    """Courses with their provider and revisions, each revision with its skill assignments."""
    if not rows:
        return []
    revisions_t, providers_t, skills_t = t.lms_course_revisions, t.lms_course_providers, t.lms_skills
    query = (
        select(revisions_t)
        .where(revisions_t.c.course_id.in_([r.id for r in rows]))
        .order_by(revisions_t.c.id)
    )
    if not include_deleted:
        query = query.where(revisions_t.c.remote_deleted_at.is_(None))
    revisions: dict[str, list[Any]] = {}
    skill_ids: set[str] = set()
    for revision in conn.execute(query):
        revisions.setdefault(revision.course_id, []).append(revision)
        skill_ids.update(revision.skill_ids or ())
    provider_ids = {r.provider_id for r in rows if r.provider_id}
    providers = (
        {
            p.id: p
            for p in conn.execute(
                select(providers_t.c.id, providers_t.c.remote_id, providers_t.c.name).where(
                    providers_t.c.id.in_(provider_ids)
                )
            )
        }
        if provider_ids
        else {}
    )
    # A skill the LMS deleted is no longer assigned, whatever the revision last said.
    skills = (
        {
            s.id: s
            for s in conn.execute(
                select(skills_t.c.id, skills_t.c.remote_id, skills_t.c.name).where(
                    skills_t.c.id.in_(skill_ids), skills_t.c.remote_deleted_at.is_(None)
                )
            )
        }
        if skill_ids
        else {}
    )
    return [
        {
            **_wire_common(r),
            "provider_id": r.provider_id,
            "origin_id": r.origin_id,
            "remote_created_at": to_wire(r.remote_created_at),
            **_extras(),
            "provider": (
                {"id": p.id, "remote_id": p.remote_id, "name": p.name}
                if (p := providers.get(r.provider_id)) is not None
                else None
            ),
            "revisions": [_revision(v, skills) for v in revisions.get(r.id, [])],
        }
        for r in rows
    ]


def _revision(v: Any, skills: dict[str, Any]) -> dict[str, Any]:
    return {
        **_wire_common(v),
        "course_id": v.course_id,
        "title": v.title,
        "description": v.description,
        "remote_url": v.remote_url,
        "status": v.status,
        "remote_created_at": to_wire(v.remote_created_at),
        **_extras(),
        "skill_assignments": [
            {"skill": {"id": s.id, "remote_id": s.remote_id, "name": s.name}}
            for skill_id in v.skill_ids or ()
            if (s := skills.get(skill_id)) is not None
        ],
    }


def progressions_query(table: Table) -> Select[Any]:
    users_t, revisions_t = t.lms_users, t.lms_course_revisions
    return (
        select(
            table,
            users_t.c.first_name.label("u_first_name"),
            users_t.c.last_name.label("u_last_name"),
            users_t.c.work_email.label("u_work_email"),
            revisions_t.c.title.label("r_title"),
        )
        .select_from(table)
        .outerjoin(users_t, users_t.c.id == table.c.user_id)
        .outerjoin(revisions_t, revisions_t.c.id == table.c.course_revision_id)
    )


def progression(r: Any) -> dict[str, Any]:
    return {
        **_wire_common(r),
        "user_id": r.user_id,
        "course_revision_id": r.course_revision_id,
        "status": r.status,
        "enrolled_at": to_wire(r.enrolled_at),
        "completed_at": to_wire(r.completed_at),
        "user": {
            "id": r.user_id,
            "remote_id": r.user_remote_id,
            "first_name": r.u_first_name,
            "last_name": r.u_last_name,
            "work_email": r.u_work_email,
        },
        "course_revision": {
            "id": r.course_revision_id,
            "remote_id": r.revision_remote_id,
            "title": r.r_title,
            "course": {"id": r.course_id, "remote_id": r.course_remote_id} if r.course_id else None,
        },
    }


def progressions(_: Connection, rows: list[Any], __: bool) -> list[dict[str, Any]]:
    return [progression(r) for r in rows]


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def list_page(
    conn: Connection, spec: ModelSpec, integration_id: str, query: ListQuery, unsupported: set[str]
) -> tuple[list[Any], bool]:
    """One page of rows in id order, and whether more follow."""
    table = spec.table
    stmt = spec.paged_query(table) if spec.paged_query else select(table)
    stmt = stmt.where(table.c.integration_id == integration_id)
    if query.after is not None:
        stmt = stmt.where(table.c.id > query.after)
    if not query.include_deleted:
        stmt = stmt.where(table.c.remote_deleted_at.is_(None))
    if query.updated_after is not None:
        stmt = stmt.where(table.c.updated_stamp >= query.updated_after)
    for name, values in query.filters.items():
        spec_filter = spec.filters[name]
        if name in unsupported:
            if query.ignore_unsupported:
                continue
            stmt = stmt.where(false())  # a filter on a field the tool lacks matches nothing
            continue
        column = table.c[spec_filter.column]
        if spec_filter.column == "remote_id":
            # A record's id is derived from its integration, model and remote id: the primary key
            # answers a remote-id filter (progressions keep no remote-id index).
            stmt = stmt.where(table.c.id.in_([derived_id(integration_id, spec.name, v) for v in values]))
        elif spec_filter.contains:
            stmt = stmt.where(func.lower(column).like(f"%{_escape_like(values[0].lower())}%", escape="\\"))
        else:
            stmt = stmt.where(column.in_([v.lower() for v in values] if spec_filter.lower else list(values)))
    rows = list(conn.execute(stmt.order_by(table.c.id).limit(query.page_size + 1)))
    return rows[: query.page_size], len(rows) > query.page_size


def remote_id_by_id(conn: Connection, table: Table, integration_id: str, record_id: str) -> str | None:
    found = conn.scalar(
        select(table.c.remote_id).where(table.c.id == record_id, table.c.integration_id == integration_id)
    )
    return None if found is None else str(found)


def progression_by_remote_id(conn: Connection, integration_id: str, remote_id: str) -> dict[str, Any] | None:
    table = t.lms_course_progressions
    record_id = derived_id(integration_id, table.name, remote_id)  # see list_page
    row = conn.execute(
        progressions_query(table).where(table.c.integration_id == integration_id, table.c.id == record_id)
    ).first()
    return None if row is None else progression(row)


def course_by_remote_id(conn: Connection, integration_id: str, remote_id: str) -> dict[str, Any] | None:
    table = t.lms_courses
    row = conn.execute(
        select(table).where(table.c.integration_id == integration_id, table.c.remote_id == remote_id)
    ).first()
    return None if row is None else courses(conn, [row], False)[0]


def has_records(conn: Connection, table: Table, integration_id: str) -> bool:
    """Whether the integration has any record in the table, deleted ones included."""
    found = conn.scalar(select(table.c.id).where(table.c.integration_id == integration_id).limit(1))
    return found is not None


def live_id_chunks(
    conn: Connection, table: Table, integration_id: str, after: str | None, size: int = 10_000
) -> list[str]:
    """Up to `size` ids of the integration's records not marked deleted, in id order after `after`."""
    query = select(table.c.id).where(
        table.c.integration_id == integration_id, table.c.remote_deleted_at.is_(None)
    )
    if after is not None:
        query = query.where(table.c.id > after)
    return list(conn.scalars(query.order_by(table.c.id).limit(size)))


def cursor_key(conn: Connection) -> bytes:
    """The instance's key that signs list cursors."""
    key = conn.scalar(select(t.instance_settings.c.value).where(t.instance_settings.c.name == "cursor_key"))
    return bytes.fromhex(str(key))
