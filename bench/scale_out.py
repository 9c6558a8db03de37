"""Scale-out on PostgreSQL: what a second worker process adds, and how close paced remote calls
come to a remote's rate limit. Prints figures; asserts nothing.

(a) Worker throughput: 100 tasks of 1,000 items on 20 Sandbox integrations, submitted while no
    worker runs, then drained by 1 worker process and (on a fresh database) by 2; items/s of each
    and their ratio (target >= 1.7 on two cores).
(b) Pacing: Moodle integrations against the Moodle emulator, which allows 20 calls a second per
    integration (a token bucket per token, 429 with Retry-After beyond it) and answers every call
    after 50 ms; two worker processes write courses through them. The achieved call rate as a
    share of the allowed one (target >= 90%) and the share of 429 answers (target <= 1%).

    .venv/bin/python bench/scale_out.py [--postgres-url URL] [--only ab] [--keep]
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
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


def postgres_cpu_seconds() -> float:
    """CPU seconds used so far by every `postgres` process on this machine (its server and its
    backends; other databases' too, on a shared server)."""
    import os

    total = 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        if name.startswith("postgres"):
            fields = stat.rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def pending_tasks(url: str) -> int:
    import psycopg

    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM tasks WHERE status = 'PENDING'").fetchone()
    return int(row[0]) if row else 0


def stop(process: subprocess.Popen[bytes], grace: float = 30.0) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# -- (a) ------------------------------------------------------------------------------------------
def drain(args: argparse.Namespace, workers: int) -> dict[str, Any]:
    with workspace(args.keep) as workdir, fresh_database("postgres", workdir, args.postgres_url) as url:
        env = service_env(url, {"LMSBRIDGE_RATE_LIMIT_PER_MINUTE": "0"})
        key, integrations = setup_store(url, "sandbox", [{"settings": {}} for _ in range(args.integrations)])
        service = Service(workdir, env, separate_worker=True)
        service.start()  # serve --no-worker, and one worker for the integrations' first syncs
        try:
            service.wait_idle()
            stop(service.processes[1])  # no worker while the tasks are submitted
            headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
            bodies = [course_body(f"t{n}", args.items) for n in range(args.tasks)]
            with httpx.Client(base_url=service.url, headers=headers, timeout=300) as client:

                def submit(n: int) -> None:
                    integration = integrations[n % len(integrations)]
                    response = client.post(BULK, content=bodies[n], headers={"X-Integration-Id": integration})
                    if response.status_code != 200:
                        raise RuntimeError(f"submit answered {response.status_code}: {response.text[:300]}")

                started = time.perf_counter()
                with ThreadPoolExecutor(8) as pool:
                    list(pool.map(submit, range(args.tasks)))
                submit_seconds = time.perf_counter() - started
            spawned = [
                service._spawn(["worker", "--concurrency", str(args.concurrency)]) for _ in range(workers)
            ]
            meter = CpuMeter([p.pid for p in spawned])
            busy0, pg0 = machine_busy(), postgres_cpu_seconds()
            started = time.perf_counter()
            while pending_tasks(url):
                if any(p.poll() is not None for p in spawned):
                    raise RuntimeError(f"a worker exited:\n{service.log_tail()}")
                if time.perf_counter() - started > args.timeout:
                    raise RuntimeError(f"tasks still pending after {args.timeout}s")
                time.sleep(0.25)
            seconds = time.perf_counter() - started
            cpu = meter.read()["server_cpu_cores"]
            busy1, pg1 = machine_busy(), postgres_cpu_seconds()
            machine_share = (busy1[0] - busy0[0]) / max(1.0, busy1[1] - busy0[1])
            items = args.tasks * args.items
            return {
                "workers": workers,
                "items": items,
                "seconds": round(seconds, 2),
                "items_per_second": round(items / seconds),
                "worker_cpu_cores": cpu,
                "postgres_cpu_cores": round((pg1 - pg0) / seconds, 2),
                "machine_cpu_busy": round(machine_share, 2),
                "submit_seconds": round(submit_seconds, 1),
            }
        finally:
            service.stop()


def bench_a(args: argparse.Namespace) -> dict[str, Any]:
    print(
        f"\n(a) {args.tasks} tasks x {args.items} items on {args.integrations} Sandbox integrations, "
        f"submitted with no worker running, then drained by worker processes "
        f"(--concurrency {args.concurrency} each)"
    )
    runs = [drain(args, workers) for workers in (1, 2)]
    ratio = runs[1]["items_per_second"] / runs[0]["items_per_second"]
    print(
        table(
            [
                "workers",
                "items",
                "seconds",
                "items/s",
                "worker CPU (cores)",
                "PostgreSQL CPU",
                "machine busy",
            ],
            [
                [
                    str(r["workers"]),
                    str(r["items"]),
                    str(r["seconds"]),
                    str(r["items_per_second"]),
                    str(r["worker_cpu_cores"]),
                    str(r["postgres_cpu_cores"]),
                    f"{r['machine_cpu_busy']:.0%}",
                ]
                for r in runs
            ],
        )
    )
    print(f"2 workers / 1 worker: {ratio:.2f} (target >= 1.7 on two cores)")
    return {"runs": runs, "ratio": round(ratio, 2)}


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
    parser.add_argument("--only", default="ab")
    parser.add_argument("--tasks", type=int, default=100)
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--integrations", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=4, help="threads per worker process in (a)")
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
        results["a"] = bench_a(args)
    if "b" in args.only:
        results["b"] = bench_b(args)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2))
    print(f"\nresults: {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
