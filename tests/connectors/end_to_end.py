"""What every connector's end-to-end test runs and reads lmsbridge's API with: `lmsbridge emulate`
in its own process, `lmsbridge integrations create --connection-file`, a checked success's data, a
checked refusal, every page of a list, a bulk task and the next sync run to end. (The `processes`
fixture is in this folder's conftest.py.)"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from lmsbridge.syncs.repository import SyncRepository, SyncRun
from tests.conftest import Server, free_port
from tests.contract import checked
from tests.processes import Processes, worker_env
from tests.waiting import wait_until

TIMEOUT = 60.0
SECRET = "udemy-e2e-secret-0a1b2c3d4e5f"
SUITE_SECRET_KEY = "test-secret-key-for-the-suite"


def emulate(
    processes: Processes, tmp_path: Path, tool: str, *options: str, token: str = SECRET
) -> tuple[str, Path]:
    """`lmsbridge emulate <tool>` in its own process (`options`: more of its arguments); its URL
    and connection file, once it answers."""
    port = free_port()
    connection = tmp_path / f"{tool}.json"
    proc = processes.start(
        "emulate", tool, "--port", str(port), "--seed", "2", "--token", token,
        "--connection-file", str(connection), *options,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while True:
        assert proc.poll() is None, processes.logs()
        with socket.socket() as sock:
            if connection.exists() and sock.connect_ex(("127.0.0.1", port)) == 0:
                break
        assert time.monotonic() < deadline, processes.logs()
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}", connection


def create_from_file(server: Server, connection: Path, tmp_path: Path) -> str:
    """`lmsbridge integrations create --connection-file`; the new integration's id."""
    created = subprocess.run(
        [sys.executable, "-m", "lmsbridge", "integrations", "create", "--connection-file", str(connection)],
        env=worker_env(server.settings.database_url, SUITE_SECRET_KEY, tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert created.returncode == 0, created.stderr
    return created.stdout.strip().splitlines()[-1]


def wait_task(api: httpx.Client, path: str, timeout: float = TIMEOUT) -> dict[str, Any]:
    """The bulk task at `path` once it is no longer PENDING."""
    deadline = time.monotonic() + timeout
    while True:
        data: dict[str, Any] = ok(api.get(path))
        if data["status"] != "PENDING":
            return data
        assert time.monotonic() < deadline, data
        time.sleep(0.1)


def ok(response: httpx.Response) -> Any:
    checked(response)
    assert response.status_code == 200, response.text
    return response.json()["data"]


def refused(response: httpx.Response, code: str) -> None:
    checked(response)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == code


def listed(api: httpx.Client, path: str) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        data = ok(api.get(path, params={"page_size": 250, **({"cursor": cursor} if cursor else {})}))
        results += data["results"]
        cursor = data["next"]
        if cursor is None:
            return results


def finished_sync(server: Server, integration_id: str, after: str | None = None) -> SyncRun:
    """The newest sync run of the integration, other than `after`, once it has ended."""
    last: list[SyncRun | None] = [None]

    def ended() -> SyncRun | None:
        with server.store.read() as conn:
            runs = SyncRepository(conn).latest_runs(integration_id, 1)
        last[0] = run = runs[0] if runs else None
        if run is not None and run.id != after and run.state not in ("QUEUED", "RUNNING"):
            return run
        return None

    return wait_until(ended, timeout=TIMEOUT, message=lambda: f"no sync ended: {last[0]}")


def courses_task(api: httpx.Client, items: list[dict[str, Any]]) -> dict[str, Any]:
    """`POST /v1/lms/courses/bulk` of `items`, and the task once it has ended."""
    task_id = ok(api.post("/v1/lms/courses/bulk", json={"items": items}))["task_id"]
    return wait_task(api, f"/v1/lms/courses/bulk/{task_id}")
