"""The worker of `lmsbridge serve`: `lmsbridge worker --attached`, a child process with its own
interpreter, so the tasks and syncs it runs do not compete with the API's requests for one GIL.

Its standard input is a pipe from `serve`. A byte on it wakes the worker at once when the API has
queued a job (what `wake_workers()` does within one process); the pipe's end, however `serve`
ended (a signal, a crash, SIGKILL), stops the worker the graceful way, so no worker outlives its
`serve`. `serve` itself stops it on SIGINT and SIGTERM and waits for it."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import threading

from lmsbridge.jobs.wakeup import WORKERS

log = logging.getLogger("lmsbridge.serve")

# Worker.stop gives running handlers 30 s to finish or hand their job back; then a little more.
STOP_SECONDS = 40.0


class AttachedWorker:
    """The child worker process, seen from `serve`."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        self.process = process
        assert process.stdin is not None
        self._pipe = process.stdin.fileno()
        os.set_blocking(self._pipe, False)
        threading.Thread(target=self._forward_wakeups, name="lmsbridge-wake-worker", daemon=True).start()

    @classmethod
    def start(cls, log_format: str, env: dict[str, str]) -> AttachedWorker:
        process = subprocess.Popen(
            [sys.executable, "-m", "lmsbridge", "worker", "--attached", "--log-format", log_format],
            stdin=subprocess.PIPE,
            env={**os.environ, **env},
        )
        return cls(process)

    def _forward_wakeups(self) -> None:
        # No worker runs in this process, so the process's wake-up is this thread's alone.
        while self.process.poll() is None:
            if WORKERS.wait(1.0):
                try:
                    os.write(self._pipe, b"\x01")
                except BlockingIOError:
                    pass  # the pipe is full of wake-ups the worker has not read yet: it is awake
                except OSError:
                    return  # closed: serve is stopping

    def stop(self) -> int:
        """SIGTERM and the pipe's end, then wait (SIGKILL after STOP_SECONDS); its exit code."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGTERM)
        with contextlib.suppress(OSError):
            assert self.process.stdin is not None
            self.process.stdin.close()
        try:
            return self.process.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            log.warning("the worker (pid %d) did not stop in %.0f s: killed", self.process.pid, STOP_SECONDS)
            self.process.kill()
            return self.process.wait()


def follow_serve(stop: threading.Event) -> None:
    """In the attached worker: wake the worker on every byte from `serve`, set `stop` at the end
    of the pipe. Runs in a daemon thread."""
    while True:
        try:
            data = os.read(sys.stdin.fileno(), 4096)
        except OSError:
            data = b""
        if not data:
            log.info("serve has ended: stopping")
            stop.set()
            return
        WORKERS.notify()
