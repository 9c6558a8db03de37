"""What a new user meets first, through the real `lmsbridge` command: which store a command used
(and that a list from another folder creates none), a server that is down, a busy port, the
PostgreSQL key error, the emulator's credentials file, and a help page that is not cut short."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.conftest import free_port


def lmsbridge(cwd: Path, *args: str, timeout: float = 120, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("LMSBRIDGE_")}
    return subprocess.run(
        [sys.executable, "-m", "lmsbridge", *args],
        env={**clean, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_a_list_from_a_folder_without_a_store_says_where_it_looked_and_creates_nothing(
    tmp_path: Path,
) -> None:
    for command in (["integrations", "list"], ["keys", "list"]):
        done = lmsbridge(tmp_path, *command)
        assert done.returncode == 0, done.stderr
        assert done.stdout == ""
        what = "integrations" if command[0] == "integrations" else "API keys"
        assert f"no {what} in the store at SQLite file {tmp_path.resolve() / 'lmsbridge.db'}" in done.stderr
        assert "no store exists there" in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_command_that_creates_a_store_says_so_and_every_admin_command_names_its_store(
    tmp_path: Path,
) -> None:
    store = tmp_path.resolve() / "lmsbridge.db"
    first = lmsbridge(tmp_path, "keys", "create", "--name", "first")
    assert first.returncode == 0, first.stderr
    assert f"creating a new store: SQLite file {store} does not exist yet" in first.stderr
    assert f"in the store at SQLite file {store}" in first.stderr
    assert store.exists()

    second = lmsbridge(tmp_path, "keys", "create", "--name", "second")
    assert "creating a new store" not in second.stderr
    assert f"in the store at SQLite file {store}" in second.stderr

    empty = lmsbridge(tmp_path, "integrations", "list")
    assert empty.returncode == 0
    assert empty.stderr.strip() == f"no integrations in the store at SQLite file {store}"

    created = lmsbridge(tmp_path, "integrations", "create", "--tool", "sandbox")
    assert created.returncode == 0, created.stderr
    assert f"in the store at SQLite file {store}" in created.stderr
    listed = lmsbridge(tmp_path, "integrations", "list")
    assert created.stdout.strip() in listed.stdout
    assert listed.stderr == ""

    migrated = lmsbridge(tmp_path, "migrate")
    assert migrated.stdout.strip() == "the store is up to date"
    assert migrated.stderr.strip() == f"store: SQLite file {store}"


def test_a_server_that_is_down_fails_at_once_in_one_line(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    started = time.monotonic()
    done = lmsbridge(
        tmp_path, "users", "list", "--url", url, "--api-key", "lmsb_x", "--integration", "sandbox:x"
    )
    elapsed = time.monotonic() - started
    assert done.returncode == 1
    [line] = done.stderr.strip().splitlines()
    assert line.startswith(f"Error: cannot connect to {url}")
    assert "is the server running there?" in line
    assert elapsed < 10  # no 12 s of silent retries (a Python start-up takes about 1 s here)


class _FlakyServer(BaseHTTPRequestHandler):
    """Answers 503 to the first request, then an empty page of users."""

    calls = 0

    def do_GET(self) -> None:
        type(self).calls += 1
        if type(self).calls == 1:
            body = b'{"status":"error","error":{"code":null,"title":"busy","message":"busy","log_url":null}}'
            self.send_response(503)
        else:
            body = b'{"status":"success","data":{"results":[],"next":null}}'
            self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def flaky() -> Iterator[str]:
    _FlakyServer.calls = 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FlakyServer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_the_command_line_says_what_it_is_doing_after_a_failed_try(tmp_path: Path, flaky: str) -> None:
    done = lmsbridge(
        tmp_path, "users", "list", "--url", flaky, "--api-key", "lmsb_x", "--integration", "sandbox:x"
    )
    assert done.returncode == 0, done.stderr
    assert re.fullmatch(r"lmsbridge: GET /v1/lms/users: HTTP 503; retry 1 of 5 in \d+\.\ds\n", done.stderr), (
        done.stderr
    )


def test_serve_on_a_busy_port_fails_in_one_line_before_starting_anything(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = lmsbridge(tmp_path, "serve", "--port", str(port), timeout=60)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.strip().splitlines() == [
        f"Error: port {port} on 127.0.0.1 is already in use (another lmsbridge serve?); "
        "stop it or choose another with --port"
    ]
    assert list(tmp_path.iterdir()) == []  # no store migrated, no worker started


def test_postgresql_without_a_secret_key_says_how_to_make_one(tmp_path: Path) -> None:
    done = lmsbridge(
        tmp_path,
        "integrations",
        "create",
        "--tool",
        "sandbox",
        LMSBRIDGE_DATABASE_URL="postgresql://nobody@127.0.0.1:1/nothing",
    )
    assert done.returncode == 1
    [line] = done.stderr.strip().splitlines()
    command = line.split("Make one with: ", 1)[1]
    made = subprocess.run(
        ["bash", "-c", f'{command} && printf %s "$LMSBRIDGE_SECRET_KEY"'],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert len(made.stdout) >= 40 and made.stdout.isascii()


def test_the_emulator_writes_nothing_in_the_working_tree_unless_asked(tmp_path: Path) -> None:
    """Without --connection-file the emulator prints its connection and leaves the folder alone."""
    port = free_port()
    clean = {k: v for k, v in os.environ.items() if not k.startswith("LMSBRIDGE_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "lmsbridge", "emulate", "moodle", "--port", str(port)],
        env=clean,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        lines: list[str] = []
        deadline = time.monotonic() + 60
        while not any(line.startswith("Inject faults") for line in lines):
            assert time.monotonic() < deadline, lines
            lines.append(process.stdout.readline())
    finally:
        process.terminate()
        process.wait(timeout=30)
        if process.stdout is not None:
            process.stdout.close()
    assert any(line.strip().startswith("token: ") for line in lines), lines
    assert not any(">" in line and line.strip().startswith("echo ") for line in lines), lines
    assert list(tmp_path.iterdir()) == []


def test_the_top_level_help_is_not_cut_short(tmp_path: Path) -> None:
    done = lmsbridge(tmp_path, "--help")
    assert done.returncode == 0
    commands = done.stdout.split("Commands:", 1)[1]
    assert "..." not in commands
    flat = " ".join(commands.split())
    assert "Run an emulator of a remote LMS, to try a connector without an account anywhere." in flat
    for command in ("skills", "progressions", "courses", "sync", "tasks"):
        assert re.search(rf"^  {command}\s", done.stdout, re.MULTILINE), command
