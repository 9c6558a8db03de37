"""Synced reads and syncs at scale: a Sandbox integration with a million course progressions.

  (d) full sync throughput (records written per second of the run, from sync_runs) and the time
      of a DELTA sync after 1% of the progressions changed, as a share of the full sync's;
  (a) GET /v1/lms/course-progressions?page_size=250 on one API process (`serve --no-worker`):
      sequential latency p50/p99 walking the cursors, and pages per second from a few
      concurrent keep-alive clients;
  (b) latency of a page deep in the result (after 3,000 pages) over the first page's;
  (c) the endpoint's time per page over the bare SELECT + serialisation + orjson.dumps of the
      same 250 records, measured in-process in the same run.

It prints figures and writes them to .bench/reads-<db>.json; it never asserts a timing.

    .venv/bin/python bench/reads_and_syncs.py --db sqlite
    .venv/bin/python bench/reads_and_syncs.py --db postgres
    .venv/bin/python bench/reads_and_syncs.py --db sqlite --quick    # 100k progressions
"""

from __future__ import annotations

import argparse
import cProfile
import http.client
import io
import json
import os
import pstats
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
from sqlalchemy import bindparam, func, select, text, update

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import (
    DEFAULT_POSTGRES_URL,
    PYTHON,
    ROOT,
    SECRET_KEY,
    CpuMeter,
    cli,
    database_version,
    free_port,
    fresh_database,
    hammer_keepalive,
    machine,
    percentile,
    service_env,
    table,
    workspace,
)
from lmsbridge.clock import utc_now
from lmsbridge.config import Settings
from lmsbridge.connectors.sandbox.connector import SandboxSettings
from lmsbridge.db import Store
from lmsbridge.db import tables as t
from lmsbridge.db.bulk import large_cache
from lmsbridge.db.migrations import migrate
from lmsbridge.integration_store.credentials import CredentialBox, load_secret_key
from lmsbridge.integration_store.repository import IntegrationRepository
from lmsbridge.jobs import JobContext, JobQueue
from lmsbridge.records.listing import CursorCodec, ListQuery, fingerprint
from lmsbridge.records.queries import list_page
from lmsbridge.records.registry import LISTED, TABLES
from lmsbridge.sandbox.generator import SandboxSize
from lmsbridge.sandbox.repository import SandboxStateRepository
from lmsbridge.schemas.models import SYNC_MODELS
from lmsbridge.syncs.engine import DELTA_OVERLAP, WRITE_BATCH
from lmsbridge.syncs.repository import ACTIVE_STATES, SyncRepository, SyncRun
from lmsbridge.syncs.runner import SyncRunner
from lmsbridge.syncs.service import request_sync

MODEL = "lms_course_progressions"
PATH = "/v1/lms/course-progressions"
PAGE_SIZE = 250
DEEP_PAGES = 3_000  # (b): the page after this many pages (position 750,000)

TARGET_SYNC_RECORDS_PER_SECOND = 20_000
TARGET_DELTA_SHARE = 0.05
TARGET_P50_MS = 15.0
TARGET_DEEP_RATIO = 1.2
TARGET_OVERHEAD_RATIO = 2.0


# -- the API process ------------------------------------------------------------------------------
class ApiProcess:
    """`python -m lmsbridge serve --no-worker`: one API process, no worker."""

    def __init__(self, workdir: Path, env: dict[str, str]) -> None:
        self.workdir = workdir
        self.env = env
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid if self.process else 0

    def start(self, timeout: float = 60.0) -> None:
        with (self.workdir / "serve.log").open("ab") as log:
            self.process = subprocess.Popen(
                [PYTHON, "-m", "lmsbridge", "serve", "--no-worker", "--port", str(self.port)],
                env=self.env,
                cwd=self.workdir,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"lmsbridge serve exited early:\n{self.log_tail()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"lmsbridge serve did not become healthy:\n{self.log_tail()}")
            time.sleep(0.05)

    def stop(self, grace: float = 10.0) -> str:
        if self.process is None or self.process.poll() is not None:
            return "not running"
        self.process.terminate()
        try:
            self.process.wait(grace)
            return f"exited with {self.process.returncode}"
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            return f"killed after {grace:g}s"

    def cpu_meter(self) -> CpuMeter:
        return CpuMeter([self.pid])

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = (self.workdir / "serve.log").read_text(errors="replace")
            return "\n".join(text.splitlines()[-lines:])
        except OSError:
            return "(no log)"


def _schedstat(pid: int) -> dict[int, tuple[float, float]]:
    """Per thread of a process: (seconds on a CPU, seconds runnable but waiting for one)."""
    out = {}
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return out
    for task in tasks:
        try:
            run, wait, _ = (task / "schedstat").read_text().split()
        except (OSError, ValueError):
            continue
        out[int(task.name)] = (int(run) / 1e9, int(wait) / 1e9)
    return out


class SchedMeter:
    """Where a process's wall time went (Linux): on a CPU, waiting for a CPU (other processes
    had them), and the rest (I/O, locks, sleeps), summed over its threads. Read it before
    threads end: an ended thread's times are gone."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.before = _schedstat(pid)
        self.wall0 = time.perf_counter()

    def read(self) -> dict[str, float]:
        wall = time.perf_counter() - self.wall0
        after = _schedstat(self.pid)
        run = sum(r - self.before.get(tid, (0.0, 0.0))[0] for tid, (r, _) in after.items())
        wait = sum(w - self.before.get(tid, (0.0, 0.0))[1] for tid, (_, w) in after.items())
        return {"wall_s": round(wall, 2), "on_cpu_s": round(run, 2), "cpu_wait_s": round(wait, 2)}


def sched_text(sched: dict[str, float]) -> str:
    return (
        f"{sched['on_cpu_s']:.1f} s on a CPU, {sched['cpu_wait_s']:.1f} s waiting for one "
        f"(busy machine), {max(0.0, sched['wall_s'] - sched['on_cpu_s'] - sched['cpu_wait_s']):.1f} s "
        "neither (I/O, locks)"
    )


class PageClient:
    """A minimal sequential keep-alive client (http.client): little client time in a latency."""

    def __init__(self, url: str, headers: dict[str, str]) -> None:
        parsed = httpx.URL(url)
        self.conn = http.client.HTTPConnection(parsed.host, parsed.port, timeout=120)
        self.headers = headers

    def get(self, path: str) -> tuple[float, bytes]:
        """(milliseconds from sending the request to the last byte of the body, body)."""
        started = time.perf_counter()
        self.conn.request("GET", path, headers=self.headers)
        response = self.conn.getresponse()
        body = response.read()
        elapsed = (time.perf_counter() - started) * 1000
        if response.status != 200:
            raise RuntimeError(f"GET {path} answered {response.status}: {body[:500]!r}")
        return elapsed, body

    def close(self) -> None:
        self.conn.close()


def page_path(cursor: str | None) -> str:
    return f"{PATH}?page_size={PAGE_SIZE}" + (f"&cursor={cursor}" if cursor else "")


# -- syncs (in-process) ---------------------------------------------------------------------------
def local_settings(url: str, workdir: Path) -> Settings:
    return Settings(database_url=url, secret_key=SECRET_KEY, secret_key_file=str(workdir / "lmsbridge.key"))


def wait_run(store: Store, run_id: str, timeout: float) -> SyncRun:
    deadline = time.monotonic() + timeout
    while True:
        with store.read() as conn:
            run = SyncRepository(conn).get_run(run_id)
        assert run is not None
        if run.state not in ACTIVE_STATES:
            return run
        if time.monotonic() > deadline:
            raise RuntimeError(f"sync {run_id} still {run.state} after {timeout:g}s")
        time.sleep(0.2)


def _rss_kib(pid: int, field: str = "VmRSS") -> int | None:
    """A process's resident memory (VmRSS) or its peak so far (VmHWM), in KiB (Linux /proc)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def run_sync(
    store: Store,
    settings: Settings,
    run_id: str,
    *,
    profile: Path | None,
    timeout: float,
    env: dict[str, str],
    workdir: Path,
) -> tuple[SyncRun, dict[str, float], dict[str, float | None]]:
    """Run the queued sync: in a `python -m lmsbridge worker --concurrency 1` process, as a
    deployment runs it (its CPU from /proc, its resident memory sampled every 0.1 s and its peak
    from VmHWM); or, with `profile`, claimed and run in this thread under cProfile (cProfile sees
    one thread; no memory figures then)."""
    if profile is None:
        with (workdir / "worker.log").open("ab") as log:
            worker = subprocess.Popen(
                [PYTHON, "-m", "lmsbridge", "worker", "--concurrency", "1"],
                env=env,
                cwd=workdir,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        meter = SchedMeter(worker.pid)
        at_start: int | None = None
        deadline = time.monotonic() + timeout
        try:
            while True:
                with store.read() as conn:
                    run = SyncRepository(conn).get_run(run_id)
                assert run is not None
                if at_start is None and run.started_at is not None:
                    at_start = _rss_kib(worker.pid)  # as the sync began
                if run.state not in ACTIVE_STATES:
                    break
                if worker.poll() is not None:
                    raise RuntimeError(f"the worker exited with {worker.returncode}; see worker.log")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"sync {run_id} still {run.state} after {timeout:g}s")
                time.sleep(0.1)
            sched = meter.read()
            memory: dict[str, float | None] = {
                "rss_at_start_mib": None if at_start is None else round(at_start / 1024, 1),
                "peak_rss_mib": _mib(_rss_kib(worker.pid, "VmHWM")),
                "rss_at_end_mib": _mib(_rss_kib(worker.pid)),
            }
            return run, sched, memory
        finally:
            worker.send_signal(signal.SIGINT)
            try:
                worker.wait(15)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
    box = CredentialBox(load_secret_key(settings, create=False))
    queue = JobQueue(store, max_attempts=settings.job_max_attempts)
    job = queue.claim("bench-profiler", 3600)
    if job is None:
        raise RuntimeError("no sync job to claim")
    meter = SchedMeter(os.getpid())
    profiler = cProfile.Profile(time.thread_time)  # CPU time: a busy machine does not inflate it
    profiler.enable()
    SyncRunner(store, box).run(job, JobContext(job, threading.Event()))
    profiler.disable()
    sched = meter.read()
    queue.complete(job.id, "bench-profiler")
    profiler.dump_stats(profile)
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(30)
    print(f"  profile written to {profile}; the top of it:\n" + _indent(out.getvalue(), 4))
    return wait_run(store, run_id, 10), sched, {}


def _mib(kib: int | None) -> float | None:
    return None if kib is None else round(kib / 1024, 1)


def _indent(text: str, n: int) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return "\n".join(" " * n + line for line in lines[:48])


def records_of(run: SyncRun) -> int:
    return sum(sum(counts.values()) for counts in run.counts.values())


def run_seconds(run: SyncRun) -> float:
    assert run.started_at is not None and run.ended_at is not None
    return (run.ended_at - run.started_at).total_seconds()


def change_progressions(store: Store, integration_id: str, share: float) -> int:
    """Change `share` of the Sandbox's progressions, as its LMS would: every n-th by remote id
    gets a new state and updated_at = now (what SandboxStateRepository._change_one does)."""
    records = t.sandbox_records
    where = (records.c.integration_id == integration_id, records.c.model == MODEL)
    with store.read() as conn:
        remote_ids = sorted(conn.scalars(select(records.c.remote_id).where(*where)))
    step = max(1, round(1 / share))
    chosen = remote_ids[::step]
    now = utc_now()
    stmt = (
        update(records)
        .where(*where, records.c.remote_id == bindparam("c_remote_id"))
        .values(data=bindparam("c_data"), updated_at=now)
    )
    with store.write() as conn:
        for start in range(0, len(chosen), 1000):
            chunk = chosen[start : start + 1000]
            rows = conn.execute(
                select(records.c.remote_id, records.c.data).where(*where, records.c.remote_id.in_(chunk))
            )
            changes = []
            for remote_id, data in rows:
                data = dict(data)
                data["state"] = "COMPLETED" if data["state"] != "COMPLETED" else "IN_PROGRESS"
                data["completed"] = now.isoformat() if data["state"] == "COMPLETED" else None
                changes.append({"c_remote_id": remote_id, "c_data": data})
            conn.execute(stmt, changes)
    return len(chosen)


def bare_insert(source: Store, target_url: str, integration_id: str) -> dict[str, Any]:
    """The ceiling of (d): the records the full sync wrote, read back from the store in the order
    it wrote them (SQLite's rowid, PostgreSQL's ctid), inserted into an empty store of the same
    schema by SQLAlchemy Core (`table.insert()` with a list of rows, one transaction per
    WRITE_BATCH rows, SQLite's page cache raised as the sync raises it): no connector, no sync
    engine, no hashing. Only the inserts are timed."""
    target = Store(target_url)
    migrate(target)
    records, seconds, cpu = 0, 0.0, 0.0
    order = text("rowid") if source.is_sqlite else text("ctid")
    try:
        for model in SYNC_MODELS:
            table = TABLES[model]
            query = select(table).where(table.c.integration_id == integration_id).order_by(order)
            with source.engine.connect() as conn:
                result = conn.execution_options(yield_per=WRITE_BATCH).execute(query)
                for part in result.partitions():
                    rows = [row._asdict() for row in part]
                    c0, t0 = time.thread_time(), time.perf_counter()
                    with target.write() as out, large_cache(out):  # as the sync's writes
                        out.execute(table.insert(), rows)
                    seconds += time.perf_counter() - t0
                    cpu += time.thread_time() - c0
                    records += len(rows)
    finally:
        target.dispose()
    return {
        "records": records,
        "seconds": round(seconds, 3),
        "records_per_second": round(records / seconds, 1),
        "client_cpu_s_per_100k": round(cpu * 100_000 / records, 2),
    }


def bench_syncs(
    store: Store,
    settings: Settings,
    integration_id: str,
    full_run_id: str,
    *,
    change_share: float,
    profile_dir: Path | None,
    env: dict[str, str],
    workdir: Path,
    ceiling_url: str,
) -> dict[str, Any]:
    with store.read() as conn:
        integration = IntegrationRepository(conn).get(integration_id)
    assert integration is not None
    s = SandboxSettings.model_validate(integration.settings)
    size = SandboxSize(users=s.users, courses=s.courses, progressions=s.progressions, seed=s.seed)
    sandbox = SandboxStateRepository(store)

    print(
        f"\n(d) syncs: Sandbox with {s.users:,} users, {s.courses:,} courses, "
        f"{s.progressions:,} progressions (page size {s.page_size})"
    )
    started = time.perf_counter()
    generation_began = utc_now()
    sandbox.ensure_generated(integration_id, size)
    generated_s = time.perf_counter() - started
    with store.read() as conn:
        sandbox_rows = conn.scalar(
            select(func.count())
            .select_from(t.sandbox_records)
            .where(t.sandbox_records.c.integration_id == integration_id)
        )
    print(
        f"  pre-generated the Sandbox's data in {generated_s:.1f} s ({sandbox_rows:,} rows in "
        "sandbox_records; not part of the sync figure)"
    )
    # The delta after the full sync reads records changed since the full sync began, less
    # DELTA_OVERLAP; data generated just before it would all look changed. A real remote's
    # data predates a sync by far more: date the generated rows back when that is not so already.
    backdated_s = 0.0
    if utc_now() - generation_began < DELTA_OVERLAP + timedelta(seconds=5):
        began = time.perf_counter()
        with store.write() as conn:
            conn.execute(
                update(t.sandbox_records)
                .where(t.sandbox_records.c.integration_id == integration_id)
                .values(updated_at=generation_began - timedelta(hours=1))
            )
        backdated_s = time.perf_counter() - began
        print(
            f"  dated the generated rows an hour back ({backdated_s:.1f} s), so the delta below "
            f"reads only what changed (it reads from the full sync's start less {DELTA_OVERLAP})"
        )

    # FULL (queued when the integration was created).
    full, full_sched, memory = run_sync(
        store,
        settings,
        full_run_id,
        profile=profile_dir / "sync-full.prof" if profile_dir else None,
        timeout=7200,
        env=env,
        workdir=workdir,
    )
    full_s = run_seconds(full)
    full_records = records_of(full)
    full_rate = full_records / full_s
    full_cpu_100k = full_sched["on_cpu_s"] * 100_000 / full_records
    where = "this process (profiled)" if profile_dir else "the worker process"
    print(
        f"  FULL  {full.state}: {full_records:,} records in {full_s:.1f} s = {full_rate:,.0f} records/s "
        f"(target >= {TARGET_SYNC_RECORDS_PER_SECOND:,}); {where}: {full_cpu_100k:.2f} s of CPU "
        "per 100,000 records"
    )
    print(f"        {where}: {sched_text(full_sched)}")
    if memory:
        print(
            f"        worker resident memory: {memory['rss_at_start_mib']} MiB as the sync began, peak "
            f"{memory['peak_rss_mib']} MiB (VmHWM), {memory['rss_at_end_mib']} MiB at its end"
        )
    print(f"        counts {json.dumps(full.counts)}")
    ceiling = bare_insert(store, ceiling_url, integration_id)
    print(
        f"  bare batched insert of the same {ceiling['records']:,} records (SQLAlchemy Core, "
        f"{WRITE_BATCH:,} per transaction, into an empty store): {ceiling['records_per_second']:,.0f} "
        f"records/s ({ceiling['client_cpu_s_per_100k']:.2f} s of this process's CPU per 100,000)"
    )

    # DELTA after 1% of the progressions changed.
    began = time.perf_counter()
    changed = change_progressions(store, integration_id, change_share)
    print(
        f"  changed {changed:,} progressions ({change_share:.0%}) in the Sandbox "
        f"({time.perf_counter() - began:.1f} s)"
    )
    with store.write() as conn:
        delta_run, already = request_sync(conn, integration_id, "DELTA", settings.default_public_url())
    if already:
        raise RuntimeError(f"a sync was already queued: {delta_run}")
    delta, delta_sched, _ = run_sync(
        store,
        settings,
        delta_run.id,
        profile=profile_dir / "sync-delta.prof" if profile_dir else None,
        timeout=3600,
        env=env,
        workdir=workdir,
    )
    delta_s = run_seconds(delta)
    share = delta_s / full_s
    print(
        f"  DELTA {delta.state}: {records_of(delta):,} records in {delta_s:.2f} s = {share:.2%} of the "
        f"full sync's time (target <= {TARGET_DELTA_SHARE:.0%})"
    )
    print(f"        {where}: {sched_text(delta_sched)}")
    print(f"        counts {json.dumps(delta.counts)}")
    return {
        "sandbox": {"users": s.users, "courses": s.courses, "progressions": s.progressions},
        "generation_seconds": round(generated_s, 2),
        "sandbox_rows": sandbox_rows,
        "backdate_seconds": round(backdated_s, 2),
        "full": {
            "id": full.id,
            "state": full.state,
            "seconds": round(full_s, 3),
            "records": full_records,
            "records_per_second": round(full_rate, 1),
            "counts": full.counts,
            "cpu_s_per_100k_records": round(full_cpu_100k, 2),
            "sched": full_sched,
            "memory": memory,
        },
        "bare_insert": ceiling,
        "delta": {
            "id": delta.id,
            "state": delta.state,
            "changed_progressions": changed,
            "seconds": round(delta_s, 3),
            "records": records_of(delta),
            "share_of_full": round(share, 4),
            "counts": delta.counts,
            "sched": delta_sched,
        },
    }


# -- reads -----------------------------------------------------------------------------------------
def stats(values: Sequence[float]) -> dict[str, float]:
    return {
        "p50_ms": round(percentile(values, 50), 3),
        "p90_ms": round(percentile(values, 90), 3),
        "p99_ms": round(percentile(values, 99), 3),
        "max_ms": round(max(values), 3),
        "mean_ms": round(statistics.fmean(values), 3),
    }


def bench_walk(
    api: ApiProcess, headers: dict[str, str], *, pages: int, concurrency: int, seconds: float
) -> tuple[dict[str, Any], list[str]]:
    print(
        f"\n(a) GET {PATH}?page_size={PAGE_SIZE}: one API process (serve --no-worker); "
        f"{pages:,} pages walked sequentially along the cursors"
    )
    client = PageClient(api.url, headers)
    for _ in range(5):  # warm-up: connection, caches
        client.get(page_path(None))
    latencies: list[float] = []
    cursors: list[str] = []  # cursors[i] leads to page i + 1
    sizes: list[int] = []
    cursor: str | None = None
    meter = api.cpu_meter()
    sched = SchedMeter(api.pid)
    walk_started = time.perf_counter()
    while len(latencies) < pages:
        elapsed, body = client.get(page_path(cursor))
        latencies.append(elapsed)
        sizes.append(len(body))
        data = orjson.loads(body)["data"]
        if len(data["results"]) != PAGE_SIZE and data["next"]:
            raise RuntimeError(f"page {len(latencies)} has {len(data['results'])} records")
        cursor = data["next"]
        if cursor is None:
            break
        cursors.append(cursor)
    walk_s = time.perf_counter() - walk_started
    cpu = meter.read()
    api_sched = sched.read()
    client.close()
    walked = stats(latencies)
    head, tail = latencies[:100], latencies[-100:]
    print(
        f"  {len(latencies):,} pages ({len(latencies) * PAGE_SIZE:,} records) in {walk_s:.1f} s: "
        f"p50 {walked['p50_ms']:.2f} ms (target <= {TARGET_P50_MS:g}), p90 {walked['p90_ms']:.2f}, "
        f"p99 {walked['p99_ms']:.2f}, max {walked['max_ms']:.1f} ms; "
        f"{statistics.fmean(sizes) / 1024:.0f} KiB a page"
    )
    print(
        f"  first 100 pages p50 {percentile(head, 50):.2f} ms, last 100 p50 {percentile(tail, 50):.2f} ms; "
        f"server CPU {cpu['server_cpu_cores']} cores, this client {cpu['bench_cpu_cores']} cores"
    )
    print(f"  the API process: {sched_text(api_sched)}")

    # Pages per second from concurrent keep-alive clients, over pages spread along the walk.
    spread = [None, *cursors[:: max(1, len(cursors) // 200)]]
    targets = [(page_path(c), headers) for c in spread]
    meter_holder: list[CpuMeter] = []
    warmup = 2.0
    timer = threading.Timer(warmup, lambda: meter_holder.append(api.cpu_meter()))
    timer.start()
    load = hammer_keepalive(api.url, targets, concurrency=concurrency, seconds=seconds, warmup=warmup)
    timer.cancel()
    load_cpu = meter_holder[0].read() if meter_holder else {}
    print(
        f"  {concurrency} concurrent keep-alive clients, {seconds:g} s over {len(targets)} pages: "
        f"{load.per_second:,.1f} pages/s ({load.per_second * PAGE_SIZE:,.0f} records/s), "
        f"p50 {load.latency_ms(50):.1f} ms, p99 {load.latency_ms(99):.1f} ms, {load.errors} errors; "
        f"server CPU {load_cpu.get('server_cpu_cores')} cores"
    )
    return {
        "pages": len(latencies),
        "seconds": round(walk_s, 2),
        "page_bytes_mean": round(statistics.fmean(sizes)),
        **walked,
        "first_100_p50_ms": round(percentile(head, 50), 3),
        "last_100_p50_ms": round(percentile(tail, 50), 3),
        **cpu,
        "api_sched": api_sched,
        "concurrent": {
            "clients": concurrency,
            "seconds": seconds,
            "pages": load.requests,
            "errors": load.errors,
            "pages_per_second": round(load.per_second, 1),
            "p50_ms": round(load.latency_ms(50), 2),
            "p99_ms": round(load.latency_ms(99), 2),
            **load_cpu,
        },
    }, cursors


def deep_cursor(store: Store, integration_id: str, position: int) -> tuple[str, str]:
    """A cursor the server accepts, made with its own codec and key, that leads to the page that
    starts at `position` (0-based) in id order; and the id it names."""
    table = t.lms_course_progressions
    with store.read() as conn:
        key = conn.scalar(
            select(t.instance_settings.c.value).where(t.instance_settings.c.name == "cursor_key")
        )
        after = conn.scalar(
            select(table.c.id)
            .where(table.c.integration_id == integration_id, table.c.remote_deleted_at.is_(None))
            .order_by(table.c.id)
            .offset(position - 1)
            .limit(1)
        )
    codec = CursorCodec(bytes.fromhex(str(key)))
    bound = fingerprint(MODEL, integration_id, {"page_size": str(PAGE_SIZE)})
    return codec.encode(str(after), bound), str(after)


def bench_deep(
    api: ApiProcess, headers: dict[str, str], first: str | None, deep: str, *, repeats: int, depth: int
) -> dict[str, Any]:
    print(
        f"\n(b) the page after {depth:,} pages (position {depth * PAGE_SIZE:,}) against the first "
        f"page: {repeats} requests of each, interleaved"
    )
    client = PageClient(api.url, headers)
    for _ in range(5):
        client.get(page_path(first))
        client.get(page_path(deep))
    first_ms, deep_ms = [], []
    sched = SchedMeter(api.pid)
    for _ in range(repeats):
        first_ms.append(client.get(page_path(first))[0])
        deep_ms.append(client.get(page_path(deep))[0])
    api_sched = sched.read()
    client.close()
    a, b = stats(first_ms), stats(deep_ms)
    ratio = b["p50_ms"] / a["p50_ms"]
    cpu_per_request = api_sched["on_cpu_s"] * 1000 / (2 * repeats)
    print(
        f"  first page p50 {a['p50_ms']:.2f} ms (p99 {a['p99_ms']:.2f}); deep page p50 "
        f"{b['p50_ms']:.2f} ms (p99 {b['p99_ms']:.2f}); ratio of p50s {ratio:.3f} "
        f"(target <= {TARGET_DEEP_RATIO:g})"
    )
    print(f"  the API process: {cpu_per_request:.2f} ms of CPU per request; {sched_text(api_sched)}")
    return {
        "depth_pages": depth,
        "repeats": repeats,
        "first": a,
        "deep": b,
        "ratio_p50": round(ratio, 4),
        "api_cpu_ms_per_request": round(cpu_per_request, 3),
        "api_sched": api_sched,
        "first_latencies_ms": [round(x, 3) for x in first_ms],
        "deep_latencies_ms": [round(x, 3) for x in deep_ms],
    }


def bench_fixed_cost(api: ApiProcess, headers: dict[str, str], *, repeats: int) -> dict[str, Any]:
    """The same endpoint with page_size=1: what a request costs apart from its records."""
    client = PageClient(api.url, headers)
    path = f"{PATH}?page_size=1"
    for _ in range(5):
        client.get(path)
    sched = SchedMeter(api.pid)
    latencies = [client.get(path)[0] for _ in range(repeats)]
    api_sched = sched.read()
    client.close()
    return {
        **stats(latencies),
        "api_cpu_ms_per_request": round(api_sched["on_cpu_s"] * 1000 / repeats, 3),
        "api_sched": api_sched,
    }


def bench_bare(
    api: ApiProcess,
    headers: dict[str, str],
    store: Store,
    integration_id: str,
    cursors: dict[str, str | None],
    deep_b: dict[str, Any],
    *,
    repeats: int,
) -> dict[str, Any]:
    """The same SELECT as the endpoint (records/queries.py list_page with progressions_query),
    the same serialisation and orjson.dumps of the same envelope, in this process."""
    print(
        f"\n(c) the endpoint against its bare work, in this process: the SELECT of list_page, the "
        f"rows' serialisation and orjson.dumps, {repeats} times per page"
    )
    endpoint = LISTED[MODEL]
    with store.read() as conn:
        key = conn.scalar(
            select(t.instance_settings.c.value).where(t.instance_settings.c.name == "cursor_key")
        )
    codec = CursorCodec(bytes.fromhex(str(key)))
    bound = fingerprint(MODEL, integration_id, {"page_size": str(PAGE_SIZE)})
    out: dict[str, Any] = {}
    cpu_all: list[float] = []
    for label, cursor in cursors.items():
        after = codec.decode(cursor, bound) if cursor else None
        query = ListQuery(PAGE_SIZE, after, None, False, False, {})
        sql, serialise, dump, cpu = [], [], [], []
        with store.read() as conn:
            for n in range(repeats + 5):
                c0 = time.thread_time()
                t0 = time.perf_counter()
                rows, more = list_page(conn, endpoint, integration_id, query, set())
                t1 = time.perf_counter()
                results = endpoint.serialize(conn, rows, False)
                t2 = time.perf_counter()
                body = orjson.dumps(
                    {
                        "status": "success",
                        "data": {
                            "next": codec.encode(rows[-1].id, bound) if more else None,
                            "results": results,
                        },
                    }
                )
                t3 = time.perf_counter()
                c1 = time.thread_time()
                if n >= 5:
                    sql.append((t1 - t0) * 1000)
                    serialise.append((t2 - t1) * 1000)
                    dump.append((t3 - t2) * 1000)
                    cpu.append((c1 - c0) * 1000)
        cpu_all.extend(cpu)
        total = [a + b + c for a, b, c in zip(sql, serialise, dump, strict=True)]
        endpoint_p50 = deep_b["first" if label == "first" else "deep"]["p50_ms"]
        bare_p50 = percentile(total, 50)
        out[label] = {
            "sql_p50_ms": round(percentile(sql, 50), 3),
            "serialise_p50_ms": round(percentile(serialise, 50), 3),
            "dumps_p50_ms": round(percentile(dump, 50), 3),
            "bare_p50_ms": round(bare_p50, 3),
            "bare_cpu_p50_ms": round(percentile(cpu, 50), 3),
            "endpoint_p50_ms": endpoint_p50,
            "ratio": round(endpoint_p50 / bare_p50, 3),
            "body_bytes": len(body),
        }
        print(
            f"  {label} page: SELECT {out[label]['sql_p50_ms']:.2f} ms + serialise "
            f"{out[label]['serialise_p50_ms']:.2f} ms + orjson.dumps {out[label]['dumps_p50_ms']:.2f} ms "
            f"= {bare_p50:.2f} ms bare ({out[label]['bare_cpu_p50_ms']:.2f} ms of CPU); endpoint p50 "
            f"{endpoint_p50:.2f} ms (over HTTP, from (b)); ratio {out[label]['ratio']:.2f}"
        )
    ratio = max(v["ratio"] for v in out.values())
    print(
        f"  ratio of latencies (the larger of the two pages): {ratio:.2f} "
        f"(target <= {TARGET_OVERHEAD_RATIO:g})"
    )
    # The same comparison in CPU time, which other processes on the machine do not inflate.
    bare_cpu = percentile(cpu_all, 50)
    endpoint_cpu = deep_b["api_cpu_ms_per_request"]
    fixed = bench_fixed_cost(api, headers, repeats=repeats)
    print(
        f"  in CPU time: the API process spends {endpoint_cpu:.2f} ms per page against {bare_cpu:.2f} ms "
        f"bare: ratio {endpoint_cpu / bare_cpu:.2f}"
    )
    print(
        f"  a page_size=1 request (what a request costs apart from its records): p50 "
        f"{fixed['p50_ms']:.2f} ms, {fixed['api_cpu_ms_per_request']:.2f} ms of CPU"
    )
    return {
        "pages": out,
        "ratio": ratio,
        "repeats": repeats,
        "bare_cpu_p50_ms": round(bare_cpu, 3),
        "endpoint_cpu_ms_per_page": endpoint_cpu,
        "cpu_ratio": round(endpoint_cpu / bare_cpu, 3),
        "page_size_1": fixed,
    }


# -- the run ---------------------------------------------------------------------------------------
def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=(__doc__ or "").split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    parser.add_argument("--progressions", type=int, default=None, help="[default 1,000,000]")
    parser.add_argument("--users", type=int, default=None, help="[default 50,000]")
    parser.add_argument("--courses", type=int, default=None, help="[default 2,000]")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="100,000 progressions, 5,000 users, 200 courses (unless given), shorter measurements",
    )
    parser.add_argument("--only", default="abcd", help="(d) always runs: the reads need its data")
    parser.add_argument("--change-share", type=float, default=0.01, help="(d) progressions changed")
    parser.add_argument("--walk-pages", type=int, default=None, help=f"(a) [default {DEEP_PAGES:,}]")
    parser.add_argument("--concurrency", type=int, default=4, help="(a) concurrent clients")
    parser.add_argument("--seconds", type=float, default=10.0, help="(a) concurrent load duration")
    parser.add_argument("--repeats", type=int, default=200, help="(b), (c) requests per page")
    parser.add_argument(
        "--profile-dir",
        type=Path,
        default=None,
        help="run the syncs in this thread under cProfile and write sync-*.prof here",
    )
    parser.add_argument("--env", action="append", default=[], metavar="LMSBRIDGE_X=VALUE")
    parser.add_argument("--json", type=Path, default=None, help="[default .bench/reads-<db>.json]")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args(argv)
    quick = args.quick
    args.progressions = args.progressions or (100_000 if quick else 1_000_000)
    args.users = args.users or (5_000 if quick else 50_000)
    args.courses = args.courses or (200 if quick else 2_000)
    args.walk_pages = args.walk_pages or DEEP_PAGES
    if quick:
        args.seconds = min(args.seconds, 5.0)
        args.repeats = min(args.repeats, 100)
    return args


def summary_rows(results: dict[str, Any]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []

    def row(name: str, figure: str, value: float, target: str | None, met: bool | None) -> None:
        rows.append(
            {"benchmark": name, "figure": figure, "value": value, "target": target or "-", "met": met}
        )

    d = results.get("d")
    if d:
        rate = d["full"]["records_per_second"]
        row("(d) full sync", "records/s", rate, f">= {TARGET_SYNC_RECORDS_PER_SECOND:,}", rate >= 20_000)
        share = d["delta"]["share_of_full"]
        row("(d) delta sync, 1% changed", "time / full's", share, f"<= {TARGET_DELTA_SHARE}", share <= 0.05)
        row("(d) Sandbox generation", "seconds", d["generation_seconds"], None, None)
    a = results.get("a")
    if a:
        row("(a) page of 250, sequential", "p50 ms", a["p50_ms"], f"<= {TARGET_P50_MS:g}", a["p50_ms"] <= 15)
        row("(a) page of 250, sequential", "p99 ms", a["p99_ms"], None, None)
        c = a["concurrent"]
        row(f"(a) pages, {c['clients']} clients", "pages/s", c["pages_per_second"], None, None)
    b = results.get("b")
    if b:
        ratio = b["ratio_p50"]
        row(
            f"(b) page after {b['depth_pages']:,} / first",
            "p50 ratio",
            ratio,
            f"<= {TARGET_DEEP_RATIO}",
            ratio <= TARGET_DEEP_RATIO,
        )
    c = results.get("c")
    if c:
        ratio = c["ratio"]
        row(
            "(c) endpoint / bare SQL + JSON",
            "p50 ratio",
            ratio,
            f"<= {TARGET_OVERHEAD_RATIO}",
            ratio <= TARGET_OVERHEAD_RATIO,
        )
        row("(c) the same in CPU time", "ratio", c["cpu_ratio"], None, None)
        row("(c) page_size=1 request", "p50 ms", c["page_size_1"]["p50_ms"], None, None)
    return rows


def figure_lines(results: dict[str, Any]) -> list[str]:
    """One line per figure against its ceiling: `name value unit (ceiling value, ratio r)`."""
    lines = []
    d = results.get("d")
    if d:
        rate, bare = d["full"]["records_per_second"], d["bare_insert"]["records_per_second"]
        lines.append(f"full_sync {rate:,.0f} records/s (ceiling {bare:,.0f}, ratio {rate / bare:.2f})")
        memory = d["full"].get("memory") or {}
        peak, start = memory.get("peak_rss_mib"), memory.get("rss_at_start_mib")
        if peak is not None and start:
            lines.append(
                f"sync_worker_peak_rss {peak:,.1f} MiB (ceiling {start:,.1f}, ratio {peak / start:.2f})"
            )
        lines.append(f"full_sync_cpu {d['full']['cpu_s_per_100k_records']:.2f} s/100k records")
    c = results.get("c")
    if c:
        label, page = max(c["pages"].items(), key=lambda item: item[1]["ratio"])
        lines.append(
            f"page_latency_{label} {page['endpoint_p50_ms']:.2f} ms (ceiling {page['bare_p50_ms']:.2f}, "
            f"ratio {page['ratio']:.2f})"
        )
    return lines


def bench_reads(
    args: argparse.Namespace,
    store: Store,
    workdir: Path,
    env: dict[str, str],
    key: str,
    integration_id: str,
    total: int,
    results: dict[str, Any],
) -> str:
    """(a), (b), (c) against one `serve --no-worker` process; returns how that process ended."""
    api = ApiProcess(workdir, env)
    api.start()
    headers = {"Authorization": f"Bearer {key}", "X-Integration-Id": integration_id}
    try:
        if "a" in args.only:
            results["a"], _ = bench_walk(
                api, headers, pages=args.walk_pages, concurrency=args.concurrency, seconds=args.seconds
            )
        if "b" in args.only or "c" in args.only:
            depth = min(DEEP_PAGES, total // PAGE_SIZE - 2)
            deep, _ = deep_cursor(store, integration_id, depth * PAGE_SIZE)
            results["b"] = bench_deep(api, headers, None, deep, repeats=args.repeats, depth=depth)
            if "c" in args.only:
                results["c"] = bench_bare(
                    api,
                    headers,
                    store,
                    integration_id,
                    {"first": None, "deep": deep},
                    results["b"],
                    repeats=args.repeats,
                )
    except Exception:
        print(f"\nthe API's log ends with:\n{api.log_tail()}", file=sys.stderr)
        raise
    finally:
        ended = api.stop()
    return ended


@contextmanager
def local_store(url: str) -> Iterator[Store]:
    store = Store(url, pool_size=4)
    try:
        yield store
    finally:
        store.dispose()


def _subdir(parent: Path, name: str) -> Path:
    path = parent / name
    path.mkdir(exist_ok=True)
    return path


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    extra_env = dict(pair.split("=", 1) for pair in args.env)
    results: dict[str, Any] = {}
    info = {
        "db": args.db,
        "db_version": database_version(args.db, args.postgres_url),
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "sizes": {"users": args.users, "courses": args.courses, "progressions": args.progressions},
        "quick": args.quick,
        "extra_env": extra_env,
    }
    print(
        f"lmsbridge reads and syncs on {info['db_version']}; {info['machine']['cpu_count']} CPUs "
        f"({info['machine']['cpu']}), Python {info['machine']['python']}, "
        f"commit {info['machine']['commit']}"
    )
    load = info["machine"]["load_average_1m_before"]
    if load > 0.5:
        print(
            f"note: the 1-minute load average is {load} before the run: other processes are using "
            "the CPUs, so figures will be lower and noisier than on an idle machine."
        )
    if args.profile_dir:
        args.profile_dir.mkdir(parents=True, exist_ok=True)
    ended = "not started (no read benchmark)"
    timings: dict[str, float] = {}
    with (
        workspace(args.keep) as workdir,
        fresh_database(args.db, workdir, args.postgres_url) as url,
        fresh_database(args.db, _subdir(workdir, "ceiling"), args.postgres_url) as ceiling_url,
    ):
        env = service_env(url, extra_env)
        key = cli(["keys", "create", "--name", "bench"], env, workdir)
        integration_id = cli(
            [
                "integrations",
                "create",
                "--tool",
                "sandbox",
                "--name",
                "Bench big Sandbox",
                "--setting",
                f"users={args.users}",
                "--setting",
                f"courses={args.courses}",
                "--setting",
                f"progressions={args.progressions}",
            ],
            env,
            workdir,
        )
        settings = local_settings(url, workdir)
        with local_store(url) as store:
            with store.read() as conn:
                queued = SyncRepository(conn).active_run(integration_id)
            if queued is None or queued.type != "FULL":
                raise RuntimeError(f"expected the integration's FULL sync to be queued: {queued}")
            began = time.perf_counter()
            results["d"] = bench_syncs(
                store,
                settings,
                integration_id,
                queued.id,
                change_share=args.change_share,
                profile_dir=args.profile_dir,
                env=env,
                workdir=workdir,
                ceiling_url=ceiling_url,
            )
            timings["d"] = time.perf_counter() - began
            if args.db == "postgres":
                began = time.perf_counter()
                with store.engine.connect() as conn:
                    conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")
                print(f"  (VACUUM ANALYZE after the syncs: {time.perf_counter() - began:.1f} s)")

            if set(args.only) & set("abc"):
                total = results["d"]["full"]["counts"][MODEL]["added"]
                began = time.perf_counter()
                ended = bench_reads(args, store, workdir, env, key, integration_id, total, results)
                timings["abc"] = time.perf_counter() - began

    rows = summary_rows(results)
    print("\nfigures against their ceilings (the ceiling of the memory is the worker's as the sync began):")
    for line in figure_lines(results):
        print("  " + line)
    print(
        f"\nsummary ({args.db}; {args.progressions:,} progressions, {args.users:,} users, "
        f"{args.courses:,} courses; API process {ended}; "
        + ", ".join(f"({k}) took {v:.0f} s" for k, v in timings.items())
        + ")"
    )
    print(
        table(
            ["benchmark", "figure", "value", "target", "met"],
            [
                [
                    r["benchmark"],
                    r["figure"],
                    f"{r['value']:,.3f}" if r["value"] < 10 else f"{r['value']:,.1f}",
                    r["target"],
                    "-" if r["met"] is None else ("met" if r["met"] else "NOT MET"),
                ]
                for r in rows
            ],
        )
    )
    path = args.json or ROOT / ".bench" / f"reads-{args.db}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    info["timings_seconds"] = {k: round(v, 1) for k, v in timings.items()}
    path.write_text(json.dumps({**info, "results": results, "summary": rows}, indent=2) + "\n")
    print(f"results written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
