"""HTTP routes of the bulk tasks: submit and poll."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request
from fastapi.responses import Response
from sqlalchemy.exc import IntegrityError

from lmsbridge.api.deps import IntegrationDep, loop_reads_of, public_url, store_of
from lmsbridge.api.fast_json import FastJsonRoute
from lmsbridge.api.responses import ERRORS, success
from lmsbridge.connectors.runtime import require_capability
from lmsbridge.errors import InputInvalidError, not_found
from lmsbridge.jobs import JobQueue, wake_workers
from lmsbridge.schemas.bulk import (
    CoursesBulkRequest,
    SkillsBulkRequest,
    TaskCreatedResponse,
    TaskStatusResponse,
    canonical_items,
)
from lmsbridge.tasks import service
from lmsbridge.tasks.service import COURSES_BULK, SKILLS_BULK, TaskKind
from lmsbridge.tasks.status_polls import status_answer

router = APIRouter(route_class=FastJsonRoute)

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="Scopes idempotency explicitly: the same key with the same body returns the "
        "existing task; with a different body it answers 409.",
    ),
]


def _submit(
    request: Request,
    integration: IntegrationDep,
    kind: TaskKind,
    body: CoursesBulkRequest | SkillsBulkRequest,
    idempotency_key: str | None,
) -> Response:
    settings = request.app.state.settings
    store = store_of(request)
    if idempotency_key is not None and not 1 <= len(idempotency_key) <= 255:
        raise InputInvalidError("Idempotency-Key must be 1 to 255 characters long.")
    require_capability(integration.tool, kind.action)
    items = canonical_items(body)
    service.check_items(items, settings.bulk_max_items)
    queue = JobQueue(store, max_attempts=settings.job_max_attempts)
    for attempt in range(3):
        try:
            with store.write() as conn:
                task_id, created = service.submit(
                    conn,
                    queue,
                    settings,
                    integration=integration,
                    kind=kind,
                    items=items,
                    idempotency_key=idempotency_key,
                    public_url=public_url(request),
                    callback_url=body.callback_url,
                )
            break
        except IntegrityError:
            # A concurrent identical request won the race; the next attempt finds its task.
            if attempt == 2:
                raise
    if created:
        wake_workers()
    warnings = (
        []
        if created
        else [
            {
                "message": f"An identical request already created task {task_id}; "
                "its id is returned and no new task was created."
            }
        ]
    )
    return success({"task_id": task_id}, warnings=warnings)


async def _status(request: Request, integration: IntegrationDep, kind: TaskKind, task_id: str) -> Response:
    # Polls usually take the short way (tasks/status_polls.py), which answers as this does.
    answer = await status_answer(
        store_of(request), loop_reads_of(request.app.state), integration, kind, task_id
    )
    if answer is None:
        raise not_found(f"{kind.label} task", task_id)
    return answer


@router.post(
    "/lms/courses/bulk",
    summary="Upsert courses",
    response_model=TaskCreatedResponse,
    responses=ERRORS,
    tags=["Unified LMS API"],
)
def post_courses_bulk(
    request: Request,
    integration: IntegrationDep,
    body: CoursesBulkRequest,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Create or update courses in the LMS, asynchronously: returns a task_id to poll."""
    return _submit(request, integration, COURSES_BULK, body, idempotency_key)


@router.get(
    "/lms/courses/bulk/{task_id}",
    summary="Get upsert courses task",
    response_model=TaskStatusResponse,
    responses=ERRORS,
    tags=["Unified LMS API"],
)
async def get_courses_bulk(request: Request, integration: IntegrationDep, task_id: str) -> Response:
    """The status of an "Upsert courses" task, with one result per item once COMPLETED."""
    return await _status(request, integration, COURSES_BULK, task_id)


@router.post(
    "/hris/skills/bulk",
    summary="Upsert skills",
    response_model=TaskCreatedResponse,
    responses=ERRORS,
    tags=["Unified HRIS API"],
)
def post_skills_bulk(
    request: Request,
    integration: IntegrationDep,
    body: SkillsBulkRequest,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Create or update skills in the catalog, asynchronously: returns a task_id to poll."""
    return _submit(request, integration, SKILLS_BULK, body, idempotency_key)


@router.get(
    "/hris/skills/bulk/{task_id}",
    summary="Get upsert skills task",
    response_model=TaskStatusResponse,
    responses=ERRORS,
    tags=["Unified HRIS API"],
)
async def get_skills_bulk(request: Request, integration: IntegrationDep, task_id: str) -> Response:
    """The status of an "Upsert skills" task, with one result per item once COMPLETED."""
    return await _status(request, integration, SKILLS_BULK, task_id)
