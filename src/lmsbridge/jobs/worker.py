"""The worker: threads that claim jobs, run their kinds' handlers, and a heartbeat that renews
every lease this worker holds. Stopping (SIGTERM) lets each handler hand its job back at a safe
point. Each job kind is declared with its handler and its retry policy (`JobKind`)."""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from lmsbridge.clock import utc_now
from lmsbridge.db import Store
from lmsbridge.ids import new_id
from lmsbridge.jobs.queue import Clock, Job, JobQueue
from lmsbridge.jobs.retry import DEFAULT_RETRY, RetryPolicy
from lmsbridge.jobs.wakeup import WORKERS, WakeUp

log = logging.getLogger("lmsbridge.worker")


class JobReleased(Exception):
    """Raised by a handler that stopped at a safe point: the job goes back to the queue as is."""


class JobDeferred(JobReleased):
    """Raised by a handler that must wait before it can go on (a remote asks it to slow down):
    the job goes back to the queue, runnable again in `delay_seconds`, and the thread is free for
    other jobs meanwhile. The attempt does not count."""

    def __init__(self, delay_seconds: float, reason: str = "") -> None:
        super().__init__(reason or f"deferred for {delay_seconds:.2f}s")
        self.delay_seconds = delay_seconds


@dataclass
class JobContext:
    job: Job
    stopping: threading.Event
    lease_lost: bool = field(default=False)

    def should_stop(self) -> bool:
        """True when the worker is stopping or another worker may have taken the job."""
        return self.stopping.is_set() or self.lease_lost


class Handler(Protocol):
    def run(self, job: Job, ctx: JobContext) -> None:
        """Do the job; idempotent, since a job whose worker died runs again."""

    def give_up(self, job: Job, error: str) -> None:
        """Called once when the job will not be tried again."""


@dataclass(frozen=True)
class JobKind:
    """A kind of job: its name (the `kind` column), what runs it and what a failure leads to."""

    name: str
    handler: Handler
    retry: RetryPolicy = DEFAULT_RETRY


class Worker:
    def __init__(
        self,
        store: Store,
        kinds: Sequence[JobKind],
        *,
        concurrency: int = 2,
        lease_seconds: float = 30.0,
        poll_seconds: float = 0.25,
        max_attempts: int = 10,
        periodic: Sequence[tuple[float, Callable[[], object]]] = (),
        wakeup: WakeUp = WORKERS,
        clock: Clock = utc_now,
    ) -> None:
        self.store = store
        self.queue = JobQueue(store, max_attempts=max_attempts, clock=clock)
        self.kinds = {kind.name: kind for kind in kinds}
        self.wakeup = wakeup
        self.concurrency = concurrency
        self.lease_seconds = lease_seconds
        self.poll_seconds = poll_seconds
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{new_id()[:8]}"
        self.stopping = threading.Event()
        self._running: dict[int, JobContext] = {}
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self.periodic = list(periodic)

    def start(self) -> None:
        for n in range(self.concurrency):
            thread = threading.Thread(target=self._loop, name=f"lmsbridge-worker-{n}", daemon=True)
            thread.start()
            self._threads.append(thread)
        beat = threading.Thread(target=self._heartbeat_loop, name="lmsbridge-heartbeat", daemon=True)
        beat.start()
        self._threads.append(beat)
        for interval, duty in self.periodic:
            thread = threading.Thread(
                target=self._periodic_loop,
                args=(interval, duty),
                daemon=True,
                name=f"lmsbridge-periodic-{getattr(duty, '__name__', 'duty')}",
            )
            thread.start()
            self._threads.append(thread)
        log.info("worker %s started with %d threads", self.worker_id, self.concurrency)

    def stop(self, timeout: float = 30.0) -> None:
        """Stop claiming; running handlers finish or hand their job back."""
        self.stopping.set()
        self.wakeup.notify()
        for thread in self._threads:
            thread.join(timeout)
        log.info("worker %s stopped", self.worker_id)

    def _loop(self) -> None:
        idle = self.poll_seconds
        while not self.stopping.is_set():
            try:
                job = self.queue.claim(self.worker_id, self.lease_seconds)
            except Exception as error:
                log.warning("could not claim a job (%s); retrying in %.1fs", error, idle)
                self.stopping.wait(idle)
                idle = min(idle * 2, 5.0)
                continue
            idle = self.poll_seconds
            if job is None:
                self.wakeup.wait(self.poll_seconds)
                continue
            ctx = JobContext(job, self.stopping)
            with self._lock:
                self._running[job.id] = ctx
            try:
                self._execute(job, ctx)
            finally:
                with self._lock:
                    self._running.pop(job.id, None)

    def _execute(self, job: Job, ctx: JobContext) -> None:
        kind = self.kinds.get(job.kind)
        if kind is None:
            self._settle(job, self.queue.fail, f"no handler for job kind {job.kind!r}")
            return
        handler = kind.handler
        if job.attempts > job.max_attempts:
            self._give_up(handler, job, f"gave up after {job.max_attempts} attempts")
            return
        try:
            handler.run(job, ctx)
        except JobDeferred as deferred:
            log.info("job %s (%s) deferred for %.2fs: %s", job.id, job.kind, deferred.delay_seconds, deferred)
            self._settle(job, self.queue.release, deferred.delay_seconds)
        except JobReleased:
            self._settle(job, self.queue.release)
        except Exception as error:
            log.exception("job %s (%s) failed on attempt %d", job.id, job.kind, job.attempts)
            message = f"{type(error).__name__}: {error}"
            delay = kind.retry.after_failure(error, job.attempts, job.max_attempts)
            if delay is None:
                self._give_up(handler, job, message)
            else:
                self._settle(job, self.queue.retry, message, delay)
        else:
            self._settle(job, self.queue.complete)

    def _give_up(self, handler: Handler, job: Job, message: str) -> None:
        try:
            handler.give_up(job, message)
        except Exception:
            log.exception("job %s: give_up failed; its lease will expire and it runs again", job.id)
            return
        self._settle(job, self.queue.fail, message)

    def _settle(self, job: Job, transition: Callable[..., bool], *args: object) -> None:
        """Record a job's end (complete, fail, retry, release). The job leaves the heartbeat's set
        first: once the row is no longer `running`, a heartbeat that still counted it would find
        it gone and report a lease lost that was in fact handed over on purpose."""
        with self._lock:
            self._running.pop(job.id, None)
        try:
            transition(job.id, self.worker_id, *args)
        except Exception as error:
            # A store outage here is survivable: the lease expires and another claim resumes the job.
            log.warning("could not record job %s's state (%s); its lease will expire", job.id, error)

    def _periodic_loop(self, interval: float, duty: Callable[[], object]) -> None:
        """Run a duty now and then every `interval` seconds; a failure waits for the next turn."""
        while not self.stopping.is_set():
            try:
                duty()
            except Exception as error:
                log.warning("periodic %s failed: %s", getattr(duty, "__name__", duty), error)
            self.stopping.wait(interval)

    def _heartbeat_loop(self) -> None:
        while not self.stopping.wait(self.lease_seconds / 3):
            self.heartbeat()
        self.heartbeat()

    def heartbeat(self) -> None:
        with self._lock:
            running = dict(self._running)
        if not running:
            return
        try:
            held = self.queue.heartbeat(list(running), self.worker_id, self.lease_seconds)
        except Exception as error:
            log.warning("heartbeat failed (%s)", error)
            return
        with self._lock:
            # A job settled while the renewal ran has left `_running`: its lease was not lost.
            lost = [(i, c) for i, c in running.items() if i not in held and self._running.get(i) is c]
        for job_id, ctx in lost:
            log.warning("job %s: lease lost; stopping it", job_id)
            ctx.lease_lost = True
