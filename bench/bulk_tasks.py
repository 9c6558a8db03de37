"""Bulk tasks end to end, against `python -m lmsbridge serve` run as a separate process the way a
user runs it (the API, and its worker in a child process; default settings), over loopback HTTP:

  (a) throughput of one 10,000-item POST /v1/lms/courses/bulk task on a no-latency Sandbox,
      from submit until a poll (every 20 ms) sees COMPLETED;
  (b) submit latency of 1,000-item bodies, 100 sequential distinct submits after a warm-up;
  (c) GET /v1/lms/courses/bulk/{task_id} requests per second of one API process, on one small
      COMPLETED task and one PENDING task, from concurrent keep-alive clients.

It prints figures and writes them to .bench/results-<db>.json; it never asserts a timing.

    .venv/bin/python bench/bulk_tasks.py --db sqlite
    .venv/bin/python bench/bulk_tasks.py --db postgres
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import (
    DEFAULT_POSTGRES_URL,
    ROOT,
    BareStatus,
    CpuMeter,
    LoadResult,
    Service,
    cli,
    database_version,
    fresh_database,
    hammer_httpx,
    hammer_keepalive,
    hammer_wrk,
    machine,
    percentile,
    service_env,
    table,
    workspace,
)

BULK = "/v1/lms/courses/bulk"
TARGET_ITEMS_PER_SECOND = 5_000
TARGET_SUBMIT_P50_MS = 50.0
TARGET_STATUS_RPS = 1_000
SLOW_LATENCY_MS = 60_000  # the Sandbox's maximum: one item of such a task takes a minute


def course_body(prefix: str, count: int) -> bytes:
    """A bulk body of `count` distinct courses; `prefix` makes it distinct from every other."""
    items = [
        {
            "origin_id": f"{prefix}-{n:05d}",
            "course": {
                "type": "EXTERNAL",
                "title": f"Course {prefix} {n}",
                "description": "A course written by the lmsbridge benchmark.",
                "course_url": f"https://courses.example.com/{prefix}/{n}",
                "duration": 30 + n % 90,
                "languages": ["en"],
            },
        }
        for n in range(count)
    ]
    return json.dumps({"items": items}, separators=(",", ":")).encode()


def submit(client: httpx.Client, integration: str, body: bytes) -> tuple[str, bool]:
    """POST a bulk body; returns (task_id, created)."""
    response = client.post(BULK, content=body, headers={"X-Integration-Id": integration})
    if response.status_code != 200:
        raise RuntimeError(f"submit answered {response.status_code}: {response.text[:500]}")
    payload = response.json()
    return payload["data"]["task_id"], not payload.get("warnings")


def task_status(client: httpx.Client, integration: str, task_id: str) -> dict[str, Any]:
    response = client.get(f"{BULK}/{task_id}", headers={"X-Integration-Id": integration})
    if response.status_code != 200:
        raise RuntimeError(f"status answered {response.status_code}: {response.text[:500]}")
    data: dict[str, Any] = response.json()["data"]
    return data


def wait_finished(
    client: httpx.Client, integration: str, task_id: str, *, every: float, timeout: float
) -> dict[str, Any]:
    deadline = time.perf_counter() + timeout
    while True:
        status = task_status(client, integration, task_id)
        if status["status"] != "PENDING":
            return status
        if time.perf_counter() > deadline:
            raise RuntimeError(f"task {task_id} still PENDING after {timeout:g}s: {status['progress']}")
        time.sleep(every)


# -- (a) ------------------------------------------------------------------------------------------
def bench_throughput(
    client: httpx.Client,
    service: Service,
    integration: str,
    *,
    database_url: str,
    items: int,
    repeats: int,
    poll_seconds: float,
    tag: str,
) -> dict[str, Any]:
    print(
        f"\n(a) end-to-end throughput: one {items:,}-item task, submit -> COMPLETED "
        f"(poll every {poll_seconds * 1000:g} ms), {repeats} runs"
    )
    runs = []
    for run in range(repeats):
        body = course_body(f"{tag}-a{run}", items)
        meter = service.cpu_meter()
        started = time.perf_counter()
        task_id, created = submit(client, integration, body)
        submitted = time.perf_counter()
        first_progress = None
        final_get_ms = 0.0
        next_poll = submitted
        while True:
            next_poll += poll_seconds
            time.sleep(max(0.0, next_poll - time.perf_counter()))
            asked = time.perf_counter()
            status = task_status(client, integration, task_id)
            answered = time.perf_counter()
            progress = status["progress"]
            if first_progress is None and progress["succeeded"] + progress["failed"]:
                first_progress = answered - started
            if status["status"] != "PENDING":
                final_get_ms = (answered - asked) * 1000
                break
            if answered - started > 600:
                raise RuntimeError(f"task {task_id} not finished after 600 s: {progress}")
            next_poll = max(next_poll, answered)
        finished = time.perf_counter()
        elapsed = finished - started
        results = status.get("data") or []
        ok = (
            created
            and status["status"] == "COMPLETED"
            and progress["succeeded"] == items
            and len(results) == items
            and all(r["status"] == "SUCCEEDED" for r in results)
        )
        cpu = service_cpu(meter)
        cores = cpu["server_cpu_cores"]
        record = {
            "task_id": task_id,
            "seconds": round(elapsed, 3),
            "items_per_second": round(items / elapsed, 1),
            "submit_ms": round((submitted - started) * 1000, 1),
            "first_outcome_seen_s": round(first_progress, 3) if first_progress is not None else None,
            "final_get_ms": round(final_get_ms, 1),
            "all_items_succeeded": ok,
            **cpu,
            # CPU the service spent per 1,000 items: steadier than items/s on a busy machine.
            "server_cpu_ms_per_1k_items": round(cores * elapsed * 1e6 / items, 1) if cores else None,
        }
        runs.append(record)
        print(
            f"  run {run + 1}: {record['items_per_second']:>9,.0f} items/s  "
            f"({elapsed:.2f} s: submit {record['submit_ms']:.0f} ms, first outcome seen at "
            f"{record['first_outcome_seen_s']} s, final GET with {len(results):,} results "
            f"{final_get_ms:.0f} ms; server CPU {cores} cores, "
            f"{record['server_cpu_ms_per_1k_items']} ms per 1,000 items)"
            + ("" if ok else f"  !! not every item succeeded: {status['status']} {progress}")
        )
    median = statistics.median(r["items_per_second"] for r in runs)
    print(f"  median: {median:,.0f} items/s (target >= {TARGET_ITEMS_PER_SECOND:,})")
    ceiling = bare_insert_ceiling(database_url, integration, items=items, repeats=repeats, tag=tag)
    cpu_ms = statistics.median(r["server_cpu_ms_per_1k_items"] or 0.0 for r in runs)
    load = round(os.getloadavg()[0], 2)
    print(
        f"  ceiling: the same rows by bare SQLAlchemy Core inserts, {ceiling['batch']:,} rows per "
        f"transaction ({', '.join(ceiling['tables'])}): median {ceiling['items_per_second']:,.0f} items/s"
    )
    print(
        f"bulk_task_items_per_second {median:,.0f} items/s "
        f"(ceiling {ceiling['items_per_second']:,.0f}, ratio {median / ceiling['items_per_second']:.2f}); "
        f"server CPU {cpu_ms:,.0f} ms per 1,000 items; load average {load}"
    )
    return {
        "items": items,
        "poll_ms": poll_seconds * 1000,
        "runs": runs,
        "median_items_per_second": round(median, 1),
        "median_server_cpu_ms_per_1k_items": round(cpu_ms, 1),
        "ceiling": ceiling,
        "ratio_to_ceiling": round(median / ceiling["items_per_second"], 3),
        "load_average_1m_after": load,
    }


def bare_insert_ceiling(url: str, integration: str, *, items: int, repeats: int, tag: str) -> dict[str, Any]:
    """What the store itself allows for (a)'s rows: in this process, no API and no worker, bare
    Core inserts of what a 10,000-item task leaves in the store, `task_flush_items` rows per
    transaction as the worker commits them: a task's items with their outcomes (`task_items`),
    the Sandbox's copy of each course (the remote's write, in the same store), and the records
    (`lms_courses` and one `lms_course_revisions` row per course). Median items/s of `repeats`
    runs, each on distinct ids."""
    from lmsbridge.config import Settings
    from lmsbridge.db import Store
    from lmsbridge.db import tables as t
    from lmsbridge.ids import derived_id, new_id

    batch = Settings.model_fields["task_flush_items"].default
    store = Store(url)
    rates = []
    try:
        for run in range(repeats):
            now = datetime.now(UTC)
            task_id = new_id()
            with store.write() as conn:
                conn.execute(
                    t.tasks.insert().values(
                        id=task_id,
                        environment_id="default",
                        integration_id=integration,
                        kind="lms_courses_bulk",
                        status="COMPLETED",
                        total=items,
                        succeeded=items,
                        failed=0,
                        body_hash=task_id,
                        public_url="http://bench",
                        created_at=now,
                        deadline_at=now,
                    )
                )
            body = json.loads(course_body(f"{tag}-ceiling{run}", items))["items"]
            batches = []
            for start in range(0, items, batch):
                task_items, remote, courses, revisions = [], [], [], []
                for n in range(start, min(items, start + batch)):
                    item = body[n]
                    remote_id = new_id()
                    course_id = derived_id(integration, "lms_courses", remote_id)
                    task_items.append(
                        {
                            "task_id": task_id,
                            "position": n,
                            "origin_id": item["origin_id"],
                            "payload": item,
                            "status": "SUCCEEDED",
                            "result_id": course_id,
                            "remote_id": remote_id,
                            "finished_at": now,
                        }
                    )
                    remote.append(
                        {
                            "integration_id": integration,
                            "origin_id": item["origin_id"],
                            "remote_id": remote_id,
                            "data": item["course"],
                            "active": True,
                            "created_at": now,
                            "updated_at": now,
                        }
                    )
                    record = {
                        "integration_id": integration,
                        "remote_created_at": now,
                        "changed_at": now,
                        "updated_stamp": now,
                        "data_hash": remote_id[:32],
                    }
                    courses.append(
                        {**record, "id": course_id, "remote_id": remote_id, "origin_id": item["origin_id"]}
                    )
                    revisions.append(
                        {
                            **record,
                            "id": derived_id(integration, "lms_course_revisions", f"{remote_id}-r1"),
                            "remote_id": f"{remote_id}-r1",
                            "course_id": course_id,
                            "title": item["course"]["title"],
                            "description": item["course"]["description"],
                            "remote_url": item["course"]["course_url"],
                            "status": "ACTIVE",
                            "skill_ids": [],
                        }
                    )
                batches.append(
                    [
                        (t.task_items, task_items),
                        (t.sandbox_courses, remote),
                        (t.lms_courses, courses),
                        (t.lms_course_revisions, revisions),
                    ]
                )
            started = time.perf_counter()  # the rows are built: only the inserts are timed
            for tables in batches:
                with store.write() as conn:
                    for table, rows in tables:
                        conn.execute(table.insert(), rows)
            rates.append(items / (time.perf_counter() - started))
    finally:
        store.dispose()
    return {
        "batch": batch,
        "tables": ["task_items", "sandbox_courses", "lms_courses", "lms_course_revisions"],
        "runs_items_per_second": [round(r, 1) for r in rates],
        "items_per_second": round(statistics.median(rates), 1),
    }


# -- (b) ------------------------------------------------------------------------------------------
def bare_submits_ms(database_url: str, integration: str, bodies: list[bytes]) -> list[float]:
    """The ceiling of (b): what the store takes to commit what a submit commits, with nothing
    around it. Each body is parsed with orjson, then one write transaction of SQLAlchemy Core
    inserts (the task row, its items, an idempotency row, a job row) runs on lmsbridge's own store
    settings, in this process: no HTTP, no validation, no idempotency lookup, no worker. The rows
    are written COMPLETED, the job finished, so the worker never picks them up."""
    import hashlib

    import orjson
    from sqlalchemy import select

    from lmsbridge.db import Store
    from lmsbridge.db.tables import integrations, jobs, task_idempotency, task_items, tasks

    store = Store(database_url)
    try:
        with store.read() as conn:
            environment = conn.scalar(
                select(integrations.c.environment_id).where(integrations.c.id == integration)
            )
        timings = []
        for body in bodies:
            started = time.perf_counter()
            items = orjson.loads(body)["items"]
            digest = hashlib.sha256(body).hexdigest()
            task_id = secrets.token_hex(12)
            now = datetime.now(UTC)
            with store.write() as conn:
                conn.execute(
                    tasks.insert().values(
                        id=task_id,
                        environment_id=environment,
                        integration_id=integration,
                        kind="lms_courses_bulk",
                        status="COMPLETED",
                        total=len(items),
                        succeeded=0,
                        failed=0,
                        body_hash=digest,
                        public_url="http://bench.invalid",
                        created_at=now,
                        deadline_at=now,
                        completed_at=now,
                    )
                )
                conn.execute(
                    task_items.insert(),
                    [
                        {"task_id": task_id, "position": n, "origin_id": item["origin_id"], "payload": item}
                        for n, item in enumerate(items)
                    ],
                )
                conn.execute(
                    task_idempotency.insert().values(
                        integration_id=integration,
                        kind="bench_ceiling",
                        scope=f"body:{digest}",
                        task_id=task_id,
                        body_hash=digest,
                        expires_at=now,
                    )
                )
                conn.execute(
                    jobs.insert().values(
                        queue="bench_ceiling",
                        kind="bench.ceiling",
                        payload={"task_id": task_id},
                        state="succeeded",
                        max_attempts=1,
                        run_after=now,
                        created_at=now,
                        finished_at=now,
                    )
                )
            timings.append((time.perf_counter() - started) * 1000)
        return timings
    finally:
        store.dispose()


def bench_submit_latency(
    client: httpx.Client,
    service: Service,
    integration: str,
    *,
    items: int,
    submits: int,
    warmup: int,
    tag: str,
) -> dict[str, Any]:
    print(
        f"\n(b) submit latency: {submits} sequential submits of distinct {items:,}-item bodies "
        f"after {warmup} warm-up submits"
    )
    where = (
        "in a process of its own, on the same store and machine"
        if service.separate_worker
        else "in `serve`'s worker process (a child of the API's), on the same store"
    )
    print(
        f"  note: the worker runs the submitted tasks meanwhile, {where}, as it would in "
        "production; the latencies include that contention."
    )
    bodies = [course_body(f"{tag}-b{n}", items) for n in range(warmup + submits)]
    # The ceiling first, on the idle service's store: the same rows committed bare.
    ceiling_bodies = [course_body(f"{tag}-b-bare{n}", items) for n in range(3 + min(submits, 20))]
    bare_ms = bare_submits_ms(service.env["LMSBRIDGE_DATABASE_URL"], integration, ceiling_bodies)[3:]
    bare_p50 = percentile(bare_ms, 50)
    print(
        f"  ceiling: the same rows committed bare (orjson parse + one transaction of SQLAlchemy Core "
        f"inserts in this process, no HTTP, no worker running): p50 {bare_p50:.1f} ms "
        f"over {len(bare_ms)} bodies"
    )
    latencies = []
    task_ids = []
    duplicates = 0
    meter = service.cpu_meter()
    first_submit = time.perf_counter()
    for n, body in enumerate(bodies):
        if n == warmup:
            meter = service.cpu_meter()
        started = time.perf_counter()
        task_id, created = submit(client, integration, body)
        elapsed_ms = (time.perf_counter() - started) * 1000
        duplicates += not created
        task_ids.append(task_id)
        if n >= warmup:
            latencies.append(elapsed_ms)
    last_submit = time.perf_counter()
    cpu = service_cpu(meter)
    p50, p90, p99 = (percentile(latencies, q) for q in (50, 90, 99))
    print(
        f"  p50 {p50:.1f} ms, p90 {p90:.1f} ms, p99 {p99:.1f} ms, max {max(latencies):.1f} ms "
        f"(target p50 <= {TARGET_SUBMIT_P50_MS:g} ms); body {len(bodies[-1]) / 1024:.0f} KiB; "
        f"server CPU {cpu['server_cpu_cores']} cores"
        + (f"  !! {duplicates} submits returned an existing task" if duplicates else "")
    )

    # Let the worker drain the backlog, so that (c) measures the API alone.
    for task_id in task_ids:
        wait_finished(client, integration, task_id, every=0.1, timeout=900)
    drained = time.perf_counter()
    total_items = items * len(bodies)
    print(
        f"  the worker finished all {len(bodies)} tasks ({total_items:,} items) "
        f"{drained - last_submit:.1f} s after the last submit: "
        f"{total_items / (drained - first_submit):,.0f} items/s over the whole run"
    )
    return {
        "items": items,
        "submits": submits,
        "warmup": warmup,
        "body_bytes": len(bodies[-1]),
        "p50_ms": round(p50, 2),
        "p90_ms": round(p90, 2),
        "p99_ms": round(p99, 2),
        "max_ms": round(max(latencies), 2),
        "mean_ms": round(statistics.fmean(latencies), 2),
        "latencies_ms": [round(x, 2) for x in latencies],
        "duplicates": duplicates,
        "drain_seconds_after_last_submit": round(drained - last_submit, 2),
        "backlog_items_per_second": round(total_items / (drained - first_submit), 1),
        **cpu,
        "ceiling": {
            "what": "orjson parse + one transaction of SQLAlchemy Core inserts of the same rows, no HTTP",
            "p50_ms": round(bare_p50, 2),
            "latencies_ms": [round(x, 2) for x in bare_ms],
        },
        "ratio": round(bare_p50 / p50, 3) if p50 else None,
    }


# -- (c) ------------------------------------------------------------------------------------------
def bench_status_rps(
    client: httpx.Client,
    service: Service,
    workdir: Path,
    key: str,
    fast: str,
    slow: str,
    *,
    load: str,
    concurrency: int,
    seconds: float,
    warmup: float,
    completed_items: int,
    tag: str,
) -> dict[str, Any]:
    print(
        f"\n(c) GET task status: {concurrency} concurrent keep-alive connections for {seconds:g} s "
        f"(after {warmup:g} s of warm-up), alternating a COMPLETED and a PENDING task; load: {load}"
    )
    completed_id, _ = submit(client, fast, course_body(f"{tag}-c-done", completed_items))
    done = wait_finished(client, fast, completed_id, every=0.02, timeout=60)
    # A task on a Sandbox that takes a minute per item stays PENDING for the whole measurement.
    pending_items = 2 + int((seconds + warmup) // (SLOW_LATENCY_MS / 1000))
    pending_id, _ = submit(client, slow, course_body(f"{tag}-c-pending", pending_items))
    pending = task_status(client, slow, pending_id)
    if done["status"] != "COMPLETED" or pending["status"] != "PENDING":
        raise RuntimeError(f"unexpected task states: {done['status']}, {pending['status']}")
    auth = {"Authorization": f"Bearer {key}"}
    targets = [
        (f"{BULK}/{completed_id}", {**auth, "X-Integration-Id": fast}),
        (f"{BULK}/{pending_id}", {**auth, "X-Integration-Id": slow}),
    ]
    sizes = [len(client.get(path, headers=headers).content) for path, headers in targets]

    def measure(url: str, pid: int) -> tuple[LoadResult, dict[str, Any], float | None]:
        """The load on one server process; its result, CPU (after the warm-up) and CPU ms/request."""
        meter_holder: list[CpuMeter] = []
        # The CPU meter starts after the warm-up, the latencies too (the generators skip it).
        timer = threading.Timer(warmup, lambda: meter_holder.append(CpuMeter([pid])))
        timer.start()
        if load == "wrk":
            result = hammer_wrk(
                url, targets, concurrency=concurrency, seconds=seconds, warmup=warmup, workdir=workdir
            )
        else:
            generator = hammer_httpx if load == "httpx" else hammer_keepalive
            result = generator(url, targets, concurrency=concurrency, seconds=seconds, warmup=warmup)
        timer.cancel()
        cpu = service_cpu(meter_holder[0] if meter_holder else CpuMeter([pid]))
        cores = cpu["server_cpu_cores"]
        # CPU per request: steadier than requests/s on a busy machine, and it bounds what one
        # process can serve (about 1 core, Python's GIL): 1,000 ms / this = requests/s at best.
        cpu_ms = cores * result.seconds * 1000 / result.requests if cores and result.requests else None
        return result, cpu, cpu_ms

    result, cpu, cpu_ms = measure(service.url, service.api_pid)
    cores = cpu["server_cpu_cores"]
    still_pending = task_status(client, slow, pending_id)["status"] == "PENDING"
    p50, p90, p99 = (result.latency_ms(q) for q in (50, 90, 99))
    print(
        f"  {result.per_second:,.0f} requests/s (target >= {TARGET_STATUS_RPS:,}), "
        f"p50 {p50:.1f} ms, p90 {p90:.1f} ms, p99 {p99:.1f} ms; {result.requests:,} requests, "
        f"{result.errors} errors {dict(sorted(result.statuses.items())) or ''}"
    )
    generator = f"{cpu['bench_cpu_cores']} cores" if load != "wrk" else "n/a (wrk)"
    print(
        f"  API process CPU {cores} cores ({per_request(cpu_ms)}), load generator CPU {generator}; "
        f"responses {sizes[0]} B (COMPLETED, {completed_items} results) and {sizes[1]} B (PENDING)"
        + ("" if still_pending else "  !! the PENDING task finished during the run")
    )

    # The ceiling: the same load on a bare ASGI app in the same server stack that answers each
    # request with the same task's row, one SELECT by primary key (bench/bare_status.py).
    bare = BareStatus(workdir, service.env)
    try:
        bare.start()
        bare_result, bare_cpu, bare_cpu_ms = measure(bare.url, bare.pid)
    finally:
        bare.stop()
    ratio = result.per_second / bare_result.per_second if bare_result.per_second else None
    print(
        f"  ceiling: a bare ASGI endpoint (uvicorn, same settings) running the task row's SELECT: "
        f"{bare_result.per_second:,.0f} requests/s, p50 {bare_result.latency_ms(50):.1f} ms, "
        f"{bare_result.errors} errors; CPU {bare_cpu['server_cpu_cores']} cores "
        f"({per_request(bare_cpu_ms)})"
    )
    return {
        "load": load,
        "concurrency": concurrency,
        "seconds": round(result.seconds, 2),
        "warmup_seconds": warmup,
        "requests": result.requests,
        "errors": result.errors,
        "statuses": {str(k): v for k, v in sorted(result.statuses.items())},
        "requests_per_second": round(result.per_second, 1),
        "p50_ms": round(p50, 2),
        "p90_ms": round(p90, 2),
        "p99_ms": round(p99, 2),
        "completed_task_items": completed_items,
        "response_bytes": sizes,
        "pending_task_stayed_pending": still_pending,
        **cpu,
        "server_cpu_ms_per_request": round(cpu_ms, 3) if cpu_ms else None,
        "ceiling": {
            "what": "bare ASGI app, same uvicorn settings, one SELECT of the task row (bench/bare_status.py)",
            "requests_per_second": round(bare_result.per_second, 1),
            "p50_ms": round(bare_result.latency_ms(50), 2),
            "errors": bare_result.errors,
            "server_cpu_cores": bare_cpu["server_cpu_cores"],
            "server_cpu_ms_per_request": round(bare_cpu_ms, 3) if bare_cpu_ms else None,
        },
        "ratio": round(ratio, 3) if ratio is not None else None,
    }


def per_request(cpu_ms: float | None) -> str:
    if not cpu_ms:
        return "per request n/a"
    return f"{cpu_ms:.2f} ms per request, so ~{1000 / cpu_ms:,.0f} requests/s per core it gets"


def settle(service: Service, after: str) -> None:
    """Start each benchmark on an idle service, so one does not measure the tail of another."""
    waited = service.wait_idle()
    if waited > 1:
        print(f"\n(waited {waited:.1f} s for the service to go idle after {after})")


def service_cpu(meter: Any) -> dict[str, Any]:
    return dict(meter.read())


# -- the run --------------------------------------------------------------------------------------
def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument(
        "--postgres-url",
        default=DEFAULT_POSTGRES_URL,
        help="an existing database to connect to for CREATE/DROP DATABASE",
    )
    parser.add_argument("--only", default="abc", help="which benchmarks to run, e.g. 'a' or 'bc'")
    parser.add_argument("--items", type=int, default=10_000, help="(a) items per task")
    parser.add_argument("--repeats", type=int, default=3, help="(a) runs")
    parser.add_argument("--poll-ms", type=float, default=20.0, help="(a) poll interval")
    parser.add_argument("--submit-items", type=int, default=1_000, help="(b) items per body")
    parser.add_argument("--submits", type=int, default=100, help="(b) timed submits")
    parser.add_argument("--submit-warmup", type=int, default=5, help="(b) untimed submits first")
    parser.add_argument(
        "--load",
        choices=["keepalive", "httpx", "wrk"],
        default="keepalive",
        help="(c) load generator: a minimal asyncio HTTP/1.1 client (default), "
        "httpx.AsyncClient, or wrk if installed",
    )
    parser.add_argument("--concurrency", type=int, default=32, help="(c) concurrent connections")
    parser.add_argument("--seconds", type=float, default=10.0, help="(c) measured duration")
    parser.add_argument("--warmup", type=float, default=2.0, help="(c) unmeasured load first")
    parser.add_argument(
        "--completed-items",
        type=int,
        default=10,
        help="(c) items of the COMPLETED task whose status is read",
    )
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="LMSBRIDGE_X=VALUE",
        help="extra environment for the service; repeatable",
    )
    parser.add_argument(
        "--json",
        type=Path,
        default=None,
        help="where to write results [default: .bench/results-<db>.json]",
    )
    parser.add_argument(
        "--worker",
        choices=["in-process", "separate"],
        default="in-process",
        help="in-process: `serve` and the worker it runs as its child (default, as a user runs it); "
        "separate: "
        "`serve --no-worker` plus a `lmsbridge worker` process",
    )
    parser.add_argument("--keep", action="store_true", help="keep the work directory (store, serve.log)")
    return parser.parse_args(argv)


def summary_rows(results: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    if "a" in results:
        value = results["a"]["median_items_per_second"]
        rows.append(
            {
                "benchmark": "(a) 10k-item task, submit -> COMPLETED",
                "figure": "median items/s",
                "value": value,
                "target": f">= {TARGET_ITEMS_PER_SECOND:,}",
                "met": value >= TARGET_ITEMS_PER_SECOND,
            }
        )
    if "b" in results:
        value = results["b"]["p50_ms"]
        rows.append(
            {
                "benchmark": "(b) submit a 1k-item body",
                "figure": "p50 ms",
                "value": value,
                "target": f"<= {TARGET_SUBMIT_P50_MS:g}",
                "met": value <= TARGET_SUBMIT_P50_MS,
            }
        )
        rows.append(
            {
                "benchmark": "(b) submit a 1k-item body",
                "figure": "p99 ms",
                "value": results["b"]["p99_ms"],
                "target": "-",
                "met": None,
            }
        )
    if "c" in results:
        value = results["c"]["requests_per_second"]
        rows.append(
            {
                "benchmark": "(c) GET task status, one API process",
                "figure": "requests/s",
                "value": value,
                "target": f">= {TARGET_STATUS_RPS:,}",
                "met": value >= TARGET_STATUS_RPS,
            }
        )
        rows.extend(
            {
                "benchmark": "(c) GET task status, one API process",
                "figure": q.replace("_", " "),
                "value": results["c"][q],
                "target": "-",
                "met": None,
            }
            for q in ("p50_ms", "p99_ms")
        )
    return rows


def figure_lines(results: dict[str, Any]) -> list[str]:
    """One line per figure that has a ceiling: `name value unit (ceiling value, ratio r)`."""
    lines = []
    if "b" in results and results["b"].get("ratio") is not None:
        b = results["b"]
        lines.append(
            f"(b) submit p50 {b['p50_ms']:.1f} ms "
            f"(ceiling {b['ceiling']['p50_ms']:.1f} ms, ratio {b['ratio']:.2f})"
        )
    if "c" in results and results["c"].get("ratio") is not None:
        c, ceiling = results["c"], results["c"]["ceiling"]
        lines.append(
            f"(c) status reads {c['requests_per_second']:,.0f} requests/s "
            f"(ceiling {ceiling['requests_per_second']:,.0f} requests/s, ratio {c['ratio']:.2f})"
        )
        if c.get("server_cpu_ms_per_request") and ceiling.get("server_cpu_ms_per_request"):
            mine, bare = c["server_cpu_ms_per_request"], ceiling["server_cpu_ms_per_request"]
            lines.append(
                f"(c) API process CPU per status read {mine:.3f} ms "
                f"(ceiling {bare:.3f} ms, ratio {bare / mine:.2f})"
            )
    return lines


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    tag = secrets.token_hex(3)
    extra_env = dict(pair.split("=", 1) for pair in args.env)
    results: dict[str, Any] = {}
    info = {
        "db": args.db,
        "db_version": database_version(args.db, args.postgres_url),
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "service": "python -m lmsbridge serve (the API, and its worker in a child process), default settings"
        if args.worker == "in-process"
        else "python -m lmsbridge serve --no-worker + python -m lmsbridge worker, default settings",
        "extra_env": extra_env,
    }
    print(
        f"lmsbridge bulk-task benchmarks on {info['db_version']}; "
        f"{info['machine']['cpu_count']} CPUs ({info['machine']['cpu']}), "
        f"Python {info['machine']['python']}, commit {info['machine']['commit']}"
    )
    load = info["machine"]["load_average_1m_before"]
    if load > 0.5:
        print(
            f"note: the 1-minute load average is {load} before the run: other processes are "
            "using the CPUs, so figures will be lower and noisier than on an idle machine."
        )
    ended = "not started"
    with (
        workspace(args.keep) as workdir,
        fresh_database(args.db, workdir, args.postgres_url) as url,
    ):
        env = service_env(url, extra_env)
        key = cli(["keys", "create", "--name", "bench"], env, workdir)
        fast = cli(["integrations", "create", "--tool", "sandbox", "--name", "Bench Sandbox"], env, workdir)
        slow = cli(
            [
                "integrations",
                "create",
                "--tool",
                "sandbox",
                "--name",
                "Bench slow Sandbox",
                "--setting",
                f"latency_ms={SLOW_LATENCY_MS}",
            ],
            env,
            workdir,
        )
        service = Service(workdir, env, separate_worker=args.worker == "separate")
        service.start()
        print(f"service: {service.url} (pids {service.pids}), store {url.split('@')[-1]}")
        try:
            headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
            with httpx.Client(base_url=service.url, headers=headers, timeout=120) as client:
                settle(service, "start-up (migrations, the integrations' first jobs)")
                if "a" in args.only:
                    results["a"] = bench_throughput(
                        client,
                        service,
                        fast,
                        database_url=url,
                        items=args.items,
                        repeats=args.repeats,
                        poll_seconds=args.poll_ms / 1000,
                        tag=tag,
                    )
                if "b" in args.only:
                    settle(service, "(a)")
                    results["b"] = bench_submit_latency(
                        client,
                        service,
                        fast,
                        items=args.submit_items,
                        submits=args.submits,
                        warmup=args.submit_warmup,
                        tag=tag,
                    )
                if "c" in args.only:
                    settle(service, "(b)")
                    results["c"] = bench_status_rps(
                        client,
                        service,
                        workdir,
                        key,
                        fast,
                        slow,
                        load=args.load,
                        concurrency=args.concurrency,
                        seconds=args.seconds,
                        warmup=args.warmup,
                        completed_items=args.completed_items,
                        tag=tag,
                    )
        except Exception:
            print(f"\nthe service's log ends with:\n{service.log_tail()}", file=sys.stderr)
            raise
        finally:
            # The PENDING task of (c) holds a worker thread in a minute-long Sandbox sleep, so a
            # graceful stop may need the kill that follows the grace period.
            ended = service.stop(grace=5)

    rows = summary_rows(results)
    print(f"\nsummary ({args.db}; service {ended})")
    print(
        table(
            ["benchmark", "figure", "value", "target", "met"],
            [
                [
                    r["benchmark"],
                    r["figure"],
                    f"{r['value']:,.1f}",
                    r["target"],
                    "-" if r["met"] is None else ("met" if r["met"] else "NOT MET"),
                ]
                for r in rows
            ],
        )
    )
    lines = figure_lines(results)
    if lines:
        print("\nfigures against their ceilings (ratio: the share of the ceiling reached)")
        print("\n".join(lines))
    path = args.json or ROOT / ".bench" / f"results-{args.db}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({**info, "results": results, "summary": rows}, indent=2) + "\n")
    print(f"results written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
