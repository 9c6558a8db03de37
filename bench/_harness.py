"""What every benchmark needs: a fresh store, the service as a separate process started through
the CLI (as a user runs it), a light keep-alive HTTP load generator, and percentiles, tables and
JSON for reporting. Benchmarks print figures; nothing here asserts a timing."""

from __future__ import annotations

import asyncio
import contextlib
import os
import platform
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
DEFAULT_POSTGRES_URL = os.environ.get(
    "LMSBRIDGE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
SECRET_KEY = "bench-secret-key-not-for-production"


# -- the store ------------------------------------------------------------------------------------
@contextlib.contextmanager
def fresh_database(kind: str, workdir: Path, admin_url: str = DEFAULT_POSTGRES_URL) -> Iterator[str]:
    """The URL of an empty store: a SQLite file in `workdir`, or a new PostgreSQL database that
    is dropped afterwards (as tests/conftest.py does)."""
    if kind == "sqlite":
        yield f"sqlite:///{workdir / 'lmsbridge.db'}"
        return
    import psycopg

    name = f"lmsbridge_bench_{os.getpid()}_{secrets.token_hex(4)}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{admin_url.rsplit('/', 1)[0]}/{name}"
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def database_version(kind: str, admin_url: str = DEFAULT_POSTGRES_URL) -> str:
    if kind == "sqlite":
        import sqlite3

        return f"SQLite {sqlite3.sqlite_version}"
    import psycopg

    with psycopg.connect(admin_url) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    return f"PostgreSQL {row[0] if row else '?'}"


# -- the service, as a separate process ----------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cli(args: Sequence[str], env: dict[str, str], cwd: Path) -> str:
    """Run `python -m lmsbridge ARGS`; returns the last line of its stdout."""
    done = subprocess.run(
        [PYTHON, "-m", "lmsbridge", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"lmsbridge {' '.join(args)} failed ({done.returncode}):\n{done.stderr}")
    return done.stdout.strip().splitlines()[-1].strip()


def service_env(database_url: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LMSBRIDGE_")}
    env.update(
        {
            "LMSBRIDGE_DATABASE_URL": database_url,
            "LMSBRIDGE_SECRET_KEY": SECRET_KEY,
            # Benchmarks measure the service, not the per-key rate limit (DESIGN.md section 5).
            "LMSBRIDGE_RATE_LIMIT_PER_MINUTE": "0",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra or {})
    return env


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process (Linux /proc); None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


class CpuMeter:
    """CPU that processes used over a stretch of wall time, in cores (1.0 = one core busy)."""

    def __init__(self, pids: Sequence[int]) -> None:
        self.pids = list(pids)
        self.cpu0 = self._server_cpu()
        self.own0 = time.process_time()
        self.wall0 = time.perf_counter()

    def _server_cpu(self) -> float | None:
        times = [_cpu_seconds(pid) for pid in self.pids]
        return None if not times or None in times else sum(t for t in times if t is not None)

    def read(self) -> dict[str, float | None]:
        wall = time.perf_counter() - self.wall0
        cpu = self._server_cpu()
        server = (cpu - self.cpu0) / wall if cpu is not None and self.cpu0 is not None else None
        return {
            "server_cpu_cores": round(server, 2) if server is not None else None,
            "bench_cpu_cores": round((time.process_time() - self.own0) / wall, 2),
        }


def _children(pid: int) -> list[int]:
    """The process's children and their children (Linux /proc); [] elsewhere."""
    try:
        found = [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []
    return found + [grandchild for child in found for grandchild in _children(child)]


@dataclass
class Service:
    """`python -m lmsbridge serve` (the API, and its worker in a child process) on a loopback
    port; or, with `separate_worker`, `serve --no-worker` and a `python -m lmsbridge worker`
    process."""

    workdir: Path
    env: dict[str, str]
    separate_worker: bool = False
    port: int = field(default_factory=free_port)
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.workdir / "serve.log"

    @property
    def pids(self) -> list[int]:
        """Every process of the service: those started here and their children (serve's worker)."""
        started = [process.pid for process in self.processes]
        return started + [child for pid in started for child in _children(pid)]

    @property
    def api_pid(self) -> int:
        return self.processes[0].pid

    def _spawn(self, args: Sequence[str]) -> subprocess.Popen[bytes]:
        with self.log_path.open("ab") as log:
            process = subprocess.Popen(
                [PYTHON, "-m", "lmsbridge", *args],
                env=self.env,
                cwd=self.workdir,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.processes.append(process)
        return process

    def start(self, timeout: float = 30.0) -> None:
        serve = ["serve", "--host", "127.0.0.1", "--port", str(self.port)]
        self._spawn([*serve, "--no-worker"] if self.separate_worker else serve)
        deadline = time.monotonic() + timeout
        while True:
            if any(process.poll() is not None for process in self.processes):
                raise RuntimeError(f"lmsbridge serve exited early:\n{self.log_tail()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"lmsbridge serve did not become healthy:\n{self.log_tail()}")
            time.sleep(0.05)
        if self.separate_worker:  # after serve, which has migrated the store
            self._spawn(["worker"])

    def stop(self, grace: float = 10.0) -> str:
        """SIGINT (a graceful stop: the worker finishes or hands back its jobs), then SIGKILL
        after `grace` seconds. Returns how it ended."""
        running = [process for process in self.processes if process.poll() is None]
        if not running:
            return "not running"
        children = [child for process in running for child in _children(process.pid)]
        for process in running:
            process.send_signal(signal.SIGINT)
        deadline = time.monotonic() + grace
        killed = 0
        for process in running:
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
                killed += 1
        for child in children:  # serve stops its worker, unless it was killed first
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGKILL)
        if killed:
            return f"killed after a {grace:g}s grace period"
        return "exited with " + ", ".join(str(process.returncode) for process in running)

    def wait_idle(self, *, below: float = 0.05, window: float = 0.5, timeout: float = 120.0) -> float:
        """Wait until the service uses less than `below` cores over `window` seconds (its worker
        has finished what it was doing, e.g. an integration's first sync); returns the wait."""
        started = time.perf_counter()
        while time.perf_counter() - started < timeout:
            meter = self.cpu_meter()
            time.sleep(window)
            used = meter.read()["server_cpu_cores"]
            if used is None or used < below:
                break
        return time.perf_counter() - started

    def cpu_meter(self, *, api_only: bool = False) -> CpuMeter:
        """CPU of the whole service, or of the API process alone."""
        return CpuMeter([self.api_pid] if api_only else self.pids)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


@dataclass
class BareStatus:
    """bench/bare_status.py on a loopback port: the ceiling of a task status read."""

    workdir: Path
    env: dict[str, str]
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self, timeout: float = 30.0) -> None:
        script = Path(__file__).resolve().parent / "bare_status.py"
        with (self.workdir / "bare_status.log").open("ab") as log:
            self.process = subprocess.Popen(
                [PYTHON, str(script), self.env["LMSBRIDGE_DATABASE_URL"], str(self.port)],
                env=self.env,
                cwd=self.workdir,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError("bench/bare_status.py exited early; see bare_status.log (--keep)")
            try:
                httpx.get(self.url, timeout=1)
                return
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise RuntimeError("bench/bare_status.py did not answer") from None
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@contextlib.contextmanager
def workspace(keep: bool) -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="lmsbridge-bench-"))
    try:
        yield path
    finally:
        if keep:
            print(f"kept the work directory {path}")
        else:
            import shutil

            shutil.rmtree(path, ignore_errors=True)


# -- a light load generator ----------------------------------------------------------------------
@dataclass
class LoadResult:
    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float]
    statuses: dict[int, int]
    reported_ms: dict[float, float] | None = None  # percentiles a tool reported (wrk)

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def latency_ms(self, q: float) -> float:
        if self.reported_ms is not None:
            return self.reported_ms.get(q, float("nan"))
        return percentile(self.latencies_ms, q)


def _request_bytes(host: str, port: int, path: str, headers: dict[str, str]) -> bytes:
    lines = [
        f"GET {path} HTTP/1.1",
        f"Host: {host}:{port}",
        *(f"{k}: {v}" for k, v in headers.items()),
        "",
        "",
    ]
    return "\r\n".join(lines).encode("latin-1")


Target = tuple[str, dict[str, str]]  # (path, headers) of one GET


async def _keepalive_connection(
    host: str,
    port: int,
    requests: list[bytes],
    offset: int,
    start_at: float,
    stop_at: float,
    result: LoadResult,
) -> None:
    """One keep-alive connection sending requests back to back; latencies are recorded only for
    requests sent in [start_at, stop_at) (the rest is warm-up)."""
    reader, writer = await asyncio.open_connection(host, port)
    n = offset
    try:
        while (sent := time.perf_counter()) < stop_at:
            writer.write(requests[n % len(requests)])
            n += 1
            status_line = await reader.readline()
            if not status_line:  # the server closed the connection: open a new one
                writer.close()
                reader, writer = await asyncio.open_connection(host, port)
                result.errors += sent >= start_at
                continue
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.partition(b":")
                if name.lower() == b"content-length":
                    length = int(value)
            await reader.readexactly(length)
            if sent >= start_at:
                status = int(status_line.split(b" ", 2)[1])
                result.statuses[status] = result.statuses.get(status, 0) + 1
                result.requests += 1
                result.errors += status != 200
                result.latencies_ms.append((time.perf_counter() - sent) * 1000)
    finally:
        writer.close()


def hammer_keepalive(
    base_url: str,
    targets: Sequence[Target],
    *,
    concurrency: int,
    seconds: float,
    warmup: float,
) -> LoadResult:
    """`concurrency` keep-alive HTTP/1.1 connections on one asyncio loop (uvloop when present),
    each sending the GETs of `targets` in turn, back to back, for `warmup` + `seconds`. It parses
    only the status line and Content-Length, so it takes far less of the machine's CPU from the
    server than an HTTP library would."""
    url = httpx.URL(base_url)
    host, port = url.host, url.port or 80
    requests = [_request_bytes(host, port, path, headers) for path, headers in targets]
    result = LoadResult(0, 0, seconds, [], {})

    async def main() -> None:
        start_at = time.perf_counter() + warmup
        stop_at = start_at + seconds
        await asyncio.gather(
            *(
                _keepalive_connection(host, port, requests, n, start_at, stop_at, result)
                for n in range(concurrency)
            )
        )

    _run(main())
    return result


def hammer_httpx(
    base_url: str,
    targets: Sequence[Target],
    *,
    concurrency: int,
    seconds: float,
    warmup: float,
) -> LoadResult:
    """The same load through httpx.AsyncClient: simpler to trust, heavier on the CPU."""
    result = LoadResult(0, 0, seconds, [], {})

    async def one(client: httpx.AsyncClient, offset: int, start_at: float, stop_at: float) -> None:
        n = offset
        while (sent := time.perf_counter()) < stop_at:
            path, headers = targets[n % len(targets)]
            response = await client.get(path, headers=headers)
            n += 1
            if sent >= start_at:
                result.statuses[response.status_code] = result.statuses.get(response.status_code, 0) + 1
                result.requests += 1
                result.errors += response.status_code != 200
                result.latencies_ms.append((time.perf_counter() - sent) * 1000)

    async def main() -> None:
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30) as client:
            start_at = time.perf_counter() + warmup
            stop_at = start_at + seconds
            await asyncio.gather(*(one(client, n, start_at, stop_at) for n in range(concurrency)))

    _run(main())
    return result


_WRK_SCRIPT = """
local requests = {}
init = function(args)
%s
end
local n = 0
request = function()
  n = n + 1
  return requests[(n %% #requests) + 1]
end
"""


def hammer_wrk(
    base_url: str,
    targets: Sequence[Target],
    *,
    concurrency: int,
    seconds: float,
    warmup: float,
    workdir: Path,
    threads: int = 2,
) -> LoadResult:
    """The same load through wrk (C, event-driven): the lightest client, if it is installed."""
    import re
    import shutil

    wrk = shutil.which("wrk")
    if wrk is None:
        raise RuntimeError("wrk is not installed (apt-get install wrk); use --load keepalive")

    def lua(value: str) -> str:
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'

    lines = []
    for n, (path, headers) in enumerate(targets, start=1):
        table_ = ", ".join(f"[{lua(k)}] = {lua(v)}" for k, v in headers.items())
        lines.append(f'  requests[{n}] = wrk.format("GET", {lua(path)}, {{{table_}}})')
    script = workdir / "status.lua"
    script.write_text(_WRK_SCRIPT % "\n".join(lines))
    base = [wrk, f"-t{threads}", f"-c{concurrency}", "--latency", "-s", str(script)]
    if warmup > 0:
        subprocess.run([*base, f"-d{max(1, round(warmup))}s", base_url], capture_output=True, check=True)
    out = subprocess.run(
        [*base, f"-d{max(1, round(seconds))}s", base_url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    units = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}
    reported = {
        float(q): float(value) * units[unit]
        for q, value, unit in re.findall(r"^\s+(\d+)%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.MULTILINE)
    }
    total = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)", out)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    if total is None:
        raise RuntimeError(f"could not read wrk's output:\n{out}")
    requests = int(total.group(1))
    errors = int(non_2xx.group(1)) if non_2xx else 0
    if socket_errors:
        errors += sum(int(n) for n in re.findall(r"\d+", socket_errors.group(1)))
    elapsed = float(total.group(2)) * units[total.group(3)] / 1000
    return LoadResult(requests, errors, elapsed, [], {}, reported_ms=reported)


def _run(coroutine: Any) -> None:
    try:
        import uvloop

        uvloop.run(coroutine)
    except ImportError:
        asyncio.run(coroutine)


# -- reporting ------------------------------------------------------------------------------------
def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100), interpolated between the closest ranks."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(str(cell).ljust(width) for cell, width in zip(cells, widths, strict=True)).rstrip()

    return "\n".join([line(header), line(["-" * w for w in widths]), *(line(r) for r in rows)])


def _git(*args: str) -> str:
    done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
    return done.stdout.strip()


def machine() -> dict[str, Any]:
    """The machine, and which lmsbridge the service runs: this checkout's src/ (its commit, and
    whether src/ has uncommitted changes) or another one that PYTHONPATH points at."""
    source = subprocess.run(
        [PYTHON, "-c", "import lmsbridge, os; print(os.path.dirname(lmsbridge.__file__))"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    if Path(source).resolve().is_relative_to(ROOT / "src"):
        dirty = _git("status", "--porcelain", "--", "src")
        commit = _git("rev-parse", "--short", "HEAD") + ("+uncommitted src changes" if dirty else "")
    else:
        commit = f"not this checkout: {source}"
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "load_average_1m_before": round(os.getloadavg()[0], 2),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
        "lmsbridge": source,
        "commit": commit,
    }
