"""The states a job row moves through, and the moves allowed between them (the wire never shows
them; they are the queue's own words, stored lowercase as they always were)."""

from __future__ import annotations

from enum import StrEnum


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"

    @property
    def finished(self) -> bool:
        return self in (JobState.SUCCEEDED, JobState.FAILED)

    def can_become(self, new: JobState) -> bool:
        return new in JOB_TRANSITIONS[self]


JOB_TRANSITIONS: dict[JobState, frozenset[JobState]] = {
    JobState.QUEUED: frozenset({JobState.RUNNING}),  # claimed
    # complete | fail | retry or release (back to the queue) | claimed again after a lost lease
    JobState.RUNNING: frozenset({JobState.SUCCEEDED, JobState.FAILED, JobState.QUEUED, JobState.RUNNING}),
    JobState.SUCCEEDED: frozenset(),
    JobState.FAILED: frozenset(),
}
