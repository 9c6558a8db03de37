"""The deletion guard: a full sync that would mark more than a set share of a model's live
records deleted holds those deletions, because a permission lost on the remote (a capability
removed, a filter added) reads exactly like a mass deletion. An operator then fixes access and
syncs again, or confirms the held deletions of that sync."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Connection

from lmsbridge.connectors.registry import connector_class
from lmsbridge.errors import InputInvalidError, NotFoundError
from lmsbridge.events.outbox import EventOutbox, EventType
from lmsbridge.integration_store.repository import IntegrationRepository
from lmsbridge.records.stamps import take_stamp
from lmsbridge.records.writer import RecordWriter
from lmsbridge.schemas.models import EVENT_NAMES
from lmsbridge.syncs.repository import SyncRepository


class DeletionsNotConfirmableError(InputInvalidError):
    status_code = 409


@dataclass(frozen=True)
class DeletionGuard:
    share: float = 0.5
    minimum: int = 10

    @classmethod
    def of(cls, tool: str, settings: dict[str, Any]) -> DeletionGuard:
        """The integration's own limits (`deletion_guard_share`, `deletion_guard_min`)."""
        try:
            parsed = connector_class(tool).settings_model.model_validate(settings)
        except ValidationError:
            return cls()  # settings stored before a rule tightened: the defaults still guard
        return cls(parsed.deletion_guard_share, parsed.deletion_guard_min)

    def holds(self, unseen: int, live: int) -> bool:
        return unseen >= self.minimum and unseen > self.share * live

    def reason(self, sync_id: str, model: str, unseen: int, live: int) -> str:
        percent = round(100 * unseen / live) if live else 100
        return (
            f"{model}: {unseen} of {live} records ({percent}%) were not returned by the remote and would "
            f"have been marked deleted. So many at once (more than {round(100 * self.share)}%) looks like "
            "lost access on the remote (a permission or a filter removed) rather than real deletions, so "
            "they are kept. Fix the access and sync again, or confirm them: `lmsbridge syncs "
            f"confirm-deletions {sync_id}` (POST /v1/syncs/{sync_id}/confirm-deletions)."
        )


def confirm_deletions(conn: Connection, sync_id: str, environment_id: str | None) -> dict[str, int]:
    """Apply the deletions a sync held; returns the records marked deleted per model. Only the
    integration's latest sync may be confirmed: after it, a record unseen then may be back."""
    repo = SyncRepository(conn)
    run = repo.get_run(sync_id)
    integration = IntegrationRepository(conn).get(run.integration_id) if run is not None else None
    if (
        run is None
        or integration is None
        or (environment_id is not None and integration.environment_id != environment_id)
    ):
        raise NotFoundError(f"No sync {sync_id!r} exists.")
    if not run.held_deletions:
        raise DeletionsNotConfirmableError(f"Sync {sync_id} holds no deletions to confirm.")
    latest = repo.latest_runs(run.integration_id, 1)
    if latest and latest[0].id != run.id:
        raise DeletionsNotConfirmableError(
            f"A later sync ({latest[0].id}) ran after {sync_id}: its result is the current one; confirm "
            "the deletions that one holds, if any."
        )
    assert run.started_at is not None
    writer = RecordWriter(conn, run.integration_id, take_stamp(conn, run.integration_id))
    deleted = {
        model: writer.mark_deleted(model, ids, run.started_at) for model, ids in run.held_deletions.items()
    }
    counts = {model: dict(c) for model, c in run.counts.items()}
    for model, n in deleted.items():
        counts.setdefault(model, {})["deleted"] = counts.get(model, {}).get("deleted", 0) + n
    repo.settle_held_deletions(run.id, counts)
    changed = sorted(
        EVENT_NAMES[m]
        for m in {m for m, n in deleted.items() if n}
        | ({"lms_course_revisions"} if deleted.get("lms_courses") else set())
        if m in EVENT_NAMES  # data-changed names only the contract's models
    )
    if changed:
        EventOutbox(conn).add(
            integration.environment_id,
            integration.id,
            EventType.DATA_CHANGED,
            {
                "integration_id": integration.id,
                "integration_tool": integration.tool,
                "integration_category": "LMS",
                "changed_models": [{"name": m} for m in changed],
            },
        )
    return deleted
