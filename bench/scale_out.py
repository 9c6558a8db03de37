"""Scale-out on PostgreSQL: what a second worker process adds, and how close paced remote calls
come to a remote's rate limit. Prints figures; asserts nothing.

(a) I/O bound, as every real LMS: Sandbox integrations answering each item's write after 50 ms
    (`latency_ms=50`); tasks submitted while no worker runs, then drained by 1 worker process
    and (on a fresh database) by 2. Items/s of each, against the ceiling the latency sets
    (threads x 1,000 / 50 items/s), and the ratio 2 workers / 1 (target >= 1.8).
(c) CPU bound: the same on a Sandbox with no latency, so the worker and PostgreSQL share the
    machine's two cores; the ratio is reported, with the CPU seconds per 1,000 items of the
    worker processes and of PostgreSQL (the backends serving the benchmark's database).
(b) Pacing: Moodle integrations against the Moodle emulator, which allows 20 calls a second per
    integration (a token bucket per token, 429 with Retry-After beyond it) and answers every call
    after 50 ms; two worker processes write courses through them. The achieved call rate as a
    share of the allowed one (target >= 90%) and the share of 429 answers (target <= 1%).

    .venv/bin/python bench/scale_out.py [--postgres-url URL] [--only acb] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from _harness import (
    DEFAULT_POSTGRES_URL,
    SECRET_KEY,
    CpuMeter,
    Service,
    database_version,
    fresh_database,
    machine,
    service_env,
    table,
    workspace,
)

BULK = "/v1/lms/courses/bulk"


def course_body(prefix: str, count: int) -> bytes:
    items = [
        {
            "origin_id": f"{prefix}-{n:05d}",
            "course": {
                "type": "EXTERNAL",
                "title": f"Course {prefix} {n}",
                "course_url": f"https://courses.example.com/{prefix}/{n}",
            },
        }
        for n in range(count)
    ]
    return json.dumps({"items": items}, separators=(",", ":")).encode()


def setup_store(url: str, tool: str, integrations: list[dict[str, Any]]) -> tuple[str, list[str]]:
    """An API key and integrations, created in-process (the CLI would take a second each)."""
    from lmsbridge.auth.service import create_key
    from lmsbridge.config import Settings
    from lmsbridge.db import Store
    from lmsbridge.db.migrations import migrate
    from lmsbridge.integration_store.credentials import CredentialBox, load_secret_key
    from lmsbridge.integrations.service import create_integration

    store = Store(url)
    migrate(store)
    box = CredentialBox(load_secret_key(Settings(secret_key=SECRET_KEY, database_url=url), create=False))
    with store.write() as conn:
        key = create_key(conn, name="bench", environment="default").secret
        ids = [
            create_integration(
                conn,
                box,
                tool=tool,
                environment="default",
                settings=spec["settings"],
                credentials=spec.get("credentials"),
            ).id
            for spec in integrations
        ]
    store.dispose()
    return key, ids


def machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of all CPUs since boot (Linux /proc/stat)."""
    fields = [float(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0.0)
    return sum(fields) - idle, sum(fields)


class BackendCpu:
    """CPU seconds of the PostgreSQL backends that serve one database: their pids from
    `pg_stat_activity` (datname = the database, this monitor's own backend left out), their
    utime + stime from /proc/<pid>/stat (PostgreSQL runs on this machine). `sample()` is called
    while the work runs, so backends that open later are counted from 0 and backends that close
    keep their last reading. The server's shared processes (WAL writer, checkpointer) serve every
    database on the server and are not counted."""

    def __init__(self, url: str) -> None:
        import psycopg

        self.conn = psycopg.connect(url, autocommit=True)
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.sample()
        self.first = dict(self.last)

    def sample(self) -> None:
        import os

        ticks = os.sysconf("SC_CLK_TCK")
        rows = self.conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
        for (pid,) in rows:
            try:
                stat = Path(f"/proc/{pid}/stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            self.last[pid] = (int(fields[11]) + int(fields[12])) / ticks

    def seconds(self) -> float:
        self.sample()
        return sum(cpu - self.first.get(pid, 0.0) for pid, cpu in self.last.items())

    def close(self) -> None:
        self.conn.close()


def pending_tasks(conn: Any) -> int:
    row = conn.execute("SELECT count(*) FROM tasks WHERE status = 'PENDING'").fetchone()
    return int(row[0]) if row else 0


def jobs_claimed(conn: Any) -> int:
    row = conn.execute(
        "SELECT count(*) FROM jobs WHERE kind = 'tasks.run_bulk' AND state <> 'queued'"
    ).fetchone()
    return int(row[0]) if row else 0


def stop(process: subprocess.Popen[bytes], grace: float = 30.0) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# -- (a) and (c) ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Shape:
    """One scale-out measurement: `tasks` tasks of `items` items on Sandboxes with `latency_ms`,
    drained by worker processes of `concurrency` threads."""

    name: str
    tasks: int
    items: int
    latency_ms: int
    concurrency: int

    def ceiling(self, workers: int) -> float | None:
        """Items/s the Sandbox's latency allows `workers` processes (None when there is none)."""
        return workers * self.concurrency * 1000 / self.latency_ms if self.latency_ms else None


def drain(args: argparse.Namespace, shape: Shape, workers: int) -> dict[str, Any]:
    import psycopg

    with workspace(args.keep) as workdir, fresh_database("postgres", workdir, args.postgres_url) as url:
        env = service_env(url, {"LMSBRIDGE_RATE_LIMIT_PER_MINUTE": "0"})
        key, integrations = setup_store(
            url, "sandbox", [{"settings": {"latency_ms": shape.latency_ms}} for _ in range(args.integrations)]
        )
        service = Service(workdir, env, separate_worker=True)
        service.start()  # serve --no-worker, and one worker for the integrations' first syncs
        try:
            service.wait_idle()
            stop(service.processes[1])  # no worker while the tasks are submitted
            headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
            bodies = [course_body(f"t{n}", shape.items) for n in range(shape.tasks)]
            with httpx.Client(base_url=service.url, headers=headers, timeout=300) as client:

                def submit(n: int) -> None:
                    integration = integrations[n % len(integrations)]
                    response = client.post(BULK, content=bodies[n], headers={"X-Integration-Id": integration})
                    if response.status_code != 200:
                        raise RuntimeError(f"submit answered {response.status_code}: {response.text[:300]}")

                started = time.perf_counter()
                with ThreadPoolExecutor(8) as pool:
                    list(pool.map(submit, range(shape.tasks)))
                submit_seconds = time.perf_counter() - started
            with psycopg.connect(url, autocommit=True) as monitor:
                spawned = [
                    service._spawn(["worker", "--concurrency", str(shape.concurrency)])
                    for _ in range(workers)
                ]
                # The clock starts at the first claim: a worker process's start-up (imports) is
                # not part of its throughput.
                while not jobs_claimed(monitor):
                    if any(p.poll() is not None for p in spawned):
                        raise RuntimeError(f"a worker exited:\n{service.log_tail()}")
                    time.sleep(0.01)
                meter = CpuMeter([p.pid for p in spawned])
                backends = BackendCpu(url)
                busy0 = machine_busy()
                started = time.perf_counter()
                while pending_tasks(monitor):
                    if any(p.poll() is not None for p in spawned):
                        raise RuntimeError(f"a worker exited:\n{service.log_tail()}")
                    if time.perf_counter() - started > args.timeout:
                        raise RuntimeError(f"tasks still pending after {args.timeout}s")
                    backends.sample()
                    time.sleep(0.1)
                seconds = time.perf_counter() - started
                worker_cores = meter.read()["server_cpu_cores"] or 0.0
                postgres_seconds = backends.seconds()
                backends.close()
                busy1 = machine_busy()
            machine_share = (busy1[0] - busy0[0]) / max(1.0, busy1[1] - busy0[1])
            items = shape.tasks * shape.items
            return {
                "workers": workers,
                "items": items,
                "seconds": round(seconds, 2),
                "items_per_second": round(items / seconds, 1),
                "worker_cpu_cores": worker_cores,
                "worker_cpu_s_per_1k_items": round(worker_cores * seconds * 1000 / items, 3),
                "postgres_cpu_cores": round(postgres_seconds / seconds, 2),
                "postgres_cpu_s_per_1k_items": round(postgres_seconds * 1000 / items, 3),
                "machine_cpu_busy": round(machine_share, 2),
                "load_average_1m": round(os.getloadavg()[0], 2),
                "submit_seconds": round(submit_seconds, 1),
            }
        finally:
            service.stop()


def bench_scale(args: argparse.Namespace, shape: Shape, target: float | None) -> dict[str, Any]:
    latency = f"answering each item after {shape.latency_ms} ms" if shape.latency_ms else "with no latency"
    print(
        f"\n({'a' if shape.latency_ms else 'c'}) {shape.name}: {shape.tasks} tasks x {shape.items} items on "
        f"{args.integrations} Sandbox integrations {latency}, submitted with no worker running, then "
        f"drained by worker processes (--concurrency {shape.concurrency} each)"
    )
    runs = [drain(args, shape, workers) for workers in (1, 2)]
    ratio = runs[1]["items_per_second"] / runs[0]["items_per_second"]
    print(
        table(
            [
                "workers",
                "items",
                "seconds",
                "items/s",
                "worker CPU (cores)",
                "worker CPU s/1k items",
                "PostgreSQL CPU (cores)",
                "PostgreSQL CPU s/1k items",
                "machine busy",
                "load avg",
            ],
            [
                [
                    str(r["workers"]),
                    str(r["items"]),
                    str(r["seconds"]),
                    f"{r['items_per_second']:,.0f}",
                    str(r["worker_cpu_cores"]),
                    f"{r['worker_cpu_s_per_1k_items']:.3f}",
                    str(r["postgres_cpu_cores"]),
                    f"{r['postgres_cpu_s_per_1k_items']:.3f}",
                    f"{r['machine_cpu_busy']:.0%}",
                    str(r["load_average_1m"]),
                ]
                for r in runs
            ],
        )
    )
    key = "io" if shape.latency_ms else "cpu"
    for r in runs:
        ceiling = shape.ceiling(r["workers"])
        bound = (
            f"(ceiling {ceiling:,.0f}, ratio {r['items_per_second'] / ceiling:.2f})"
            if ceiling
            else "(ceiling: the machine's CPU, see the ratio below)"
        )
        cpu = (
            f"worker {r['worker_cpu_s_per_1k_items']:.3f} + PostgreSQL "
            f"{r['postgres_cpu_s_per_1k_items']:.3f} CPU s per 1,000 items"
        )
        print(
            f"scale_out_{key}_{r['workers']}w_items_per_second {r['items_per_second']:,.0f} items/s "
            f"{bound}; {cpu}; load average {r['load_average_1m']}"
        )
    goal = f"; target >= {target:g}" if target else ""
    print(f"scale_out_{key}_2w_over_1w {ratio:.2f} x (ceiling 2.00, ratio {ratio / 2:.2f}){goal}")
    return {"shape": shape.__dict__, "runs": runs, "ratio": round(ratio, 2), "target": target}


# -- (b) ------------------------------------------------------------------------------------------
def bench_b(args: argparse.Namespace) -> dict[str, Any]:
    import uvicorn

    from lmsbridge.testing.emulators.moodle import create_app, seeded_site

    rate, latency = args.remote_rate, args.remote_latency_ms / 1000
    print(
        f"\n(b) {args.moodle_integrations} Moodle integrations; the emulator allows {rate:g} calls/s per "
        f"integration and answers after {latency * 1000:g} ms; 2 worker processes "
        f"(--concurrency {args.moodle_concurrency} each) write courses, one call per course and its read-back"
    )
    site = seeded_site(token=None, courses=2, users=2, completion_task_interval=None)
    tokens = [f"{n:032x}" for n in range(1, args.moodle_integrations + 1)]
    for token in tokens:
        site.add_token(token)
    site.latency_seconds = latency
    with socket_port() as port:
        server = uvicorn.Server(
            uvicorn.Config(
                create_app(site), host="127.0.0.1", port=port, log_level="warning", access_log=False
            )
        )
    emulator = threading.Thread(target=server.run, daemon=True)
    emulator.start()
    while not server.started:
        time.sleep(0.02)
    site_url = f"http://127.0.0.1:{port}"
    try:
        with workspace(args.keep) as workdir, fresh_database("postgres", workdir, args.postgres_url) as url:
            env = service_env(url, {"LMSBRIDGE_RATE_LIMIT_PER_MINUTE": "0"})
            settings = {
                "site_url": site_url,
                "rate_limit_per_second": rate,
                "rate_limit_burst": args.burst,
                "write_batch_size": 1,
                "retry_base_delay_seconds": 0.2,
            }
            key, integrations = setup_store(
                url, "moodle", [{"settings": settings, "credentials": {"token": t}} for t in tokens]
            )
            site.limit_rate(rate)
            service = Service(workdir, env, separate_worker=True)
            service.start()
            try:
                service._spawn(["worker", "--concurrency", str(args.moodle_concurrency)])
                stop(service.processes[1])
                service._spawn(["worker", "--concurrency", str(args.moodle_concurrency)])
                headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
                with httpx.Client(base_url=service.url, headers=headers, timeout=60) as client:
                    for n, integration in enumerate(integrations):
                        for m in range(args.moodle_tasks):
                            body = course_body(f"m{n}-{m}", args.moodle_items)
                            response = client.post(
                                BULK, content=body, headers={"X-Integration-Id": integration}
                            )
                            if response.status_code != 200:
                                raise RuntimeError(
                                    f"submit answered {response.status_code}: {response.text[:300]}"
                                )
                time.sleep(args.warmup)
                with site.lock:
                    admitted0, throttled0 = site.admitted, site.throttled
                started = time.perf_counter()
                time.sleep(args.seconds)
                with site.lock:
                    admitted1, throttled1 = site.admitted, site.throttled
                seconds = time.perf_counter() - started
            finally:
                service.stop()
    finally:
        server.should_exit = True
        emulator.join(10)
    admitted = admitted1 - admitted0
    throttled = throttled1 - throttled0
    allowed = rate * len(tokens) * seconds
    with site.lock:
        total_admitted, total_throttled = site.admitted, site.throttled
    result = {
        "integrations": len(tokens),
        "allowed_per_second": rate * len(tokens),
        "achieved_per_second": round(admitted / seconds, 1),
        "achieved_share": round(admitted / allowed, 3),
        "share_429_window": round(throttled / max(1, admitted + throttled), 4),
        "share_429_whole_run": round(total_throttled / max(1, total_admitted + total_throttled), 4),
        "calls_whole_run": total_admitted + total_throttled,
        "window_seconds": round(seconds, 1),
    }
    print(
        table(
            [
                "allowed calls/s",
                "achieved calls/s",
                "share of allowed",
                "429 share (window)",
                "429 share (run)",
            ],
            [
                [
                    f"{result['allowed_per_second']:g}",
                    str(result["achieved_per_second"]),
                    f"{result['achieved_share']:.1%}",
                    f"{result['share_429_window']:.2%}",
                    f"{result['share_429_whole_run']:.2%}",
                ]
            ],
        )
    )
    print("targets: share of allowed >= 90%, 429 share <= 1%")
    return result


class socket_port:
    """A free loopback port (closed again before the server binds it)."""

    def __enter__(self) -> int:
        import socket

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        return int(self.sock.getsockname()[1])

    def __exit__(self, *_: object) -> None:
        self.sock.close()


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    parser.add_argument("--only", default="acb")
    parser.add_argument("--integrations", type=int, default=20)
    parser.add_argument("--io-tasks", type=int, default=32, help="(a) tasks; 2 per thread of 2 workers")
    parser.add_argument("--io-items", type=int, default=100, help="(a) items per task")
    parser.add_argument("--io-latency-ms", type=int, default=50, help="(a) the Sandbox's time per item")
    parser.add_argument("--io-concurrency", type=int, default=8, help="(a) threads per worker process")
    parser.add_argument("--tasks", type=int, default=40, help="(c) tasks")
    parser.add_argument("--items", type=int, default=1000, help="(c) items per task")
    parser.add_argument("--concurrency", type=int, default=2, help="(c) threads per worker process")
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--remote-rate", type=float, default=20.0)
    parser.add_argument("--remote-latency-ms", type=float, default=50.0)
    parser.add_argument("--burst", type=float, default=5.0, help="the integrations' rate_limit_burst in (b)")
    parser.add_argument("--moodle-integrations", type=int, default=4)
    parser.add_argument("--moodle-tasks", type=int, default=4, help="tasks per Moodle integration")
    parser.add_argument("--moodle-items", type=int, default=400)
    parser.add_argument("--moodle-concurrency", type=int, default=8)
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--json", type=Path, default=Path(".bench/results-scale-out.json"))
    parser.add_argument("--keep", action="store_true")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    info = {"db_version": database_version("postgres", args.postgres_url), "machine": machine()}
    print(
        f"lmsbridge scale-out benchmarks on {info['db_version']}; {info['machine']['cpu_count']} CPUs "
        f"({info['machine']['cpu']}), commit {info['machine']['commit']}, "
        f"load average {info['machine']['load_average_1m_before']}"
    )
    results: dict[str, Any] = {"info": info}
    if "a" in args.only:
        io = Shape("I/O bound", args.io_tasks, args.io_items, args.io_latency_ms, args.io_concurrency)
        results["a"] = bench_scale(args, io, target=1.8)
    if "c" in args.only:
        cpu = Shape("CPU bound", args.tasks, args.items, 0, args.concurrency)
        results["c"] = bench_scale(args, cpu, target=None)
    if "b" in args.only:
        results["b"] = bench_b(args)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2))
    print(f"\nresults: {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
