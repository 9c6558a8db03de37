"""The client's records and the server's wire shapes (schemas/) are one set: every field a client
record reads is a field the server's schema declares for that answer. (The client keeps its own
light dataclasses, parsed without pydantic, so that importing it stays cheap: test_imports.py.)"""

from __future__ import annotations

import dataclasses
import typing
from typing import Any

import pytest
from pydantic import BaseModel

from lmsbridge import client
from lmsbridge.schemas import integrations, records, syncs, tasks

PAIRS: list[tuple[type, Any]] = [
    (client.User, records.User),
    (client.Course, records.Course),
    (client.CourseRevision, records.CourseRevision),
    (client.CourseProgression, records.CourseProgression),
    (client.Skill, records.Skill),
    (client.HrisSkill, records.HrisSkill),
    (client.Integration, integrations.IntegrationDetails),
    (client.ApiKeyInfo, integrations.ApiKeyCheck),
    (client.SyncRun, syncs.SyncRun),
    (client.Task, tasks.TaskStatus),
]


def _fields(shape: Any) -> set[str]:
    """The fields of a model, or of every variant of a (discriminated) union of models."""
    variants = [shape]
    while variants and not isinstance(variants[0], type):
        variants = [v for u in variants for v in typing.get_args(u) if v is not None]
    return {
        name for v in variants if isinstance(v, type) and issubclass(v, BaseModel) for name in v.model_fields
    }


@pytest.mark.parametrize(("record", "shape"), PAIRS, ids=[p[0].__name__ for p in PAIRS])
def test_every_field_the_client_reads_is_in_the_servers_wire_shape(record: type, shape: Any) -> None:
    read = {f.name for f in dataclasses.fields(record)} - {"raw"}
    assert read <= _fields(shape), read - _fields(shape)


def test_the_client_lists_every_endpoint_the_server_lists() -> None:
    from lmsbridge.client._base import LISTS
    from lmsbridge.records.registry import LISTED

    assert {path for path, _ in LISTS.values()} == {f"/v1{spec.info.path}" for spec in LISTED.values()}
