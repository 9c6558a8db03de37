"""The client's records and the server's wire shapes (schemas/) are one set: every record the client
returns is a pydantic-free dataclass of schemas/ (so importing the client stays cheap:
test_imports.py) that the server names as its response model, plus the answer's `raw` object."""

from __future__ import annotations

import dataclasses
import typing
from typing import Any

import pytest

from lmsbridge import client
from lmsbridge.schemas import errors, integrations, records, syncs, tasks

SHARED: list[tuple[type, type]] = [
    (client.User, records.User),
    (client.Course, records.Course),
    (client.CourseRevision, records.CourseRevision),
    (client.CourseProgression, records.CourseProgression),
    (client.Skill, records.Skill),
    (client.HrisSkill, records.HrisSkill),
    (client.ApiKeyInfo, integrations.ApiKeyCheck),
    (client.Integration, integrations.IntegrationDetails),
    (client.SyncRun, syncs.SyncRun),
    (client.SyncRequested, syncs.SyncRequested),
    (client.TaskPending, tasks.TaskPending),
    (client.TaskCompleted, tasks.TaskCompleted),
    (client.TaskFailed, tasks.TaskFailed),
]


@pytest.mark.parametrize(("record", "shape"), SHARED, ids=[p[0].__name__ for p in SHARED])
def test_the_clients_records_are_the_servers_wire_shapes(record: type, shape: type) -> None:
    assert issubclass(record, shape)
    # The client adds only the answer's object; every other field is the shape's.
    assert {f.name for f in dataclasses.fields(record)} - {f.name for f in dataclasses.fields(shape)} == {
        "raw"
    }


def test_nested_objects_are_the_shared_shapes_themselves() -> None:
    assert client.Tool is integrations.Tool and client.Coverage is integrations.Coverage
    assert client.TaskProgress is tasks.TaskProgress and client.ErrorInfo is errors.ErrorBody
    assert (client.ItemSucceeded, client.ItemFailed) == (tasks.ItemSucceeded, tasks.ItemFailed)
    assert set(typing.get_args(client.TaskItemResult)) == {tasks.ItemSucceeded, tasks.ItemFailed}
    # A submit's answer is the wire's `{task_id}`; the client adds the envelope's warnings and the kind.
    assert issubclass(client.TaskCreated, tasks.TaskCreated)


def test_a_task_is_one_of_the_three_states_the_server_declares() -> None:
    from lmsbridge.schemas.bulk import TaskStatusResponse

    declared = typing.get_args(TaskStatusResponse.model_fields["data"].annotation)
    assert declared == (tasks.TaskPending, tasks.TaskCompleted, tasks.TaskFailed)
    assert [c.__bases__[0] for c in typing.get_args(client.Task)] == list(declared)


def _wire(status: str, **extra: Any) -> dict[str, Any]:
    progress = {"total": 2, "succeeded": 1, "failed": 1, "percent": 100}
    return {"task_id": "t-1", "created_at": "2026-01-05T10:00:00.000Z", "progress": progress} | {
        "status": status,
        "completed_at": None if status == "PENDING" else "2026-01-05T10:00:01.000Z",
        **extra,
    }


ERROR = {"code": "REMOTE.INPUT_INVALID", "title": "Input invalid", "message": "no", "log_url": "http://x/l"}


def test_an_answer_becomes_the_state_its_status_names_with_items_by_outcome() -> None:
    from lmsbridge.client.models import task_from_wire

    items = [
        {"origin_id": "a", "status": "SUCCEEDED", "data": {"id": "c1", "course_id": "c1"}},
        {"origin_id": "b", "status": "FAILED", "error": ERROR},
    ]
    completed = task_from_wire(_wire("COMPLETED", data=items))
    assert isinstance(completed, client.TaskCompleted) and completed.finished and completed.error is None
    assert completed.data == [
        tasks.ItemSucceeded(
            origin_id="a", status="SUCCEEDED", data=tasks.ItemWritten(id="c1", course_id="c1")
        ),
        tasks.ItemFailed(origin_id="b", status="FAILED", error=errors.ErrorBody(**ERROR)),
    ]
    assert [i.origin_id for i in completed.failed_items] == ["b"]
    assert [i.origin_id for i in completed.succeeded_items] == ["a"]
    assert completed.progress == tasks.TaskProgress(total=2, succeeded=1, failed=1, percent=100)
    assert completed.raw["data"] == items

    pending = task_from_wire(_wire("PENDING"))
    assert isinstance(pending, client.TaskPending) and not pending.finished
    assert (pending.data, pending.error, pending.failed_items, pending.completed_at) == (None, None, [], None)

    failed = task_from_wire(_wire("FAILED", error=ERROR))
    assert isinstance(failed, client.TaskFailed) and failed.finished and failed.data is None
    assert failed.error == errors.ErrorBody(**ERROR) and failed.failed_items == []


def test_an_answer_in_no_declared_state_is_refused_by_name() -> None:
    from lmsbridge.client.models import task_from_wire

    with pytest.raises(ValueError, match="none of TaskPending, TaskCompleted, TaskFailed: status 'PAUSED'"):
        task_from_wire(_wire("PAUSED"))


def test_the_server_answers_with_the_shared_shapes() -> None:
    from lmsbridge.records.registry import LISTED

    assert {spec.wire for spec in LISTED.values()} <= {shape for _, shape in SHARED}


def test_the_client_lists_every_endpoint_the_server_lists() -> None:
    from lmsbridge.client._base import LISTS
    from lmsbridge.records.registry import LISTED

    assert {path for path, _ in LISTS.values()} == {f"/v1{spec.info.path}" for spec in LISTED.values()}
