"""The states of a sync run (the wire values of `GET /v1/syncs/{id}` and the `sync-finished`
event) and the moves allowed between them."""

from __future__ import annotations

from enum import StrEnum


class SyncRunState(StrEnum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    PARTIALLY_FAILED = "PARTIALLY_FAILED"
    FAILED = "FAILED"
    AUTHENTICATION_FAILED = "AUTHENTICATION_FAILED"
    TIMED_OUT = "TIMED_OUT"
    CANCELLED = "CANCELLED"  # its integration was paused before it ran (Kombo's sync_state has it)

    @property
    def active(self) -> bool:
        """Queued or running: at most one such run per integration (a unique index says so)."""
        return self in ACTIVE_STATES

    @property
    def completed(self) -> bool:
        """Ended with records written (a successful or partial run moves the sync state on)."""
        return self in (SyncRunState.SUCCEEDED, SyncRunState.PARTIALLY_FAILED)

    def can_become(self, new: SyncRunState) -> bool:
        return new in SYNC_TRANSITIONS[self]


ACTIVE_STATES = (SyncRunState.QUEUED, SyncRunState.RUNNING)
_ENDINGS = frozenset(
    {
        SyncRunState.SUCCEEDED,
        SyncRunState.PARTIALLY_FAILED,
        SyncRunState.FAILED,
        SyncRunState.AUTHENTICATION_FAILED,
        SyncRunState.TIMED_OUT,
        SyncRunState.CANCELLED,
    }
)
SYNC_TRANSITIONS: dict[SyncRunState, frozenset[SyncRunState]] = {
    # A queued run may end without running (given up, or its integration is gone).
    SyncRunState.QUEUED: frozenset({SyncRunState.RUNNING}) | _ENDINGS,
    SyncRunState.RUNNING: _ENDINGS,
    **{ending: frozenset() for ending in _ENDINGS},
}
