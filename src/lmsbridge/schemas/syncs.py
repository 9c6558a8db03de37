"""Wire shapes of force-sync and of the sync status extension."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

SyncType = Literal["FULL", "DELTA"]


class SyncRequested(BaseModel):
    already_queued: bool
    sync_id: str
    type: SyncType


class SyncRun(BaseModel):
    """Extension: one sync run of the integration."""

    sync_id: str
    state: Literal["QUEUED", "RUNNING", "SUCCEEDED", "PARTIALLY_FAILED", "AUTHENTICATION_FAILED", "FAILED"]
    type: SyncType
    created_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    counts: dict[str, Any]
    error: str | None
    held_deletions: dict[str, int] = Field(
        description="Records per model a full sync held back from deleting (the deletion guard)."
    )


class DeletionsConfirmed(BaseModel):
    """Extension: the held deletions of a sync, applied."""

    sync_id: str
    deleted: dict[str, int]
