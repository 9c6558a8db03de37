"""The client's records and the server's wire shapes (schemas/) are one set. The records, the API key
check and the syncs are one definition: the client's are the pydantic-free dataclasses of schemas/
(so importing the client stays cheap: test_imports.py) that the server names as its response
models. For the integration and the task, whose client records reshape the answer (`tool` as its
id; one `Task` for the three task states), every field a client record reads is a field the
server's schema declares."""

from __future__ import annotations

import dataclasses
import typing
from typing import Any

import pytest
from pydantic import BaseModel

from lmsbridge import client
from lmsbridge.schemas import integrations, records, syncs, tasks

SHARED: list[tuple[type, type]] = [
    (client.User, records.User),
    (client.Course, records.Course),
    (client.CourseRevision, records.CourseRevision),
    (client.CourseProgression, records.CourseProgression),
    (client.Skill, records.Skill),
    (client.HrisSkill, records.HrisSkill),
    (client.ApiKeyInfo, integrations.ApiKeyCheck),
    (client.SyncRun, syncs.SyncRun),
    (client.SyncRequested, syncs.SyncRequested),
]

PAIRS: list[tuple[type, Any]] = [
    *SHARED,
    (client.Integration, integrations.IntegrationDetails),
    (client.Task, tasks.TaskStatus),
]


def _fields(shape: Any) -> set[str]:
    """The fields of a model, or of every variant of a (discriminated) union of models."""
    variants = [shape]
    while variants and not isinstance(variants[0], type):
        variants = [v for u in variants for v in typing.get_args(u) if v is not None]
    return {
        name
        for v in variants
        if isinstance(v, type)
        for name in (v.model_fields if issubclass(v, BaseModel) else {f.name for f in dataclasses.fields(v)})
    }


@pytest.mark.parametrize(("record", "shape"), SHARED, ids=[p[0].__name__ for p in SHARED])
def test_the_clients_synced_records_are_the_servers_wire_shapes(record: type, shape: type) -> None:
    assert issubclass(record, shape)
    # The client adds only the answer's object; every other field is the shape's.
    assert {f.name for f in dataclasses.fields(record)} - {f.name for f in dataclasses.fields(shape)} == {
        "raw"
    }


def test_the_server_answers_with_the_shared_shapes() -> None:
    from lmsbridge.records.registry import LISTED

    assert {spec.wire for spec in LISTED.values()} <= {shape for _, shape in SHARED}


@pytest.mark.parametrize(("record", "shape"), PAIRS, ids=[p[0].__name__ for p in PAIRS])
def test_every_field_the_client_reads_is_in_the_servers_wire_shape(record: type, shape: Any) -> None:
    read = {f.name for f in dataclasses.fields(record)} - {"raw"}
    assert read <= _fields(shape), read - _fields(shape)


def test_the_client_lists_every_endpoint_the_server_lists() -> None:
    from lmsbridge.client._base import LISTS
    from lmsbridge.records.registry import LISTED

    assert {path for path, _ in LISTS.values()} == {f"/v1{spec.info.path}" for spec in LISTED.values()}
