"""HTTP routes of the direct write actions."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import Response

from lmsbridge.actions import service
from lmsbridge.api.deps import IntegrationDep, ObjectBody, store_of
from lmsbridge.api.responses import ERRORS, success
from lmsbridge.connectors.base import SkillWrite, WriteAction
from lmsbridge.schemas.actions import CompleteRequest, EnrolRequest
from lmsbridge.schemas.common import Success, SuccessWithWarnings
from lmsbridge.schemas.lifecycle import EmptyRequest, SkillCreateRequest, SkillUpdateRequest
from lmsbridge.schemas.models import Model
from lmsbridge.schemas.records import Course, CourseProgression, HrisSkill

router = APIRouter()


def _run(
    request: Request,
    integration: Any,
    action: WriteAction,
    work: Any,
    warnings: list[str] | None = None,
    *,
    with_warnings: bool = True,
) -> Response:
    """`warnings` is filled by `work` with what the remote could not store; the HRIS skill
    answers carry none (`with_warnings=False`), as the contract's shapes say."""
    service.require(integration, action)
    limiter = request.app.state.action_limiter
    with limiter.slot(integration.id) as remaining:
        data = work()
    return success(
        data,
        warnings=[{"message": message} for message in warnings or []] if with_warnings else None,
        headers={"Concurrency-Limit": str(limiter.limit), "Concurrency-Remaining": str(remaining)},
    )


@router.post(
    "/lms/course-progressions",
    summary="Enroll user",
    response_model=SuccessWithWarnings[CourseProgression],
    responses=ERRORS,
    tags=["Unified LMS API"],
)
def enrol(request: Request, integration: IntegrationDep, body: EnrolRequest) -> Response:
    """Enroll a user in a course revision; enrolling again returns the same progression."""
    store = store_of(request)

    def work() -> dict[str, Any]:
        user = service.remote_id_of(
            store, Model.LMS_USERS, integration.id, body.user_id, "user_id", in_body=True
        )
        revision = service.remote_id_of(
            store,
            Model.LMS_COURSE_REVISIONS,
            integration.id,
            body.course_revision_id,
            "course_revision_id",
            in_body=True,
        )
        connector = service.connector_of(store, request.app.state.box, integration)
        record = service.call(lambda: connector.enrol(user, revision))
        service.write_through(store, integration.id, Model.LMS_COURSE_PROGRESSIONS, record)
        return service.progression_view(store, integration.id, record.remote_id)

    return _run(request, integration, WriteAction.ENROL, work)


@router.post(
    "/lms/course-progressions/{course_progression_id}/complete",
    summary="Complete course progression",
    response_model=SuccessWithWarnings[CourseProgression],
    responses=ERRORS,
    tags=["Unified LMS API"],
    dependencies=[ObjectBody],
)
def complete(
    request: Request,
    integration: IntegrationDep,
    course_progression_id: str,
    body: CompleteRequest | None = Body(None),
) -> Response:
    """Mark a progression completed, with an optional completion date and score (0 to 100)."""
    store = store_of(request)
    body = body or CompleteRequest()
    warnings: list[str] = []

    def work() -> dict[str, Any]:
        completed_at = service.parse_completed_at(body.completed_at)
        remote = service.remote_id_of(
            store,
            Model.LMS_COURSE_PROGRESSIONS,
            integration.id,
            course_progression_id,
            "course_progression_id",
            in_body=False,
        )
        connector = service.connector_of(store, request.app.state.box, integration)
        record = service.call(lambda: connector.complete(remote, completed_at, body.score))
        warnings.extend(record.warnings)
        service.write_through(store, integration.id, Model.LMS_COURSE_PROGRESSIONS, record)
        return service.progression_view(store, integration.id, record.remote_id)

    return _run(request, integration, WriteAction.COMPLETE, work, warnings)


@router.post(
    "/lms/courses/{course_id}/deactivate",
    summary="Deactivate course",
    response_model=SuccessWithWarnings[Course],
    responses=ERRORS,
    tags=["Unified LMS API"],
    dependencies=[ObjectBody],
)
def deactivate(request: Request, integration: IntegrationDep, course_id: str) -> Response:
    """Make a course unavailable for new enrolments; existing progress is kept."""
    store = store_of(request)

    def work() -> dict[str, Any]:
        remote = service.remote_id_of(
            store, Model.LMS_COURSES, integration.id, course_id, "course_id", in_body=False
        )
        connector = service.connector_of(store, request.app.state.box, integration)
        record = service.call(lambda: connector.deactivate_course(remote))
        service.write_through(store, integration.id, Model.LMS_COURSES, record)
        return service.course_view(store, integration.id, record.remote_id)

    return _run(request, integration, WriteAction.DEACTIVATE_COURSE, work)


@router.post(
    "/hris/skills",
    summary="Create skill",
    response_model=Success[HrisSkill],
    responses=ERRORS,
    tags=["Unified HRIS API"],
)
def create_skill(request: Request, integration: IntegrationDep, body: SkillCreateRequest) -> Response:
    """Create a skill in the remote system's catalog; it reads back from `GET /hris/skills` at once."""
    store = store_of(request)

    def work() -> dict[str, Any]:
        connector = service.connector_of(store, request.app.state.box, integration)
        skill = SkillWrite(body.name, tuple(body.levels) if body.levels is not None else None)
        record = service.call(lambda: connector.create_skill(skill))
        service.write_through(store, integration.id, Model.HRIS_SKILLS, record)
        return service.skill_view(store, integration.id, record.remote_id)

    return _run(request, integration, WriteAction.CREATE_SKILL, work, with_warnings=False)


@router.patch(
    "/hris/skills/{skill_id}",
    summary="Update skill",
    response_model=Success[HrisSkill],
    responses=ERRORS,
    tags=["Unified HRIS API"],
)
def update_skill(
    request: Request, integration: IntegrationDep, skill_id: str, body: SkillUpdateRequest
) -> Response:
    """Rename a skill or replace its levels; fields left out stay as they are."""
    store = store_of(request)

    def work() -> dict[str, Any]:
        remote = service.remote_id_of(
            store, Model.HRIS_SKILLS, integration.id, skill_id, "skill_id", in_body=False
        )
        connector = service.connector_of(store, request.app.state.box, integration)
        skill = SkillWrite(body.name, tuple(body.levels) if body.levels is not None else None)
        record = service.call(lambda: connector.update_skill(remote, skill))
        service.write_through(store, integration.id, Model.HRIS_SKILLS, record)
        return service.skill_view(store, integration.id, record.remote_id)

    return _run(request, integration, WriteAction.UPDATE_SKILL, work, with_warnings=False)


@router.delete(
    "/hris/skills/{skill_id}",
    summary="Delete skill",
    response_model=Success[HrisSkill],
    responses=ERRORS,
    tags=["Unified HRIS API"],
)
def delete_skill(
    request: Request, integration: IntegrationDep, skill_id: str, body: EmptyRequest | None = Body(None)
) -> Response:
    """Delete a skill from the remote catalog; answers the skill with `remote_deleted_at` set."""
    store = store_of(request)

    def work() -> dict[str, Any]:
        remote = service.remote_id_of(
            store, Model.HRIS_SKILLS, integration.id, skill_id, "skill_id", in_body=False
        )
        connector = service.connector_of(store, request.app.state.box, integration)
        service.call(lambda: connector.delete_skill(remote))
        service.mark_skill_deleted(store, integration.id, remote)
        return service.skill_view(store, integration.id, remote)

    return _run(request, integration, WriteAction.DELETE_SKILL, work, with_warnings=False)
