"""The everyday remote commands as a user runs them: real `python -m lmsbridge` subprocesses
against the session's running server (uvicorn and a worker on a real store), configured by
LMSBRIDGE_URL and LMSBRIDGE_API_KEY."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from lmsbridge.client import Client
from tests.client.helpers import synced
from tests.conftest import Server, Tenant, make_tenant
from tests.syncs.helpers import wait_until_idle

pytestmark = pytest.mark.slow


@pytest.fixture
def live(clean_server: Server) -> Iterator[Server]:
    yield clean_server
    wait_until_idle(clean_server)


def lmsbridge(
    server: Server, tenant: Tenant | None, *args: str, cwd: Path | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LMSBRIDGE_")}
    env["LMSBRIDGE_URL"] = server.url
    if tenant is not None:
        env["LMSBRIDGE_API_KEY"] = tenant.key
    return subprocess.run(
        [sys.executable, "-m", "lmsbridge", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_courses_upsert_of_5000_lines_in_several_tasks_writes_the_failed_items(
    live: Server, tmp_path: Path
) -> None:
    failing = ["c-17", "c-2500", "c-4999"]
    tenant = make_tenant(live, fail_origin_ids=",".join(failing))
    path = tmp_path / "courses.jsonl"
    with path.open("w") as out:
        for i in range(5000):
            line = {"origin_id": f"c-{i}", "title": f"Course {i}", "course_url": f"https://x.example/c/{i}"}
            if i % 2:
                line["duration"] = 30 + i % 60
                line["languages"] = ["en", "de"]
            out.write(json.dumps(line) + "\n")
    failed_file = tmp_path / "failed.jsonl"
    done = lmsbridge(
        live,
        tenant,
        "courses",
        "upsert",
        str(path),
        "--integration",
        tenant.integration,
        "--batch-size",
        "2000",
        "--wait",
        "--failed-file",
        str(failed_file),
    )
    assert done.returncode == 1, done.stderr  # some items failed
    assert "5000 courses in 3 tasks: 4997 succeeded, 3 failed" in done.stdout, done.stdout
    assert done.stderr.count("task ") == 3 and "items 4001 to 5000" in done.stderr
    assert "upserting courses" in done.stderr  # the progress bar
    failures = [json.loads(line) for line in failed_file.read_text().splitlines()]
    assert sorted(f["origin_id"] for f in failures) == sorted(failing)
    assert {f["code"] for f in failures} == {"REMOTE.INPUT_INVALID"}
    assert all(f["task_id"] and f["message"] and f["log_url"] for f in failures)
    with Client(live.url, tenant.key, tenant.integration) as client:
        task_ids = [
            line.split()[1].rstrip(":") for line in done.stderr.splitlines() if line.startswith("task ")
        ]
        sizes = [client.tasks.get(t).progress.total for t in task_ids]  # type: ignore[union-attr]
    assert sizes == [2000, 2000, 1000]


def test_courses_upsert_of_a_csv_without_wait_prints_the_task_ids(live: Server, tmp_path: Path) -> None:
    tenant = synced(live, courses=3)
    path = tmp_path / "courses.csv"
    path.write_text(
        "origin_id,title,course_url,description,thumbnail_url,duration,languages\n"
        'csv-1,First,https://x.example/1,"A course, with a comma",https://x.example/1.png,45,"en,fr"\n'
        "csv-2,Second,https://x.example/2,,,,\n"
    )
    done = lmsbridge(live, tenant, "courses", "upsert", str(path), "--integration", tenant.integration)
    assert done.returncode == 0, done.stderr
    [task_id] = done.stdout.split()
    shown = lmsbridge(live, tenant, "tasks", "show", task_id, "--integration", tenant.integration)
    assert shown.returncode == 0, shown.stderr
    assert task_id in shown.stdout
    with Client(live.url, tenant.key, tenant.integration) as client:
        assert client.tasks.wait(task_id, timeout=60).status == "COMPLETED"
    shown = lmsbridge(live, tenant, "tasks", "show", task_id, "--integration", tenant.integration)
    assert "COMPLETED" in shown.stdout and "100%" in shown.stdout
    as_json = lmsbridge(
        live, tenant, "tasks", "show", task_id, "--integration", tenant.integration, "--format", "json"
    )
    assert json.loads(as_json.stdout)["progress"]["succeeded"] == 2
    listed = lmsbridge(
        live, tenant, "courses", "list", "--integration", tenant.integration, "--format", "csv"
    )
    assert listed.returncode == 0, listed.stderr
    listed_rows = list(csv.DictReader(io.StringIO(listed.stdout)))
    assert len(listed_rows) == 5  # the Sandbox's 3 and our 2
    rows = {r["origin_id"]: r for r in listed_rows}
    assert rows["csv-1"]["title"] == "First" and rows["csv-2"]["title"] == "Second"
    with Client(live.url, tenant.key, tenant.integration) as client:
        [first] = [c for c in client.courses.list() if c.origin_id == "csv-1"]
    assert first.revisions[-1].description == "A course, with a comma"


def test_list_commands_in_every_format(live: Server) -> None:
    tenant = synced(live, users=260, courses=4, progressions=30)
    base = ("--integration", tenant.integration)
    as_jsonl = lmsbridge(live, tenant, "users", "list", *base, "--format", "jsonl", "--page-size", "100")
    assert as_jsonl.returncode == 0, as_jsonl.stderr
    users = [json.loads(line) for line in as_jsonl.stdout.splitlines()]
    assert len({u["id"] for u in users}) == 260
    as_json = lmsbridge(live, tenant, "users", "list", *base, "--format", "json", "--limit", "7")
    assert len(json.loads(as_json.stdout)) == 7
    table = lmsbridge(live, tenant, "users", "list", *base, "--work-email", users[0]["work_email"])
    lines = table.stdout.splitlines()
    assert lines[0].split()[:3] == ["id", "remote_id", "first_name"] and len(lines) == 2
    assert users[0]["id"] in lines[1]
    as_csv = lmsbridge(live, tenant, "progressions", "list", *base, "--format", "csv")
    assert len(list(csv.DictReader(io.StringIO(as_csv.stdout)))) == 30
    later = lmsbridge(
        live, tenant, "progressions", "list", *base, "--updated-after", "2999-01-01", "--format", "jsonl"
    )
    assert later.returncode == 0 and later.stdout == ""
    courses = lmsbridge(live, tenant, "courses", "list", *base)
    assert len(courses.stdout.splitlines()) == 5


def test_sync_waits_for_the_run_and_fails_when_the_sync_fails(live: Server) -> None:
    tenant = synced(live, users=10)
    done = lmsbridge(live, tenant, "sync", tenant.integration, "--type", "DELTA", "--wait")
    assert done.returncode == 0, done.stderr
    assert "SUCCEEDED" in done.stdout and "lms_users" in done.stdout
    queued = lmsbridge(live, tenant, "sync", tenant.integration)
    assert queued.returncode == 0 and queued.stdout.strip()
    broken = make_tenant(live, auth_invalid=True)
    failed = lmsbridge(live, broken, "sync", broken.integration, "--wait", "--timeout", "60")
    assert failed.returncode == 1
    assert "AUTHENTICATION_FAILED" in failed.stdout


def test_errors_exit_1_and_usage_errors_exit_2(live: Server, tmp_path: Path) -> None:
    tenant = make_tenant(live)
    bad_key = Tenant("lmsb_wrong", tenant.environment_id, tenant.integration)
    denied = lmsbridge(live, bad_key, "users", "list", "--integration", tenant.integration)
    assert denied.returncode == 1
    assert "PLATFORM.AUTHENTICATION_INVALID" in denied.stderr and "/logs/" in denied.stderr
    unknown = lmsbridge(live, tenant, "tasks", "show", "nope", "--integration", tenant.integration)
    assert unknown.returncode == 1 and "404" in unknown.stderr
    no_key = lmsbridge(live, None, "users", "list", "--integration", tenant.integration)
    assert no_key.returncode == 2 and "--api-key" in no_key.stderr
    path = tmp_path / "c.jsonl"
    path.write_text('{"origin_id": "a", "title": "A", "course_url": "https://x.example/a"}\n')
    too_big = lmsbridge(
        live,
        tenant,
        "courses",
        "upsert",
        str(path),
        "--integration",
        tenant.integration,
        "--batch-size",
        "20000",
    )
    assert too_big.returncode == 2
    path.write_text('{"origin_id": "a", "title": "A"}\n')
    missing = lmsbridge(live, tenant, "courses", "upsert", str(path), "--integration", tenant.integration)
    assert missing.returncode == 1 and "course_url" in missing.stderr
    unreachable = subprocess.run(
        [sys.executable, "-m", "lmsbridge", "users", "list", "--integration", "i", "--api-key", "k"],
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith("LMSBRIDGE_")},
            "LMSBRIDGE_URL": "http://127.0.0.1:9",
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert unreachable.returncode == 1 and "ConnectError" in unreachable.stderr
