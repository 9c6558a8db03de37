"""HTTP routes of the synced reads."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from lmsbridge.api.deps import IntegrationDep, store_of
from lmsbridge.api.responses import ERRORS, success
from lmsbridge.connectors.registry import connector_class
from lmsbridge.db import Store
from lmsbridge.errors import ModelNotAvailableError
from lmsbridge.records.listing import (
    CursorCodec,
    ListQuery,
    fingerprint,
    parse_bool,
    parse_page_size,
    parse_updated_after,
    split_list,
)
from lmsbridge.records.queries import cursor_key, list_page
from lmsbridge.records.registry import LISTED
from lmsbridge.records.stamps import pass_barrier, share_barrier
from lmsbridge.schemas.common import Page, Success
from lmsbridge.schemas.models import Model
from lmsbridge.syncs.service import require_first_sync

router = APIRouter()


@lru_cache(maxsize=8)
def _codec(store: Store) -> CursorCodec:
    with store.read() as conn:
        return CursorCodec(cursor_key(conn))


def list_records(request: Request, integration: Any, name: str) -> Response:
    spec = LISTED[name]
    caps = connector_class(integration.tool).capabilities
    if not caps.reads(name):
        label = connector_class(integration.tool).label
        raise ModelNotAvailableError(
            f'The "{spec.info.label}" model is not available for {label} integrations.'
        )
    params = dict(request.query_params)
    store = store_of(request)
    codec = _codec(store)
    bound_to = fingerprint(name, integration.id, params)
    filters: dict[str, tuple[str, ...]] = {}
    for param, spec_filter in spec.filters.items():
        if param not in params:
            continue
        values = (params[param],) if spec_filter.contains else split_list(params[param])
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
    unsupported = {p for p, f in spec.filters.items() if f.field and not caps.has_field(name, f.field)}
    pass_barrier(store)
    with store.read() as conn:
        share_barrier(conn, integration.id)
        require_first_sync(conn, integration.id, integration.status)
        rows, more = list_page(conn, spec, integration.id, query, unsupported)
        results = spec.serialize(conn, rows, query.include_deleted)  # type: ignore[misc]
    return success({"next": codec.encode(rows[-1].id, bound_to) if more else None, "results": results})


_COMMON = (
    "Pages with `cursor` (send the same filters with every page), `page_size` 1 to 250 (default 100), "
    "`updated_after`, `include_deleted`, `ignore_unsupported_filters`, `ids`, `remote_ids`."
)


@dataclass
class ListParams:
    """The query parameters every list endpoint takes. They are read from the request by
    `list_records` (for errors in the contract's envelope); declared here for the OpenAPI document."""

    cursor: str | None = Query(None, description="The previous page's `next`.")
    page_size: str | None = Query(None, description="1 to 250; default 100.")
    updated_after: str | None = Query(None, description="YYYY-MM-DDTHH:mm:ss.sssZ")
    include_deleted: str | None = Query(None, description="'true' or 'false'.")
    ignore_unsupported_filters: str | None = Query(None, description="'true' or 'false'.")
    ids: str | None = Query(None, description="Comma-separated ids.")
    remote_ids: str | None = Query(None, description="Comma-separated remote ids.")


ListParamsDep = Annotated[ListParams, Depends()]


_Endpoint = TypeVar("_Endpoint", bound=Callable[..., Response])


def _route(model: Model, summary: str, tag: str = "Unified LMS API") -> Callable[[_Endpoint], _Endpoint]:
    """The list route of a model: its path and record shape come from the model registry."""
    spec = LISTED[model]
    assert spec.info.path is not None and spec.wire is not None
    decorator: Callable[[_Endpoint], _Endpoint] = router.get(
        spec.info.path,
        summary=summary,
        response_model=Success[Page[spec.wire]],  # type: ignore[name-defined]
        responses=ERRORS,
        tags=[tag],
        description=_COMMON,
    )
    return decorator


@_route(Model.LMS_USERS, "Get users")
def get_users(
    request: Request,
    integration: IntegrationDep,
    _: ListParamsDep,
    work_emails: str | None = Query(None, description="Comma-separated, case-insensitive."),
) -> Response:
    """Learners who can enroll in and complete courses."""
    return list_records(request, integration, Model.LMS_USERS)


@_route(Model.LMS_COURSES, "Get courses")
def get_courses(request: Request, integration: IntegrationDep, _: ListParamsDep) -> Response:
    """Courses with their provider and revisions (and each revision's skills)."""
    return list_records(request, integration, Model.LMS_COURSES)


@_route(Model.LMS_COURSE_PROGRESSIONS, "Get course progressions")
def get_course_progressions(
    request: Request,
    integration: IntegrationDep,
    _: ListParamsDep,
    user_ids: str | None = Query(None, description="Comma-separated user ids."),
    course_ids: str | None = Query(None, description="Comma-separated course ids."),
) -> Response:
    """Users' enrolments and completions."""
    return list_records(request, integration, Model.LMS_COURSE_PROGRESSIONS)


@_route(Model.LMS_SKILLS, "Get skills")
def get_lms_skills(request: Request, integration: IntegrationDep, _: ListParamsDep) -> Response:
    """Skills that course revisions teach."""
    return list_records(request, integration, Model.LMS_SKILLS)


@_route(Model.HRIS_SKILLS, "Get skills (HRIS)", tag="Unified HRIS API")
def get_hris_skills(
    request: Request,
    integration: IntegrationDep,
    _: ListParamsDep,
    name_contains: str | None = Query(None, description="Part of the skill's name, case-insensitive."),
) -> Response:
    """The skill catalog."""
    return list_records(request, integration, Model.HRIS_SKILLS)
