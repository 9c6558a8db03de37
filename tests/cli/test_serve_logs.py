"""The log `lmsbridge serve` writes, read as an operator reads it: one access line per request
(method, path, status, duration, interaction id; no secret), remote calls at DEBUG with one INFO
summary per sync, `--log-format json`, and no false "lease lost" after jobs that succeeded. A
real server process with its worker, syncing a Moodle emulator process over loopback."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import free_port
from tests.contract import checked

pytestmark = pytest.mark.slow
TOKEN = "0123456789abcdef0123456789abcdef"


@dataclass
class Served:
    url: str
    key: str
    integration: str
    log: list[dict[str, Any]]


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LMSBRIDGE_")}
    return {**env, **extra}


def _run(cwd: Path, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "lmsbridge", *args],
        cwd=cwd,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return done.stdout.strip().splitlines()[-1]


def _wait_for(url: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while True:
        assert process.poll() is None, "the process exited"
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            assert time.monotonic() < deadline, f"{url} did not answer"
            time.sleep(0.1)


def _stop(process: subprocess.Popen[str]) -> str:
    process.send_signal(signal.SIGTERM)
    try:
        _, err = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        _, err = process.communicate()
    return err or ""


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    cwd = tmp_path_factory.mktemp("serve-logs")
    moodle_port, port = free_port(), free_port()
    emulator = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "lmsbridge",
            "emulate",
            "moodle",
            "--port",
            str(moodle_port),
            "--token",
            TOKEN,
        ],
        cwd=cwd,
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    server: subprocess.Popen[str] | None = None
    try:
        _wait_for(f"http://127.0.0.1:{moodle_port}/", emulator)
        (cwd / "moodle.json").write_text(json.dumps({"token": TOKEN}))
        integration = _run(
            cwd,
            "integrations",
            "create",
            "--tool",
            "moodle",
            "--setting",
            f"site_url=http://127.0.0.1:{moodle_port}",
            "--credentials-file",
            "moodle.json",
        )
        key = _run(cwd, "keys", "create")
        server = subprocess.Popen(
            [sys.executable, "-m", "lmsbridge", "serve", "--port", str(port), "--log-format", "json"],
            cwd=cwd,
            # A short lease: the heartbeat runs every 0.2 s, next to every job's end.
            env=_env(LMSBRIDGE_JOB_LEASE_SECONDS="0.6"),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        url = f"http://127.0.0.1:{port}"
        _wait_for(f"{url}/healthz", server)
        headers = {"Authorization": f"Bearer {key}", "X-Integration-Id": integration}
        with httpx.Client(base_url=url, headers=headers, timeout=30) as api:
            deadline = time.monotonic() + 120
            while checked(api.get(f"/v1/integrations/{integration}")).json()["data"]["setup_status"] != (
                "COMPLETED"
            ):
                assert time.monotonic() < deadline, "the Moodle sync did not finish"
                time.sleep(0.2)
            for _ in range(3):
                assert checked(api.get("/v1/check-api-key")).status_code == 200
            assert checked(api.get("/v1/lms/users")).status_code == 200
            assert api.get("/v1/no-such-route").status_code == 404
        time.sleep(1.5)  # a few heartbeats after the last job
        err = _stop(server)
        server = None
        yield Served(url, key, integration, [json.loads(line) for line in err.splitlines() if line.strip()])
    finally:
        if server is not None:
            _stop(server)
        _stop(emulator)


def test_every_log_line_is_a_json_object(served: Served) -> None:
    assert served.log
    for line in served.log:
        assert {"time", "level", "logger", "message"} <= set(line)


def test_one_access_line_per_request_with_its_interaction_and_no_secret(served: Served) -> None:
    access = [line for line in served.log if line["logger"] == "lmsbridge.access"]
    checks = [line for line in access if line["path"] == "/v1/check-api-key"]
    assert len(checks) == 3
    for line in checks:
        assert line["method"] == "GET" and line["status"] == 200
        assert isinstance(line["duration_ms"], float)
        assert len(line["interaction_id"]) == 24
        assert line["message"] == (
            f"GET /v1/check-api-key 200 {line['duration_ms']:.1f}ms interaction={line['interaction_id']}"
        )
    [missing] = [line for line in access if line["path"] == "/v1/no-such-route"]
    assert missing["status"] == 404
    text = json.dumps(served.log)
    assert served.key not in text and TOKEN not in text


def test_remote_calls_are_debug_and_each_sync_has_one_summary(served: Served) -> None:
    assert not [line for line in served.log if line["logger"].startswith(("httpx", "httpcore"))]
    summaries = [
        line
        for line in served.log
        if line["logger"] == "lmsbridge.syncs" and served.integration in line["message"]
    ]
    assert len(summaries) == 1
    [summary] = summaries
    assert "SUCCEEDED" in summary["message"]
    calls = int(summary["message"].split(" remote calls")[0].rsplit(" ", 1)[1])
    assert calls > 5


def test_no_lease_is_reported_lost_after_jobs_that_succeeded(served: Served) -> None:
    assert not [line for line in served.log if "lease lost" in line["message"]]
