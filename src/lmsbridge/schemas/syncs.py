"""Wire shapes of force-sync and of the sync status extension: pydantic-free dataclasses, one
definition for the server's response models and the client's records (see schemas/records.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Literal

SyncType = Literal["FULL", "DELTA"]


@dataclass(frozen=True, kw_only=True)
class SyncRequested:
    already_queued: bool
    sync_id: str
    type: SyncType


@dataclass(frozen=True, kw_only=True)
class SyncRun:
    """Extension: one sync run of the integration."""

    # A plain dict (pydantic's ConfigDict is one): the field docstrings below become the schema's
    # descriptions without this module importing pydantic.
    __pydantic_config__: ClassVar[dict[str, Any]] = {"use_attribute_docstrings": True}

    sync_id: str
    state: Literal["QUEUED", "RUNNING", "SUCCEEDED", "PARTIALLY_FAILED", "AUTHENTICATION_FAILED", "FAILED"]
    type: SyncType
    created_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    counts: dict[str, Any]
    error: str | None
    held_deletions: dict[str, int]
    """Records per model a full sync held back from deleting (the deletion guard)."""


@dataclass(frozen=True, kw_only=True)
class DeletionsConfirmed:
    """Extension: the held deletions of a sync, applied."""

    sync_id: str
    deleted: dict[str, int]
