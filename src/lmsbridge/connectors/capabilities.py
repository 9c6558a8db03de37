"""Capabilities derived from what a connector declares: a model is readable when a stream reads
it, an action is available when a writer or a direct action implements it; everything else is
NOT_IMPLEMENTED unless the connector says UNSUPPORTED (the remote cannot do it at all). Delta
syncs are offered when any stream has a real change filter: a DELTA run reads the others whole,
which is harmless since a DELTA run deletes nothing."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from lmsbridge.connectors.base import (
    READ_MODEL_LABELS,
    Capabilities,
    Coverage,
    ModelCoverage,
    WriteAction,
)
from lmsbridge.connectors.streams import Stream
from lmsbridge.connectors.writers import BulkWriter


def derive(
    streams: Iterable[type[Stream[Any, Any]]],
    writers: Iterable[type[BulkWriter[Any, Any]]],
    actions: Iterable[WriteAction],
    model_overrides: Mapping[str, ModelCoverage],
    action_overrides: Mapping[WriteAction, Coverage],
) -> Capabilities:
    streams = list(streams)
    read_models: dict[str, ModelCoverage] = dict.fromkeys(
        READ_MODEL_LABELS, ModelCoverage(Coverage.NOT_IMPLEMENTED)
    )
    for stream in streams:
        read_models[stream.model] = ModelCoverage(Coverage.SUPPORTED, dict(stream.fields))
        read_models.update(stream.covers)
    read_models.update(model_overrides)
    write_actions: dict[WriteAction, Coverage] = dict.fromkeys(WriteAction, Coverage.NOT_IMPLEMENTED)
    declared = {writer.action for writer in writers} | set(actions)
    for action in declared:
        write_actions[action] = Coverage.SUPPORTED
    for action, coverage in action_overrides.items():
        if action in declared and coverage is not Coverage.SUPPORTED:
            raise TypeError(f"{action.value} is declared and overridden as {coverage.value}")
        write_actions[action] = coverage
    supports_delta = any(stream.supports_since for stream in streams)
    return Capabilities(read_models, write_actions, supports_delta=supports_delta)
