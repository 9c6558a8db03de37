"""The remote commands a new user missed, and their conventions, through real `python -m
lmsbridge` subprocesses against the session's running server: enrol, complete, deactivate,
skills upsert and list, LMSBRIDGE_INTEGRATION_ID for `sync` and for `Client()`, `tasks show`
of any kind (exit 1 when FAILED, aligned rows), plurals, one model a line, one space in a 404."""

from __future__ import annotations

import os
import subprocess
import sys
import time
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
    server: Server, tenant: Tenant, *args: str, cwd: Path | None = None, with_integration: bool = True
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LMSBRIDGE_")}
    env.update(LMSBRIDGE_URL=server.url, LMSBRIDGE_API_KEY=tenant.key)
    if with_integration:
        env["LMSBRIDGE_INTEGRATION_ID"] = tenant.integration
    return subprocess.run(
        [sys.executable, "-m", "lmsbridge", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_enrol_complete_and_deactivate_from_the_command_line(live: Server) -> None:
    tenant = synced(live, users=5, courses=3, progressions=1)
    with Client(live.url, tenant.key, tenant.integration) as client:
        [course] = client.courses.list(remote_ids=["course-2"])
    revision = course.revisions[-1].id

    enrolled = lmsbridge(live, tenant, "progressions", "enrol", "remote:user-3", revision)
    assert enrolled.returncode == 0, enrolled.stderr
    header, row = enrolled.stdout.splitlines()
    assert header.split() == [
        "id",
        "remote_id",
        "user_id",
        "course_revision_id",
        "status",
        "enrolled_at",
        "completed_at",
        "changed_at",
    ]
    progression_id = row.split()[0]
    assert "ENROLLED" in row
    assert enrolled.stderr.startswith(f"enrolled remote:user-3 in {revision}: progression {progression_id}")

    completed = lmsbridge(
        live, tenant, "progressions", "complete", progression_id, "--score", "90", "--format", "json"
    )
    assert completed.returncode == 0, completed.stderr
    assert '"status": "COMPLETED"' in completed.stdout

    deactivated = lmsbridge(live, tenant, "courses", "deactivate", course.id)
    assert deactivated.returncode == 0, deactivated.stderr
    assert "INACTIVE" in deactivated.stdout.splitlines()[1]

    refused = lmsbridge(live, tenant, "progressions", "enrol", "remote:user-4", revision)
    assert refused.returncode == 1
    [line] = refused.stderr.strip().splitlines()
    assert line.startswith("Error: 400 REMOTE.INPUT_INVALID The course 'course-2' is deactivated")


def test_skills_upsert_list_and_tasks_show_without_a_kind(live: Server, tmp_path: Path) -> None:
    tenant = make_tenant(live, fail_origin_ids="broken,also-a-broken-one")
    path = tmp_path / "skills.csv"
    path.write_text("origin_id,name,status\npython,Python,ACTIVE\nbroken,Broken,\nalso-a-broken-one,Also,\n")
    upserted = lmsbridge(live, tenant, "skills", "upsert", str(path), "--wait", cwd=tmp_path)
    assert upserted.returncode == 1, upserted.stderr
    assert upserted.stdout.strip() == (
        "3 skills in 1 task: 1 succeeded, 2 failed (written to failed-items.jsonl)"
    )
    task_id = upserted.stderr.split("task ", 1)[1].split(":", 1)[0]

    shown = lmsbridge(live, tenant, "tasks", "show", task_id)
    assert shown.returncode == 0, shown.stderr
    failed = [line for line in shown.stdout.splitlines() if line.startswith("failed")]
    assert len(failed) == 2
    # Aligned columns: each row's code starts at the same place, and so does its message.
    assert len({line.index("REMOTE.INPUT_INVALID") for line in failed}) == 1
    assert len({line.index("REMOTE.INPUT_INVALID ") + len("REMOTE.INPUT_INVALID") for line in failed}) == 1

    listed = lmsbridge(live, tenant, "skills", "list", "--format", "csv")
    assert listed.returncode == 0, listed.stderr
    assert "Python" in listed.stdout


def test_a_failed_task_exits_1_and_one_course_is_one_course(live: Server, tmp_path: Path) -> None:
    good = make_tenant(live)
    one = tmp_path / "one.jsonl"
    one.write_text('{"origin_id": "c-1", "title": "One", "course_url": "https://x.example/1"}\n')
    upserted = lmsbridge(live, good, "courses", "upsert", str(one), "--wait", cwd=tmp_path)
    assert upserted.returncode == 0, upserted.stderr
    assert upserted.stdout.strip() == "1 course in 1 task: 1 succeeded, 0 failed"

    bad = make_tenant(live, auth_invalid="true")
    submitted = lmsbridge(live, bad, "courses", "upsert", str(one), cwd=tmp_path)
    task_id = submitted.stdout.strip()
    with Client(live.url, bad.key, bad.integration) as client:
        assert client.tasks.wait(task_id, timeout=60).status == "FAILED"
    shown = lmsbridge(live, bad, "tasks", "show", task_id)
    assert shown.returncode == 1
    assert "status     FAILED" in shown.stdout
    assert "INTEGRATION.AUTHENTICATION_INVALID" in shown.stdout


def test_a_404_is_one_line_with_single_spaces(live: Server) -> None:
    tenant = make_tenant(live)
    missing = lmsbridge(live, tenant, "tasks", "show", "NoSuchTask1234567890abcd", "--kind", "courses")
    assert missing.returncode == 1
    [line] = missing.stderr.strip().splitlines()
    assert line.startswith("Error: 404 ")
    assert "  " not in line


def test_sync_takes_the_integration_from_the_environment_and_prints_a_model_a_line(live: Server) -> None:
    tenant = synced(live, users=5, courses=3, progressions=4)
    done = lmsbridge(live, tenant, "sync", "--wait")
    assert done.returncode == 0, done.stderr
    first, *models = done.stdout.splitlines()
    assert first.startswith("sync ") and first.endswith(" SUCCEEDED")
    names = [line.split()[0] for line in models]
    assert "lms_users" in names and "lms_course_progressions" in names
    for line in models:
        assert line.startswith("  ")
        assert "added=" in line and "unchanged=" in line


def test_the_client_takes_the_integration_from_the_environment(
    live: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = make_tenant(live)
    monkeypatch.setenv("LMSBRIDGE_URL", live.url)
    monkeypatch.setenv("LMSBRIDGE_API_KEY", tenant.key)
    monkeypatch.setenv("LMSBRIDGE_INTEGRATION_ID", tenant.integration)
    with Client() as client:
        assert client.integration_id == tenant.integration
        assert client.integrations.get().id == tenant.integration
        deadline = time.monotonic() + 60
        while client.integrations.get().setup_status != "COMPLETED":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert list(client.users.list(page_size=5))
