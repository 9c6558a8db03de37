"""The job handler of bulk tasks: runs the items that have no outcome yet through the
integration's connector and commits outcomes in small batches, so a worker that dies loses at
most one batch of work, which the next worker redoes (connectors match items by origin_id, so
redoing an item never duplicates it in the remote system)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import timedelta
from functools import partial

from lmsbridge.clock import utc_now
from lmsbridge.config import Settings
from lmsbridge.connector_runtime import connector_for
from lmsbridge.connectors.base import CourseUpsert, ItemOutcome, SkillUpsert
from lmsbridge.connectors.errors import IntegrationError
from lmsbridge.connectors.records import Record
from lmsbridge.db import Store
from lmsbridge.errors import ErrorCode
from lmsbridge.ids import derived_id
from lmsbridge.integration_store.credentials import CredentialBox
from lmsbridge.integration_store.repository import Integration, IntegrationRepository
from lmsbridge.jobs import Job, JobContext, JobDeferred, JobReleased
from lmsbridge.records.stamps import take_stamp
from lmsbridge.records.writer import RecordWriter
from lmsbridge.remote_pacing import StorePacer
from lmsbridge.tasks.repository import ItemRow, Outcome, Task, TaskRepository
from lmsbridge.tasks.service import KINDS, TaskKind, record_completed
from lmsbridge.tasks.states import ItemStatus, TaskStatus

log = logging.getLogger("lmsbridge.tasks")


def _course(item: ItemRow) -> CourseUpsert:
    course = item.payload["course"]
    languages = course.get("languages")
    return CourseUpsert(
        origin_id=item.origin_id,
        title=course["title"],
        course_url=course["course_url"],
        description=course.get("description"),
        thumbnail_url=course.get("thumbnail_url"),
        duration=course.get("duration"),
        languages=tuple(languages) if languages is not None else None,
    )


def _skill(item: ItemRow) -> SkillUpsert:
    return SkillUpsert(item.origin_id, item.payload["name"], item.payload.get("status", "ACTIVE"))


class _Flushes:
    """A task's flushes, in order, at most one in flight. On PostgreSQL a flush commits on a
    helper thread while the runner goes on to the next remote call, so the database server's
    work on one batch overlaps the worker's on the next; on SQLite, where the flush and a remote
    write to the store (the Sandbox's) would queue on the one write lock, each runs inline. A
    worker killed meanwhile loses at most the flush in flight and the buffer: the next worker
    redoes those items, which the remote matches by origin_id."""

    def __init__(self, flush: Callable[[list[Outcome], list[Record]], None], *, overlap: bool) -> None:
        self._flush = flush
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="lmsbridge-flush") if overlap else None
        self._in_flight: Future[None] | None = None

    def submit(self, outcomes: list[Outcome], records: list[Record]) -> None:
        self.wait()
        if not outcomes:
            return
        if self._pool is None:
            self._flush(outcomes, records)
        else:
            self._in_flight = self._pool.submit(self._flush, outcomes, records)

    def wait(self) -> None:
        """Until the flush in flight has committed; raises what it raised."""
        in_flight, self._in_flight = self._in_flight, None
        if in_flight is not None:
            in_flight.result()

    def close(self) -> None:
        try:
            self.wait()
        finally:
            if self._pool is not None:
                self._pool.shutdown()


class BulkTaskRunner:
    def __init__(self, store: Store, settings: Settings, box: CredentialBox) -> None:
        self.store = store
        self.settings = settings
        self.box = box
        self.pacer = StorePacer(store)

    def run(self, job: Job, ctx: JobContext) -> None:
        task_id = job.payload["task_id"]
        with self.store.read() as conn:
            task = TaskRepository(conn).get(task_id)
            if task is None or task.status != TaskStatus.PENDING:
                return
            integration = IntegrationRepository(conn).get(task.integration_id)
            pending = TaskRepository(conn).pending_items(task_id)
        assert integration is not None
        if not pending:
            self._complete(task)
        elif utc_now() >= task.deadline_at:
            self._time_out(task)
        elif integration.status == "INACTIVE":
            self._stop(task, ErrorCode.INTEGRATION_INACTIVE, "The integration is inactive.")
        else:
            self._run_items(task, integration, pending, ctx)

    def give_up(self, job: Job, error: str) -> None:
        with self.store.read() as conn:
            task = TaskRepository(conn).get(job.payload["task_id"])
        if task is not None and task.status == TaskStatus.PENDING:
            self._stop(
                task,
                ErrorCode.UNKNOWN_ERROR,
                "An internal error stopped this task after repeated attempts; "
                "the remaining items were not processed.",
            )
            log.error("task %s given up: %s", task.id, error)

    def _run_items(
        self, task: Task, integration: Integration, pending: list[ItemRow], ctx: JobContext
    ) -> None:
        kind = KINDS[task.kind]
        connector = connector_for(self.store, self.box, integration, pacer=self.pacer)
        stream: Iterator[ItemOutcome]
        if kind.name == "lms_courses_bulk":
            stream = connector.upsert_courses([_course(item) for item in pending])
        else:
            stream = connector.upsert_skills([_skill(item) for item in pending])
        positions = {item.origin_id: item.position for item in pending}
        try:
            finished = self._consume(task, kind, stream, positions, ctx)
        except IntegrationError as error:
            self._stop(task, error.code, error.message)
            return
        if finished:
            self._complete(task)

    def _consume(
        self,
        task: Task,
        kind: TaskKind,
        stream: Iterator[ItemOutcome],
        positions: dict[str, int],
        ctx: JobContext,
    ) -> bool:
        """Record outcomes as they come, `task_flush_items` at a time (or what came in
        `task_flush_seconds`); False when the task was timed out on the way. A stopping worker
        commits the outcomes it holds at the next outcome, so it hands the job back without
        waiting for a full flush, however large flushes are."""
        buffer: list[Outcome] = []
        records: list[Record] = []
        flush_items, flush_seconds = self.settings.task_flush_items, self.settings.task_flush_seconds
        flushes = _Flushes(partial(self._flush, task, kind), overlap=not self.store.is_sqlite)
        last_flush = time.monotonic()
        try:
            try:
                for outcome in stream:
                    position = positions.get(outcome.origin_id)
                    if position is None:
                        log.warning(
                            "task %s: connector returned unknown origin_id %r", task.id, outcome.origin_id
                        )
                        continue
                    buffer.append(self._outcome(task, kind, position, outcome))
                    if outcome.record is not None and outcome.error is None:
                        records.append(outcome.record)
                    stopping = ctx.should_stop()
                    if (
                        stopping
                        or len(buffer) >= flush_items
                        or time.monotonic() - last_flush >= flush_seconds
                    ):
                        flushes.submit(buffer, records)
                        buffer, records, last_flush = [], [], time.monotonic()
                        if stopping:
                            raise JobReleased
                        if utc_now() >= task.deadline_at:
                            flushes.wait()  # every outcome committed before the rest fail
                            self._time_out(task)
                            return False
            except JobDeferred as deferred:
                # The remote asks us to slow down: keep what is done, come back when it is time;
                # unless its next slot comes after the deadline, which no item left can then meet.
                flushes.submit(buffer, records)
                if utc_now() + timedelta(seconds=deferred.delay_seconds) >= task.deadline_at:
                    flushes.wait()  # every outcome committed before the rest fail
                    self._time_out(
                        task,
                        f"The remote's next free slot ({deferred.delay_seconds:.0f}s away) comes after "
                        f"the task's deadline ({self.settings.task_deadline_seconds:g}s after it was "
                        "created).",
                    )
                    return False
                raise
            flushes.submit(buffer, records)
        finally:
            # Whatever ends the run (the end of the items, an error, a stop), it ends with every
            # flush committed: a task is never stopped or completed under an outcome in flight.
            flushes.close()
        return True

    def _outcome(self, task: Task, kind: TaskKind, position: int, outcome: ItemOutcome) -> Outcome:
        if outcome.error is None and outcome.remote_id is not None:
            return Outcome(
                position,
                ItemStatus.SUCCEEDED,
                result_id=derived_id(task.integration_id, kind.model, outcome.remote_id),
                remote_id=outcome.remote_id,
            )
        error = outcome.error
        return Outcome(
            position,
            ItemStatus.FAILED,
            error_code=(error.code if error else ErrorCode.REMOTE_UNKNOWN_HTTP_ERROR).value,
            error_message=error.message if error else "The remote system returned no id.",
        )

    def _flush(self, task: Task, kind: TaskKind, outcomes: list[Outcome], records: list[Record]) -> None:
        """Outcomes and the records they wrote, in one transaction: a succeeded item is readable
        (a course at GET /lms/courses, with its origin_id) as soon as its outcome is."""
        if outcomes:
            with self.store.write() as conn:
                # The stamp lock first: a deletion holds it, so after it this sees the task gone.
                stamp = take_stamp(conn, task.integration_id) if records else None
                if TaskRepository(conn).get(task.id) is None:
                    raise JobReleased  # the integration was deleted: write nothing more of it
                if stamp is not None:
                    RecordWriter(conn, task.integration_id, stamp).write(kind.model, records)
                TaskRepository(conn).record_outcomes(task.id, outcomes)

    def _complete(self, task: Task) -> None:
        with self.store.write() as conn:
            if TaskRepository(conn).complete_if_done(task.id):
                record_completed(conn, task.id)

    def _time_out(self, task: Task, message: str | None = None) -> None:
        self._stop(
            task,
            ErrorCode.TASK_TIMED_OUT,
            message
            or f"The task did not finish before its deadline ({self.settings.task_deadline_seconds:g}s "
            "after it was created).",
        )

    def _stop(self, task: Task, code: ErrorCode | str, message: str) -> None:
        """End the task: FAILED as a whole when nothing ran, otherwise the items that have no
        outcome fail with this error and the task completes."""
        code = str(code)
        with self.store.write() as conn:
            repo = TaskRepository(conn)
            if repo.has_outcomes(task.id):
                repo.fail_pending_items(task.id, code, message)
                ended = repo.complete_if_done(task.id)
            else:
                ended = repo.fail_task(task.id, code, message)
            if ended:  # the task-completed event commits with the task's end
                record_completed(conn, task.id)
