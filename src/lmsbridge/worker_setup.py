"""What a worker process runs: the job handlers of every domain and the periodic duties."""

from __future__ import annotations

from functools import partial

from lmsbridge.config import Settings
from lmsbridge.db import Store
from lmsbridge.integration_store.credentials import CredentialBox
from lmsbridge.jobs import JobKind, RetryPolicy, Worker
from lmsbridge.records.anonymiser import anonymise_deleted
from lmsbridge.syncs.runner import SyncRunner
from lmsbridge.syncs.service import RUN_SYNC_JOB, schedule_due_syncs
from lmsbridge.tasks.runner import BulkTaskRunner
from lmsbridge.tasks.service import RUN_TASK_JOB
from lmsbridge.webhooks.delivery import DeliveryRunner
from lmsbridge.webhooks.service import DELIVER_JOB, fan_out
from lmsbridge.webhooks.settings import WebhookSettings


def job_kinds(
    store: Store, settings: Settings, box: CredentialBox, webhooks: WebhookSettings | None = None
) -> list[JobKind]:
    return [
        # Backoff from 2s to 5 minutes rides out a store outage of about ten minutes; a
        # configuration failure (the secret key opens no credentials) ends the task or sync now.
        JobKind(RUN_TASK_JOB, BulkTaskRunner(store, settings, box), RetryPolicy()),
        JobKind(RUN_SYNC_JOB, SyncRunner(store, box, settings), RetryPolicy()),
        # A delivery keeps its own schedule of attempts (webhooks/settings.py); a job retry only
        # covers the handler failing to record its attempt, so it comes back sooner.
        JobKind(
            DELIVER_JOB,
            DeliveryRunner(store, box, webhooks or WebhookSettings()),
            RetryPolicy(max_delay_seconds=60),
        ),
    ]


def build_worker(
    store: Store,
    settings: Settings,
    box: CredentialBox,
    concurrency: int,
    webhooks: WebhookSettings | None = None,
) -> Worker:
    webhooks = webhooks or WebhookSettings()
    fan_out_events = partial(fan_out, store, webhooks)
    fan_out_events.__name__ = "fan_out_events"  # type: ignore[attr-defined]
    schedule = partial(schedule_due_syncs, store, settings)
    schedule.__name__ = "schedule_due_syncs"  # type: ignore[attr-defined]
    anonymise = partial(anonymise_deleted, store, settings)
    anonymise.__name__ = "anonymise_deleted"  # type: ignore[attr-defined]
    return Worker(
        store,
        job_kinds(store, settings, box, webhooks),
        concurrency=concurrency,
        lease_seconds=settings.job_lease_seconds,
        poll_seconds=settings.job_poll_seconds,
        max_attempts=settings.job_max_attempts,
        periodic=[
            (settings.sync_schedule_check_seconds, schedule),
            (3600.0, anonymise),
            (webhooks.fanout_seconds, fan_out_events),
        ],
    )
