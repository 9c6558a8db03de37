"""PostgreSQL stops hard (`pg_ctl stop -m immediate`, as a crash or a failover does) under load
and comes back: meanwhile the API answers 503 in the error envelope, at once (never a hang, never
a 500 with a stack trace), and afterwards the workers resume and every task accepted before the
outage completes, each item once.

It runs on a private PostgreSQL instance of its own (initdb into a temporary directory, on a free
port): the shared one other tests use is never stopped. Skipped only where initdb is missing."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from sqlalchemy import func, select

from lmsbridge.auth.service import create_key
from lmsbridge.config import Settings
from lmsbridge.db import Store
from lmsbridge.db.migrations import migrate
from lmsbridge.db.tables import sandbox_courses, task_items
from lmsbridge.ids import derived_id
from lmsbridge.integration_store.credentials import CredentialBox, load_secret_key
from lmsbridge.integrations.service import create_integration
from tests.conftest import free_port
from tests.processes import FAST_WORKER, Processes, wait_for, worker_env

pytestmark = pytest.mark.slow

SECRET = "store-outage-test-secret"
TASKS = 4
ITEMS = 1000
OUTAGE_SECONDS = 6.0
CLIENT_TIMEOUT = 15.0  # an answer slower than this counts as a hang


@dataclass
class PrivatePostgres:
    bin_dir: Path
    data: Path
    port: int
    as_postgres: list[str]

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/lmsbridge"

    def pg_ctl(self, *args: str) -> None:
        command = [*self.as_postgres, str(self.bin_dir / "pg_ctl"), "-D", str(self.data), *args]
        subprocess.run(command, check=True, capture_output=True, timeout=60)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c fsync=off"
        self.pg_ctl("-o", options, "-l", str(self.data / "server.log"), "-w", "start")

    def stop_immediately(self) -> None:
        self.pg_ctl("-m", "immediate", "-w", "stop")


@pytest.fixture(scope="module")
def private_postgres() -> Iterator[PrivatePostgres]:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    initdb = found[-1] if found else shutil.which("initdb")
    if initdb is None:
        pytest.skip("initdb is not installed (Debian: postgresql-15)")
    bin_dir = Path(initdb).parent
    root = Path(tempfile.mkdtemp(prefix="lmsbridge-pg-"))
    data = root / "data"
    as_postgres: list[str] = []
    if os.geteuid() == 0:  # initdb refuses root: run the instance as the postgres user
        as_postgres = ["runuser", "-u", "postgres", "--"]
        shutil.chown(root, "postgres")
        os.chmod(root, 0o755)
    subprocess.run(
        [*as_postgres, str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"],
        check=True,
        capture_output=True,
        timeout=120,
    )
    pg = PrivatePostgres(bin_dir, data, free_port(), as_postgres)
    pg.start()
    try:
        with psycopg.connect(f"postgresql://postgres@127.0.0.1:{pg.port}/postgres", autocommit=True) as conn:
            conn.execute("CREATE DATABASE lmsbridge")
        yield pg
    finally:
        try:
            pg.stop_immediately()
        except subprocess.CalledProcessError:
            pass  # already stopped
        shutil.rmtree(root, ignore_errors=True)


def courses(prefix: str) -> list[dict[str, Any]]:
    return [
        {
            "origin_id": f"{prefix}-{n:04d}",
            "course": {"type": "EXTERNAL", "title": f"{prefix} {n}", "course_url": f"https://e.example/{n}"},
        }
        for n in range(ITEMS)
    ]


def outcomes(store: Store) -> int:
    with store.read() as conn:
        return int(
            conn.scalar(select(func.count()).select_from(task_items).where(task_items.c.status.is_not(None)))
            or 0
        )


def assert_unavailable(response: httpx.Response, elapsed: float, what: str) -> None:
    assert elapsed < CLIENT_TIMEOUT, f"{what} took {elapsed:.1f}s"
    assert response.status_code == 503, (what, response.status_code, response.text)
    body = response.json()
    assert "Traceback" not in response.text
    if what != "/healthz":
        assert body["status"] == "error", body
        assert set(body["error"]) >= {"code", "title", "message", "log_url"}, body


def test_the_api_answers_503_while_postgres_is_down_and_every_task_completes_after(
    private_postgres: PrivatePostgres, tmp_path: Path
) -> None:
    pg = private_postgres
    store = Store(pg.url)
    migrate(store)
    box = CredentialBox(load_secret_key(Settings(secret_key=SECRET, database_url=pg.url), create=False))
    with store.write() as conn:
        key = create_key(conn, name="outage", environment="default").secret
        integration = create_integration(
            conn, box, tool="sandbox", environment="default", settings={"latency_ms": 5}
        ).id
    processes = Processes(worker_env(pg.url, SECRET, tmp_path, **FAST_WORKER), tmp_path)
    port = free_port()
    try:
        processes.serve(port)
        processes.worker()
        headers = {"Authorization": f"Bearer {key}", "X-Integration-Id": integration}
        with httpx.Client(
            base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=CLIENT_TIMEOUT
        ) as api:
            task_ids = []
            for n in range(TASKS):
                response = api.post("/v1/lms/courses/bulk", json={"items": courses(f"t{n}")})
                assert response.status_code == 200, response.text
                task_ids.append(response.json()["data"]["task_id"])
            wait_for(lambda: outcomes(store) >= 200, 60, "the worker to record outcomes", processes)
            done_before = outcomes(store)

            pg.stop_immediately()
            stopped = time.monotonic()
            answers: Counter[str] = Counter()
            while time.monotonic() - stopped < OUTAGE_SECONDS:
                for what, call in (
                    ("/healthz", lambda: api.get("/healthz")),
                    ("task status", lambda: api.get(f"/v1/lms/courses/bulk/{task_ids[0]}")),
                    ("submit", lambda: api.post("/v1/lms/courses/bulk", json={"items": courses("late")})),
                    ("list", lambda: api.get("/v1/lms/courses")),
                ):
                    sent = time.monotonic()
                    response = call()
                    assert_unavailable(response, time.monotonic() - sent, what)
                    answers[what] += 1
                time.sleep(0.2)
            processes.check_alive()  # neither the API nor the worker died with the store

            pg.start()
            wait_for(
                lambda: api.get("/healthz").status_code == 200,
                60,
                "the API to see the store again",
                processes,
            )

            views: dict[str, dict[str, Any]] = {}

            def all_completed() -> bool:
                for task_id in task_ids:
                    if task_id not in views:
                        view = api.get(f"/v1/lms/courses/bulk/{task_id}").json()["data"]
                        assert view["status"] != "FAILED", view
                        if view["status"] == "COMPLETED":
                            views[task_id] = view
                return len(views) == TASKS

            wait_for(all_completed, 120, "every task accepted before the outage to complete", processes, 0.5)
    finally:
        processes.stop_all()
    print(f"\noutcomes before the outage: {done_before}; answers during it: {dict(answers)}")
    with store.read() as conn:
        remote = {
            row.origin_id: row.remote_id
            for row in conn.execute(
                select(sandbox_courses.c.origin_id, sandbox_courses.c.remote_id).where(
                    sandbox_courses.c.integration_id == integration
                )
            )
        }
    store.dispose()
    assert len(remote) == TASKS * ITEMS
    for n, task_id in enumerate(task_ids):
        view = views[task_id]
        assert view["progress"] == {"total": ITEMS, "succeeded": ITEMS, "failed": 0, "percent": 100}
        assert sorted(r["origin_id"] for r in view["data"]) == [c["origin_id"] for c in courses(f"t{n}")]
        for result in view["data"]:
            expected = derived_id(integration, "lms_courses", remote[result["origin_id"]])
            assert result["data"]["id"] == expected, result
