"""What a worker process runs: the job handlers of every domain and the periodic duties."""

from __future__ import annotations

from functools import partial

from lmsbridge.config import Settings
from lmsbridge.db import Store
from lmsbridge.integrations.credentials import CredentialBox
from lmsbridge.jobs import Handler, Worker
from lmsbridge.syncs.anonymiser import anonymise_deleted
from lmsbridge.syncs.runner import SyncRunner
from lmsbridge.syncs.service import RUN_SYNC_JOB, schedule_due_syncs
from lmsbridge.tasks.runner import BulkTaskRunner
from lmsbridge.tasks.service import RUN_TASK_JOB


def handlers(store: Store, settings: Settings, box: CredentialBox) -> dict[str, Handler]:
    return {
        RUN_TASK_JOB: BulkTaskRunner(store, settings, box),
        RUN_SYNC_JOB: SyncRunner(store, box),
    }


def build_worker(store: Store, settings: Settings, box: CredentialBox, concurrency: int) -> Worker:
    schedule = partial(schedule_due_syncs, store, settings)
    schedule.__name__ = "schedule_due_syncs"  # type: ignore[attr-defined]
    anonymise = partial(anonymise_deleted, store, settings)
    anonymise.__name__ = "anonymise_deleted"  # type: ignore[attr-defined]
    return Worker(
        store,
        handlers(store, settings, box),
        concurrency=concurrency,
        lease_seconds=settings.job_lease_seconds,
        poll_seconds=settings.job_poll_seconds,
        max_attempts=settings.job_max_attempts,
        periodic=[(settings.sync_schedule_check_seconds, schedule), (3600.0, anonymise)],
    )
