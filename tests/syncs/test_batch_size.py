"""How many records a sync gathers before a write transaction: at most `sync_write_batch`, fewer
when the last transaction held the lock longer than `sync_write_seconds`."""

from __future__ import annotations

from pathlib import Path

from cryptography.fernet import Fernet

from lmsbridge.config import Settings
from lmsbridge.db import Store
from lmsbridge.integration_store.credentials import CredentialBox
from lmsbridge.syncs.engine import MIN_WRITE_BATCH, BatchSize
from lmsbridge.syncs.runner import SyncRunner


def test_a_batch_starts_at_the_most_and_shrinks_to_what_fits_the_lock_time() -> None:
    size = BatchSize(most=50_000, seconds=1.5)
    assert size.limit == 50_000
    size.took(50_000, 3.0)  # twice the time allowed: half as many next
    assert size.limit == 25_000
    size.took(25_000, 0.5)  # quicker again: back up, never above the most
    assert size.limit == 50_000


def test_a_batch_never_shrinks_below_the_minimum_nor_reads_a_short_batch() -> None:
    size = BatchSize(most=50_000, seconds=1.5)
    size.took(MIN_WRITE_BATCH, 100.0)
    assert size.limit == MIN_WRITE_BATCH
    size.took(MIN_WRITE_BATCH - 1, 0.001)  # a model's short last batch says nothing of the rate
    assert size.limit == MIN_WRITE_BATCH
    small = BatchSize(most=200, seconds=1.5)  # a most below the minimum is kept as given
    small.took(5000, 100.0)
    assert small.limit == 200


def test_the_sync_runner_takes_its_batch_from_the_settings(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path}/store.db")
    try:
        settings = Settings(sync_write_batch=700, sync_write_seconds=0.25)
        runner = SyncRunner(store, CredentialBox(Fernet.generate_key()), settings)
        assert (runner.engine.batch_size.most, runner.engine.batch_size.seconds) == (700, 0.25)
        assert runner.engine.batch_size.limit == 700
    finally:
        store.dispose()
