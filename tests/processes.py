"""Real `lmsbridge` processes for the tests that kill them: workers (and API servers) started
through the CLI, as an operator runs them, on loopback, killed or stopped by the tests; their logs
are kept for the failure message."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.waiting import wait_until

# What the fault tests add: outcomes committed often, the sync schedule looked at every second.
FAST_WORKER = {"LMSBRIDGE_TASK_FLUSH_SECONDS": "0.1", "LMSBRIDGE_SYNC_SCHEDULE_CHECK_SECONDS": "1"}


def worker_env(database_url: str, secret_key: str, tmp: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "LMSBRIDGE_DATABASE_URL": database_url,
        "LMSBRIDGE_SECRET_KEY": secret_key,
        "LMSBRIDGE_SECRET_KEY_FILE": str(tmp / "unused.key"),
        "LMSBRIDGE_JOB_LEASE_SECONDS": "2",
        "LMSBRIDGE_JOB_POLL_SECONDS": "0.05",
        **extra,
    }


class Processes:
    """`python -m lmsbridge ...` processes; whatever still runs at the end is killed."""

    def __init__(self, env: dict[str, str], tmp: Path) -> None:
        self.env = env
        self.tmp = tmp
        self.procs: list[tuple[subprocess.Popen[bytes], Path]] = []
        self.signalled: set[int] = set()

    def start(self, *args: str) -> subprocess.Popen[bytes]:
        log = self.tmp / f"{args[0]}-{len(self.procs)}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "lmsbridge", *args],
                env=self.env,
                cwd=self.tmp,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        self.procs.append((proc, log))
        return proc

    def worker(self, concurrency: int = 2) -> subprocess.Popen[bytes]:
        return self.start("worker", "--concurrency", str(concurrency))

    def serve(self, port: int, timeout: float = 30.0) -> subprocess.Popen[bytes]:
        """`serve --no-worker` on `port`, once /healthz answers 200."""
        proc = self.start("serve", "--no-worker", "--host", "127.0.0.1", "--port", str(port))

        def healthy() -> bool:
            if proc.poll() is not None:
                pytest.fail(f"serve exited early\n{self.logs()}")
            try:
                return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(healthy, timeout=timeout, message=lambda: f"serve did not become healthy\n{self.logs()}")
        return proc

    def signal(self, proc: subprocess.Popen[bytes], signum: int) -> None:
        """Signal a process; check_alive no longer expects it to be running."""
        self.signalled.add(proc.pid)
        proc.send_signal(signum)

    def kill(self, proc: subprocess.Popen[bytes]) -> int:
        self.signal(proc, signal.SIGKILL)
        return proc.wait(10)

    def check_alive(self) -> None:
        """Fail at once, with the logs, if a process the test did not signal has exited."""
        for proc, _ in self.procs:
            if proc.pid not in self.signalled and proc.poll() is not None:
                pytest.fail(f"process {proc.pid} exited unexpectedly\n{self.logs()}")

    def logs(self, tail: int = 60) -> str:
        parts = []
        for proc, log in self.procs:
            lines = log.read_text(errors="replace").splitlines()[-tail:]
            parts.append(f"--- {log.name} (exit {proc.returncode}) ---\n" + "\n".join(lines))
        return "\n".join(parts)

    def stop_all(self) -> None:
        for proc, _ in self.procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait(10)


def wait_for(
    condition: Callable[[], bool],
    timeout: float,
    what: str,
    processes: Processes | None = None,
    interval: float = 0.1,
) -> None:
    def holds() -> bool:
        if processes is not None:
            processes.check_alive()
        return condition()

    def failure() -> str:
        return f"waiting for {what}\n{processes.logs() if processes is not None else ''}"

    wait_until(holds, timeout=timeout, message=failure, interval=interval)
