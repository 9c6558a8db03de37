"""HTTP routes of the synced reads."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy import select

from lmsbridge.api.deps import IntegrationDep, store_of
from lmsbridge.api.responses import ERRORS, success
from lmsbridge.connectors.base import READ_MODEL_LABELS
from lmsbridge.connectors.registry import connector_class
from lmsbridge.db import Store
from lmsbridge.db.tables import instance_settings
from lmsbridge.errors import ModelNotAvailableError
from lmsbridge.reads.listing import (
    CursorCodec,
    ListQuery,
    fingerprint,
    parse_bool,
    parse_page_size,
    parse_updated_after,
    split_list,
)
from lmsbridge.reads.repository import ENDPOINTS, list_page
from lmsbridge.syncs.service import require_first_sync
from lmsbridge.syncs.stamps import pass_barrier, share_barrier

router = APIRouter()


@lru_cache(maxsize=8)
def _codec(store: Store) -> CursorCodec:
    with store.read() as conn:
        key = conn.scalar(select(instance_settings.c.value).where(instance_settings.c.name == "cursor_key"))
    return CursorCodec(bytes.fromhex(str(key)))


def list_records(request: Request, integration: Any, name: str) -> Response:
    endpoint = ENDPOINTS[name]
    caps = connector_class(integration.tool).capabilities
    if not caps.reads(name):
        label = connector_class(integration.tool).label
        raise ModelNotAvailableError(
            f'The "{READ_MODEL_LABELS[name]}" model is not available for {label} integrations.'
        )
    params = dict(request.query_params)
    store = store_of(request)
    codec = _codec(store)
    bound_to = fingerprint(name, integration.id, params)
    filters: dict[str, tuple[str, ...]] = {}
    for param, spec in endpoint.filters.items():
        if param not in params:
            continue
        values = (params[param],) if spec.contains else split_list(params[param])
        if any(values):  # an empty filter (`ids=`) is no filter, as an absent one is
            filters[param] = values
    query = ListQuery(
        page_size=parse_page_size(params.get("page_size")),
        after=codec.decode(params["cursor"], bound_to) if params.get("cursor") else None,
        updated_after=parse_updated_after(params.get("updated_after")),
        include_deleted=parse_bool("include_deleted", params.get("include_deleted")),
        ignore_unsupported=parse_bool("ignore_unsupported_filters", params.get("ignore_unsupported_filters")),
        filters=filters,
    )
    unsupported = {
        p for p, spec in endpoint.filters.items() if spec.field and not caps.has_field(name, spec.field)
    }
    pass_barrier(store)
    with store.read() as conn:
        share_barrier(conn, integration.id)
        require_first_sync(conn, integration.id)
        rows, more = list_page(conn, endpoint, integration.id, query, unsupported)
        results = endpoint.serialize(conn, rows, query.include_deleted)
    return success({"next": codec.encode(rows[-1].id, bound_to) if more else None, "results": results})


_COMMON = (
    "Pages with `cursor` (send the same filters with every page), `page_size` 1 to 250 (default 100), "
    "`updated_after`, `include_deleted`, `ignore_unsupported_filters`, `ids`, `remote_ids`."
)


@router.get(
    "/lms/users", summary="Get users", responses=ERRORS, tags=["Unified LMS API"], description=_COMMON
)
def get_users(
    request: Request,
    integration: IntegrationDep,
    cursor: str | None = Query(None),
    page_size: str | None = Query(None),
    updated_after: str | None = Query(None),
    include_deleted: str | None = Query(None),
    ignore_unsupported_filters: str | None = Query(None),
    ids: str | None = Query(None),
    remote_ids: str | None = Query(None),
    work_emails: str | None = Query(None, description="Comma-separated, case-insensitive."),
) -> Response:
    """Learners who can enroll in and complete courses."""
    return list_records(request, integration, "lms_users")


@router.get(
    "/lms/courses", summary="Get courses", responses=ERRORS, tags=["Unified LMS API"], description=_COMMON
)
def get_courses(
    request: Request,
    integration: IntegrationDep,
    cursor: str | None = Query(None),
    page_size: str | None = Query(None),
    updated_after: str | None = Query(None),
    include_deleted: str | None = Query(None),
    ignore_unsupported_filters: str | None = Query(None),
    ids: str | None = Query(None),
    remote_ids: str | None = Query(None),
) -> Response:
    """Courses with their provider and revisions (and each revision's skills)."""
    return list_records(request, integration, "lms_courses")


@router.get(
    "/lms/course-progressions",
    summary="Get course progressions",
    responses=ERRORS,
    tags=["Unified LMS API"],
    description=_COMMON,
)
def get_course_progressions(
    request: Request,
    integration: IntegrationDep,
    cursor: str | None = Query(None),
    page_size: str | None = Query(None),
    updated_after: str | None = Query(None),
    include_deleted: str | None = Query(None),
    ignore_unsupported_filters: str | None = Query(None),
    ids: str | None = Query(None),
    remote_ids: str | None = Query(None),
    user_ids: str | None = Query(None),
    course_ids: str | None = Query(None),
) -> Response:
    """Users' enrolments and completions."""
    return list_records(request, integration, "lms_course_progressions")


@router.get(
    "/lms/skills", summary="Get skills", responses=ERRORS, tags=["Unified LMS API"], description=_COMMON
)
def get_lms_skills(
    request: Request,
    integration: IntegrationDep,
    cursor: str | None = Query(None),
    page_size: str | None = Query(None),
    updated_after: str | None = Query(None),
    include_deleted: str | None = Query(None),
    ignore_unsupported_filters: str | None = Query(None),
    ids: str | None = Query(None),
    remote_ids: str | None = Query(None),
) -> Response:
    """Skills that course revisions teach."""
    return list_records(request, integration, "lms_skills")


@router.get(
    "/hris/skills",
    summary="Get skills (HRIS)",
    responses=ERRORS,
    tags=["Unified HRIS API"],
    description=_COMMON,
)
def get_hris_skills(
    request: Request,
    integration: IntegrationDep,
    cursor: str | None = Query(None),
    page_size: str | None = Query(None),
    updated_after: str | None = Query(None),
    include_deleted: str | None = Query(None),
    ids: str | None = Query(None),
    remote_ids: str | None = Query(None),
    name_contains: str | None = Query(None),
) -> Response:
    """The skill catalog."""
    return list_records(request, integration, "hris_skills")
