"""One sync run: read every model the connector supports, page by page, into the store.

Pages are written in transactions of up to WRITE_BATCH records under the integration's stamp lock
(fewer when one held the lock longer than WRITE_SECONDS: see `BatchSize`), their rows built before
the transaction begins. A FULL run remembers which records it saw and, for each model whose every
page was read, marks the others deleted; a model that failed part-way marks nothing (a failed or
partial sync never deletes). A DELTA run asks the connector only for records changed since the last
run began, and deletes nothing. What a sync holds in memory is bounded by the batch (two on
PostgreSQL, whose next batch's rows are built while the last is written), except the records it
saw, at 8 bytes each, and only for a model the integration already had records of (a model it had
none of has nothing to delete, and its records are inserted without being looked up)."""

from __future__ import annotations

import contextvars
import logging
import threading
import time
from array import array
from bisect import bisect_left
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence, Sized
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any, TypeVar

from lmsbridge.clock import to_wire
from lmsbridge.connectors.base import Connector
from lmsbridge.connectors.errors import AuthenticationInvalidError, ConnectorError, IntegrationError
from lmsbridge.connectors.records import Record
from lmsbridge.connectors.registry import connector_class
from lmsbridge.db import Store
from lmsbridge.db.bulk import large_cache
from lmsbridge.integration_store.repository import Integration, end_user_of
from lmsbridge.jobs import JobContext, JobReleased
from lmsbridge.records.queries import has_records, live_id_chunks
from lmsbridge.records.registry import TABLES
from lmsbridge.records.stamps import store_now, take_stamp
from lmsbridge.records.writer import Counts, Prepared, RecordWriter, RowMaker
from lmsbridge.schemas.models import SYNC_MODELS
from lmsbridge.syncs.deletion_guard import DeletionGuard
from lmsbridge.syncs.repository import SyncRepository, SyncRun
from lmsbridge.syncs.states import SyncRunState

log = logging.getLogger("lmsbridge.syncs")
Page = TypeVar("Page", bound=Sized)

# Remote clocks and ours disagree a little; a delta reads this much further back (unchanged
# records cost a hash comparison, nothing more).
DELTA_OVERLAP = timedelta(seconds=60)

# Records written per transaction, at most: a transaction rewrites every index page it touched
# (random ids touch about one page per record), so the more records share a commit, the fewer
# pages each costs (SQLite, a bare insert into a table of 1,000,000: about 60 us a record at
# 5,000 a transaction, 35 us at 20,000, 23 us at 100,000). The batch's rows are held in memory
# while it is written: about 2.5 KiB a record at the peak, some 120 MiB at 50,000.
WRITE_BATCH = 50_000
# ...and fewer when a transaction held the stamp lock (and SQLite's one write lock, which the
# API's writes and synced reads wait for) longer than this: the next batch is sized to take it.
WRITE_SECONDS = 1.5
MIN_WRITE_BATCH = 1000


class BatchSize:
    """Records to gather before the next write transaction: `most` (WRITE_BATCH), or fewer if the
    last transaction's rate says that many would hold the lock longer than `seconds`
    (WRITE_SECONDS). Settings `sync_write_batch` and `sync_write_seconds`."""

    def __init__(self, most: int = WRITE_BATCH, seconds: float = WRITE_SECONDS) -> None:
        self.most = most
        self.seconds = seconds
        self.limit = most

    def took(self, records: int, seconds: float) -> None:
        if records < MIN_WRITE_BATCH or seconds <= 0:
            return  # a model's short last batch says little about the rate
        fit = int(records * self.seconds / seconds)
        self.limit = max(min(MIN_WRITE_BATCH, self.most), min(self.most, fit))


class SeenIds:
    """The ids a FULL run read, as 64-bit hashes in sorted runs: 8 bytes a record. A hash shared
    by an unseen record (about n**2 / 2**64) spares that record a deletion, never the reverse."""

    RUN = 65536

    def __init__(self) -> None:
        self._runs: list[array[int]] = []
        self._tail: list[int] = []

    def add(self, ids: list[str]) -> None:
        self._tail.extend(hash(i) for i in ids)
        if len(self._tail) >= self.RUN:
            self._seal()

    def _seal(self) -> None:
        if self._tail:
            self._runs.append(array("q", sorted(self._tail)))
            self._tail = []

    def __contains__(self, record_id: str) -> bool:
        self._seal()
        key = hash(record_id)
        for run in self._runs:
            at = bisect_left(run, key)
            if at < len(run) and run[at] == key:
                return True
        return False


@dataclass
class SyncOutcome:
    state: str
    counts: dict[str, Counts] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    failed_models: list[str] = field(default_factory=list)
    # Deletions the deletion guard held, {model: record ids}, until an operator confirms them.
    held: dict[str, list[str]] = field(default_factory=dict)
    # What the connector noticed though nothing failed (e.g. fields the remote withheld).
    warnings: list[str] = field(default_factory=list)

    @property
    def read_every_model(self) -> bool:
        """Every declared model was read to its last page (what completes an integration's setup)."""
        return self.state in ("SUCCEEDED", "PARTIALLY_FAILED") and not self.failed_models

    def changed_models(self) -> list[str]:
        changed = [model for model, counts in self.counts.items() if counts.changed]
        if "lms_courses" in changed:
            changed.append("lms_course_revisions")
        return sorted(changed)


def read_ahead(pages: Iterable[Page], ahead: Callable[[], int] = lambda: 2000) -> Iterator[Page]:
    """The connector's pages, read in a thread up to `ahead()` records (and at least one page)
    ahead of the caller: the next pages are fetched (a remote call, the Sandbox's SELECT) while
    the caller writes the last batch, which waits on the store with the GIL released. A read's
    error is raised where its page would have come; a caller that stops early stops the reader
    (the generator is closed in its thread)."""
    handoff: deque[tuple[str, Any, int]] = deque()
    queued = 0  # records in handoff
    turn = threading.Condition()
    stop = threading.Event()

    def give(kind: str, value: Any, size: int = 0) -> bool:
        nonlocal queued
        with turn:
            while handoff and queued + size > ahead() and not stop.is_set():
                turn.wait(0.1)
            if stop.is_set():
                return False
            handoff.append((kind, value, size))
            queued += size
            turn.notify_all()
        return True

    def read() -> None:
        iterator = iter(pages)
        try:
            for page in iterator:
                if not give("page", page, len(page)):
                    return
            give("end", None)
        except BaseException as error:  # handed to the caller, raised there
            give("error", error)
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                close()

    # The reader runs in this context (a remote call tally, say, counts its calls too).
    reader = threading.Thread(target=contextvars.copy_context().run, args=(read,), daemon=True)
    reader.start()
    try:
        while True:
            with turn:
                while not handoff:
                    turn.wait()
                kind, value, size = handoff.popleft()
                queued -= size
                turn.notify_all()
            if kind == "end":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        stop.set()
        with turn:
            turn.notify_all()
        reader.join()


class Batch:
    """What a sync read of one model and has not written yet: records, or their rows when the
    reader's thread built them (`Prepared`)."""

    def __init__(self) -> None:
        self.records: list[Record] = []
        self.rows = Prepared([], [])

    def add(self, page: Sequence[Record] | Prepared) -> None:
        if isinstance(page, Prepared):
            self.rows.extend(page)
        else:
            self.records.extend(page)

    def __len__(self) -> int:
        return len(self.records) + len(self.rows)

    def clear(self) -> None:
        self.records = []
        self.rows = Prepared([], [])


class SyncEngine:
    def __init__(
        self, store: Store, *, write_batch: int = WRITE_BATCH, write_seconds: float = WRITE_SECONDS
    ) -> None:
        self.store = store
        self.batch_size = BatchSize(write_batch, write_seconds)

    def run(
        self, run: SyncRun, integration: Integration, connector: Connector, ctx: JobContext
    ) -> SyncOutcome:
        with self.store.write() as conn:
            started = store_now(conn)
            repo = SyncRepository(conn)
            state = repo.state(integration.id)
            repo.start_run(run.id, started)
        full = run.type == "FULL"
        since = None if full or state.delta_cursor is None else state.delta_cursor - DELTA_OVERLAP
        caps = connector_class(integration.tool).capabilities
        guard = DeletionGuard.of(integration.tool, integration.settings)
        outcome = SyncOutcome(SyncRunState.SUCCEEDED)
        maker = RowMaker(integration.id)
        for model in SYNC_MODELS:
            if not caps.reads(model):
                continue
            counts = Counts()
            outcome.counts[model] = counts
            # A FULL run of a model the integration has no record of: nothing to look up, nothing
            # to delete after (a record written meanwhile is stamped after `started`: spared).
            first = full and not self._has_records(integration.id, model)
            seen = SeenIds() if full and not first else None
            batch = Batch()
            pages: Iterable[Sequence[Record] | Prepared] = connector.read(model, since)
            ahead: Callable[[], int] = lambda: 2000  # noqa: E731
            if not self.store.is_sqlite and model != "lms_courses":
                # PostgreSQL does a write's work in its own process: the reader's thread builds
                # the next batch's rows meanwhile. (Not on SQLite, whose work is this process's:
                # the reader's Python would hold up its inserts, each waiting for the GIL.)
                pages = map(partial(maker.prepare, model), pages)
                ahead = lambda: self.batch_size.limit  # noqa: E731
            try:
                try:
                    for page in read_ahead(pages, ahead):
                        batch.add(page)
                        if len(batch) >= self.batch_size.limit:
                            self._write(run.id, maker, model, batch, first, counts, seen)
                        if ctx.should_stop():
                            raise JobReleased
                except ConnectorError:
                    # The pages read before a remote failure are kept.
                    self._write(run.id, maker, model, batch, first, counts, seen)
                    raise
                self._write(run.id, maker, model, batch, first, counts, seen)
            except AuthenticationInvalidError as error:
                outcome.state = SyncRunState.AUTHENTICATION_FAILED
                outcome.errors.append(error.message)
                return outcome
            except IntegrationError as error:
                outcome.state = SyncRunState.FAILED
                outcome.errors.append(error.message)
                return outcome
            except ConnectorError as error:
                log.warning("sync %s: %s failed: %s", run.id, model, error.message)
                outcome.state = SyncRunState.PARTIALLY_FAILED
                outcome.errors.append(f"{model}: {error.message}")
                outcome.failed_models.append(model)
                continue
            if seen is not None:
                counts.deleted += self._mark_unseen_as_deleted(
                    integration.id, model, seen, started, guard, run.id, outcome
                )
        outcome.warnings.extend(getattr(connector, "sync_warnings", None) or [])
        if outcome.failed_models and len(outcome.failed_models) == len(outcome.counts):
            outcome.state = SyncRunState.FAILED  # no model succeeded: nothing of this sync is usable
        return outcome

    def _write(
        self,
        run_id: str,
        maker: RowMaker,
        model: str,
        batch: Batch,
        first: bool,
        counts: Counts,
        seen: SeenIds | None,
    ) -> None:
        """Write the batch read so far in one transaction, and empty it."""
        if not batch:
            return
        integration_id = maker.integration_id
        # Built outside the transaction: the lock is held for the store's work alone.
        prepared: Prepared | None = None
        if batch.rows:
            prepared = batch.rows
        elif model != "lms_courses":
            prepared = maker.prepare(model, batch.records)
        records = batch.records if prepared is None else []
        size = len(batch)
        batch.clear()  # (its rows or records are held here until written)
        with self.store.write() as conn:
            stamp = take_stamp(conn, integration_id)  # a deletion holds it while it runs
            began = time.perf_counter()  # held from here (waiting for it is not holding it)
            if SyncRepository(conn).get_run(run_id) is None:
                raise JobReleased  # the integration was deleted: write nothing more of it
            writer = RecordWriter(conn, integration_id, stamp, new_models=(model,) if first else ())
            with large_cache(conn):
                written, ids = writer.write(model, records, prepared)
        self.batch_size.took(size, time.perf_counter() - began)
        counts.add(written)
        if seen is not None:
            seen.add(ids)

    def _has_records(self, integration_id: str, model: str) -> bool:
        with self.store.read() as conn:
            return has_records(conn, TABLES[model], integration_id)

    def _mark_unseen_as_deleted(
        self,
        integration_id: str,
        model: str,
        seen: SeenIds,
        started: datetime,
        guard: DeletionGuard,
        sync_id: str,
        outcome: SyncOutcome,
    ) -> int:
        missing: list[str] = []
        live = 0
        for chunk in self._live_ids(integration_id, model):
            live += len(chunk)
            missing.extend(record_id for record_id in chunk if record_id not in seen)
        if not missing:
            return 0
        if guard.holds(len(missing), live):
            log.warning("sync %s: %s: %d of %d deletions held", sync_id, model, len(missing), live)
            outcome.held[model] = missing
            outcome.state = SyncRunState.PARTIALLY_FAILED
            outcome.errors.append(guard.reason(sync_id, model, len(missing), live))
            return 0
        with self.store.write() as conn:
            stamp = take_stamp(conn, integration_id)
            return RecordWriter(conn, integration_id, stamp).mark_deleted(model, missing, started)

    def _live_ids(self, integration_id: str, model: str) -> Iterator[list[str]]:
        after: str | None = None
        while True:
            with self.store.read() as conn:
                chunk = live_id_chunks(conn, TABLES[model], integration_id, after)
            if not chunk:
                return
            yield chunk
            after = chunk[-1]


def finished_payload(
    run: SyncRun,
    integration: Integration,
    state: str,
    started: datetime | None,
    ended: datetime,
    public_url: str | None,
) -> dict[str, Any]:
    begun = started or ended
    return {
        "sync_id": run.id,
        "sync_state": state,
        "sync_started_at": to_wire(begun),
        "sync_ended_at": to_wire(ended),
        "sync_duration_seconds": max(0, int((ended - begun).total_seconds())),
        "integration_id": integration.id,
        "integration_tool": integration.tool,
        "integration_category": "LMS",
        "end_user": end_user_of(integration),
        "log_url": f"{public_url}/logs/syncs/{run.id}" if public_url else None,
    }
