"""Writing and reading interactions. Successful calls are written in batches by a background
thread (off the request's path); errors are written before their response is sent, so the page
their log_url names exists by the time a client follows it."""

from __future__ import annotations

import logging
import queue
import threading
from typing import Any

from sqlalchemy import Connection, select

from lmsbridge.db import Store
from lmsbridge.db.bulk import insert_rows
from lmsbridge.db.tables import integrations, interactions

log = logging.getLogger("lmsbridge.logs")


class InteractionRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def insert_many(self, rows: list[dict[str, Any]]) -> None:
        """Rows are written after their answer went out, so the integration a call named may be
        gone (deleted meanwhile) or may never have existed: such a row keeps no integration id.
        Holding the named integrations' rows (shared) orders this after a deletion in flight."""
        if not rows:
            return
        named = {row["integration_id"] for row in rows if row.get("integration_id")}
        if named:
            existing = set(
                self.conn.scalars(
                    select(integrations.c.id)
                    .where(integrations.c.id.in_(sorted(named)))
                    .with_for_update(read=True)
                )
            )
            if existing != named:
                rows = [
                    {**row, "integration_id": None} if row.get("integration_id") not in existing else row
                    for row in rows
                ]
        # All rows have the recorder's keys; COPY on PostgreSQL (db/bulk.py).
        insert_rows(self.conn, interactions, rows)

    def get(self, interaction_id: str) -> Any:
        return self.conn.execute(select(interactions).where(interactions.c.id == interaction_id)).first()


class InteractionWriter:
    def __init__(self, store: Store, *, flush_seconds: float = 0.5, batch: int = 1000) -> None:
        self.store = store
        self.flush_seconds = flush_seconds
        self.batch = batch
        self._queue: queue.Queue[dict[str, Any]] = queue.Queue(maxsize=100_000)
        self._stop = threading.Event()
        # One flush at a time: a `flush()` called from outside returns only once the background
        # thread's batch in flight is stored too.
        self._flushing = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="lmsbridge-interactions", daemon=True)
        self._thread.start()

    def write_now(self, row: dict[str, Any]) -> None:
        try:
            with self.store.write() as conn:
                InteractionRepository(conn).insert_many([row])
        except Exception as error:  # the log must never break the request it records
            log.warning("could not record interaction %s: %s", row["id"], error)

    def write_later(self, row: dict[str, Any]) -> None:
        try:
            self._queue.put_nowait(row)
        except queue.Full:
            log.warning("interaction log queue full; dropping %s", row["id"])

    def _drain(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        while len(rows) < self.batch:
            try:
                rows.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return rows

    def flush(self) -> None:
        """Store every interaction queued so far (and wait for a batch being stored meanwhile)."""
        with self._flushing:
            while rows := self._drain():
                try:
                    with self.store.write() as conn:
                        InteractionRepository(conn).insert_many(rows)
                except Exception as error:
                    log.warning("could not record %d interactions: %s", len(rows), error)
                    return

    def _run(self) -> None:
        while not self._stop.wait(self.flush_seconds):
            self.flush()
        self.flush()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(10)
