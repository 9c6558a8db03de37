"""The command line as an operator runs it: every command is a real `python -m lmsbridge`
subprocess against a real store (a fresh SQLite file per test, or the session's PostgreSQL
database wiped between tests with `--db=postgres`)."""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import stat
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import httpx
import pytest
from sqlalchemy import select, text

from lmsbridge.cli.main import cli as cli_group
from lmsbridge.config import Settings
from lmsbridge.db import Store
from lmsbridge.db.migrations import migrate
from lmsbridge.db.tables import integrations, metadata
from lmsbridge.ids import ALPHABET
from lmsbridge.integration_store.credentials import CredentialBox, load_secret_key
from tests.conftest import free_port, make_settings, wipe
from tests.contract import checked
from tests.waiting import wait_until

pytestmark = pytest.mark.slow

# The key of the session's `server` fixture: on PostgreSQL its worker shares the jobs table with
# `serve` here and may run a task of ours, so it must open our integrations' credentials.
SECRET_KEY = str(make_settings("sqlite://", Path()).secret_key)
KEY_FILE = "lmsbridge.key"
COMMAND_TIMEOUT = 60.0
SERVE_START_TIMEOUT = 30.0
TASK_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0

INTEGRATION_ID = re.compile(rf"^sandbox:[{ALPHABET}]{{24}}$")

# The three courses of the async guide (../shared/seeds/001_*.txt), as the README submits them.
GUIDE_COURSES = [
    {
        "origin_id": "cybersecurity-101",
        "course": {
            "type": "EXTERNAL",
            "title": "Introduction to Cybersecurity",
            "description": "Learn the fundamentals of cybersecurity.",
            "course_url": "https://your-platform.com/courses/cybersecurity-101",
        },
    },
    {
        "origin_id": "data-privacy-basics",
        "course": {
            "type": "EXTERNAL",
            "title": "Data Privacy Basics",
            "description": "Understand GDPR and data privacy best practices.",
            "course_url": "https://your-platform.com/courses/data-privacy-basics",
        },
    },
    {
        "origin_id": "leadership-fundamentals",
        "course": {
            "type": "EXTERNAL",
            "title": "Leadership Fundamentals",
            "description": "Core skills for new and aspiring managers.",
            "course_url": "https://your-platform.com/courses/leadership-fundamentals",
        },
    },
]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # SQLite runs both ways the secret key can come; PostgreSQL requires it in the environment.
    if "secret_mode" in metafunc.fixturenames:
        modes = ["env", "file"] if metafunc.config.getoption("--db") == "sqlite" else ["env"]
        metafunc.parametrize("secret_mode", modes)


# --- fixtures and helpers --------------------------------------------------------------------


@pytest.fixture
def store_url(db_kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """An empty store: a fresh SQLite file, or the session's PostgreSQL database, wiped."""
    if db_kind == "sqlite":
        return f"sqlite:///{tmp_path / 'lmsbridge.db'}"
    url: str = request.getfixturevalue("database_url")
    store = Store(url)
    try:
        migrate(store)
        wipe(store)
    finally:
        store.dispose()
    return url


@pytest.fixture
def empty_store_url(store_url: str, db_kind: str) -> Iterator[str]:
    """A store without a single table; on PostgreSQL migrated again afterwards, since the
    session's other fixtures migrated it once and expect it to stay so."""
    if db_kind == "sqlite":
        yield store_url
        return
    store = Store(store_url)
    try:
        metadata.drop_all(store.engine)
        with store.write() as conn:
            conn.execute(text("DROP TABLE alembic_version"))
        yield store_url
    finally:
        migrate(store)
        wipe(store)
        store.dispose()


@dataclass
class Cli:
    """Runs `python -m lmsbridge` in `cwd` with an environment that names the store."""

    env: dict[str, str]
    cwd: Path
    store_url: str

    def argv(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "lmsbridge", *args]

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.argv(*args),
            env=self.env,
            cwd=self.cwd,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT,
            check=False,
        )

    def ok(self, *args: str) -> subprocess.CompletedProcess[str]:
        result = self.run(*args)
        assert result.returncode == 0, _describe(args, result)
        return result

    def fails(self, *args: str) -> subprocess.CompletedProcess[str]:
        """The command exits non-zero with a message, not a traceback."""
        result = self.run(*args)
        assert result.returncode != 0, _describe(args, result)
        assert "Traceback" not in result.stderr, _describe(args, result)
        assert result.stderr.strip(), _describe(args, result)
        return result

    @property
    def key_file(self) -> Path:
        return self.cwd / KEY_FILE

    def box(self) -> CredentialBox:
        """The key the commands encrypt with, read as they read it."""
        settings = Settings(
            database_url=self.store_url,
            secret_key=self.env.get("LMSBRIDGE_SECRET_KEY"),
            secret_key_file=str(self.key_file),
        )
        return CredentialBox(load_secret_key(settings, create=False))


def _describe(args: tuple[str, ...] | list[str], result: subprocess.CompletedProcess[str]) -> str:
    return (
        f"`lmsbridge {' '.join(args)}` exited {result.returncode}\n"
        f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
    )


def _env(store_url: str, *, secret_key: bool) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LMSBRIDGE_")}
    env["LMSBRIDGE_DATABASE_URL"] = store_url
    env["PYTHONUNBUFFERED"] = "1"
    if secret_key:
        env["LMSBRIDGE_SECRET_KEY"] = SECRET_KEY
    return env


@pytest.fixture
def lmsbridge(store_url: str, tmp_path: Path) -> Cli:
    """The command line with LMSBRIDGE_SECRET_KEY set."""
    return Cli(_env(store_url, secret_key=True), tmp_path, store_url)


@pytest.fixture
def keyed(store_url: str, tmp_path: Path, secret_mode: str) -> Cli:
    """The command line with the secret key in the environment ("env") or, on SQLite, in a key
    file the first command that needs it generates in the working directory ("file")."""
    return Cli(_env(store_url, secret_key=secret_mode == "env"), tmp_path, store_url)


def last_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = result.stdout.splitlines()
    assert lines, f"no output on stdout; stderr:\n{result.stderr}"
    return lines[-1]


def assert_key_file(lmsbridge: Cli, secret_mode: str) -> None:
    if secret_mode == "env":
        assert not lmsbridge.key_file.exists(), "a key file was written though the key was set"
        return
    assert lmsbridge.key_file.is_file(), "no key file was generated"
    mode = stat.S_IMODE(lmsbridge.key_file.stat().st_mode)
    assert mode == 0o600, f"the key file has mode {oct(mode)}, not 0o600"


def integration_rows(store_url: str) -> list[dict[str, Any]]:
    store = Store(store_url)
    try:
        with store.read() as conn:
            return [dict(row._mapping) for row in conn.execute(select(integrations))]
    finally:
        store.dispose()


# --- migrate ---------------------------------------------------------------------------------


def test_migrate_applies_then_reports_up_to_date(empty_store_url: str, tmp_path: Path) -> None:
    lmsbridge = Cli(_env(empty_store_url, secret_key=True), tmp_path, empty_store_url)
    first = lmsbridge.ok("migrate")
    assert first.stdout.startswith("applied revisions: 0001")

    second = lmsbridge.ok("migrate")
    assert second.stdout.strip() == "the store is up to date"


# --- keys ------------------------------------------------------------------------------------


def test_keys_create_list_revoke(lmsbridge: Cli) -> None:
    created = lmsbridge.ok("keys", "create", "--name", "x")
    secret = last_line(created)
    assert re.fullmatch(rf"lmsb_[{ALPHABET}]+", secret), created.stdout
    assert secret not in created.stderr
    key_id = re.search(r"created key (\S+)", created.stderr)
    assert key_id, created.stderr
    key_id_value = key_id.group(1)

    listed = lmsbridge.ok("keys", "list")
    assert secret not in listed.stdout, "`keys list` shows a full key"
    [line] = [line for line in listed.stdout.splitlines() if line.startswith(key_id_value)]
    assert secret[:12] in line
    assert "'x'" in line
    assert "active" in line

    revoked = lmsbridge.ok("keys", "revoke", key_id_value)
    assert key_id_value in revoked.stdout

    listed = lmsbridge.ok("keys", "list")
    [line] = [line for line in listed.stdout.splitlines() if line.startswith(key_id_value)]
    assert "revoked" in line
    assert secret not in listed.stdout

    again = lmsbridge.fails("keys", "revoke", key_id_value)
    assert "no active key" in again.stderr


def test_keys_revoke_unknown_id_fails_clearly(lmsbridge: Cli) -> None:
    lmsbridge.ok("keys", "create", "--name", "other")
    result = lmsbridge.fails("keys", "revoke", "NoSuchKey")
    assert "no active key with id 'NoSuchKey'" in result.stderr


def test_keys_revoke_on_an_empty_store_fails_clearly(empty_store_url: str, tmp_path: Path) -> None:
    # `keys revoke` as the first command ever run against a store.
    lmsbridge = Cli(_env(empty_store_url, secret_key=True), tmp_path, empty_store_url)
    result = lmsbridge.fails("keys", "revoke", "NoSuchKey")
    assert "no active key with id 'NoSuchKey'" in result.stderr


# --- integrations ----------------------------------------------------------------------------


def test_integrations_create_and_list(keyed: Cli, secret_mode: str) -> None:
    created = keyed.ok(
        "integrations",
        "create",
        "--tool",
        "sandbox",
        "--name",
        "Acme",
        "--setting",
        "latency_ms=5",
        "--setting",
        "fail_origin_ids=a,b",
    )
    integration_id = last_line(created)
    assert INTEGRATION_ID.fullmatch(integration_id), created.stdout
    assert_key_file(keyed, secret_mode)

    listed = keyed.ok("integrations", "list")
    [line] = [line for line in listed.stdout.splitlines() if line.startswith(integration_id)]
    assert "'Acme'" in line
    assert "ACTIVE" in line

    [row] = integration_rows(keyed.store_url)
    assert row["id"] == integration_id
    assert row["tool"] == "sandbox"
    assert row["settings"]["latency_ms"] == 5
    assert row["settings"]["fail_origin_ids"] == ["a", "b"]
    assert keyed.box().open(row["credentials"]) == {}


def test_integrations_create_unknown_tool_names_the_tools(lmsbridge: Cli) -> None:
    result = lmsbridge.fails("integrations", "create", "--tool", "nope")
    assert "nope" in result.stderr
    assert "available:" in result.stderr and "sandbox" in result.stderr
    assert lmsbridge.ok("integrations", "list").stdout.strip() == ""


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        ("latency_ms=abc", "latency_ms"),
        ("bogus=1", "bogus"),
        ("latency_ms=-1", "latency_ms"),
        ("no-equals-sign", "KEY=VALUE"),
    ],
)
def test_integrations_create_rejects_bad_settings(lmsbridge: Cli, setting: str, expected: str) -> None:
    result = lmsbridge.fails("integrations", "create", "--tool", "sandbox", "--setting", setting)
    assert expected in result.stderr
    assert lmsbridge.ok("integrations", "list").stdout.strip() == ""


def test_integrations_create_rejects_a_bad_credentials_file(lmsbridge: Cli, tmp_path: Path) -> None:
    not_json = tmp_path / "broken.json"
    not_json.write_text("{not json")
    assert (
        "not valid JSON"
        in lmsbridge.fails(
            "integrations", "create", "--tool", "sandbox", "--credentials-file", str(not_json)
        ).stderr
    )

    a_list = tmp_path / "list.json"
    a_list.write_text("[1, 2]")
    assert (
        "JSON object"
        in lmsbridge.fails(
            "integrations", "create", "--tool", "sandbox", "--credentials-file", str(a_list)
        ).stderr
    )

    lmsbridge.fails(
        "integrations", "create", "--tool", "sandbox", "--credentials-file", str(tmp_path / "missing.json")
    )
    assert lmsbridge.ok("integrations", "list").stdout.strip() == ""


def test_credentials_file_is_stored_encrypted(
    keyed: Cli, secret_mode: str, db_kind: str, tmp_path: Path
) -> None:
    password = f"pw-{secrets.token_hex(16)}"
    token = f"tok-{secrets.token_hex(16)}"
    credentials = {"username": "api-user", "password": password, "nested": {"token": token}}
    path = tmp_path / "credentials.json"
    path.write_text(json.dumps(credentials))

    created = keyed.ok(
        "integrations", "create", "--tool", "sandbox", "--name", "Acme", "--credentials-file", str(path)
    )
    integration_id = last_line(created)
    assert INTEGRATION_ID.fullmatch(integration_id), created.stdout
    assert_key_file(keyed, secret_mode)
    assert password not in created.stdout + created.stderr

    if db_kind == "sqlite":
        db_file = tmp_path / "lmsbridge.db"
        raw = b"".join(
            p.read_bytes()
            for p in (db_file, Path(f"{db_file}-wal"), Path(f"{db_file}-journal"))
            if p.exists()
        )
        assert integration_id.encode() in raw, "the raw store does not hold the integration at all"
        for plain in (password, token):
            assert plain.encode() not in raw, "a credential is in the database file in plain text"

    [row] = integration_rows(keyed.store_url)
    assert row["id"] == integration_id
    assert password not in repr(row)
    assert token not in repr(row)
    assert keyed.box().open(row["credentials"]) == credentials


def test_generated_key_file_is_reused(store_url: str, tmp_path: Path, db_kind: str) -> None:
    if db_kind != "sqlite":
        pytest.skip("a key file is generated only on SQLite")
    lmsbridge = Cli(_env(store_url, secret_key=False), tmp_path, store_url)
    path = tmp_path / "credentials.json"
    path.write_text(json.dumps({"password": "p"}))
    lmsbridge.ok("integrations", "create", "--tool", "sandbox", "--credentials-file", str(path))
    key = lmsbridge.key_file.read_bytes()
    lmsbridge.ok("integrations", "create", "--tool", "sandbox", "--credentials-file", str(path))
    assert lmsbridge.key_file.read_bytes() == key
    box = lmsbridge.box()
    assert [box.open(row["credentials"]) for row in integration_rows(store_url)] == [
        {"password": "p"},
        {"password": "p"},
    ]


def test_postgres_requires_the_secret_key(store_url: str, tmp_path: Path, db_kind: str) -> None:
    if db_kind != "postgres":
        pytest.skip("SQLite generates a key file instead")
    lmsbridge = Cli(_env(store_url, secret_key=False), tmp_path, store_url)
    result = lmsbridge.fails("integrations", "create", "--tool", "sandbox")
    assert "LMSBRIDGE_SECRET_KEY" in result.stderr
    assert not lmsbridge.key_file.exists()
    assert integration_rows(store_url) == []


# --- serve -----------------------------------------------------------------------------------


@dataclass
class Served:
    process: subprocess.Popen[bytes]
    url: str
    stdout_path: Path
    stderr_path: Path

    @property
    def stdout(self) -> str:
        return self.stdout_path.read_text()

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text()

    def output(self) -> str:
        return f"--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}"


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Any]:
    """Starts `lmsbridge serve ...` and waits for /healthz; kills whatever is left at the end."""
    started: list[Served] = []

    def start(lmsbridge: Cli, *args: str) -> Served:
        port = free_port()
        n = len(started)
        out, err = tmp_path / f"serve{n}.out", tmp_path / f"serve{n}.err"
        with out.open("wb") as stdout, err.open("wb") as stderr:
            process = subprocess.Popen(
                lmsbridge.argv("serve", "--port", str(port), *args),
                env=lmsbridge.env,
                cwd=lmsbridge.cwd,
                stdout=stdout,
                stderr=stderr,
            )
        served = Served(process, f"http://127.0.0.1:{port}", out, err)
        started.append(served)

        def healthy() -> bool:
            exited = process.poll()
            assert exited is None, f"serve exited with {exited}\n{served.output()}"
            try:
                return httpx.get(f"{served.url}/healthz", timeout=2).status_code == 200
            except httpx.TransportError:
                return False

        wait_until(
            healthy,
            timeout=SERVE_START_TIMEOUT,
            message=lambda: f"serve did not answer /healthz\n{served.output()}",
            interval=0.1,
        )
        return served

    try:
        yield start
    finally:
        for served in started:
            if served.process.poll() is None:
                served.process.kill()
                served.process.wait(10)


def stop(served: Served, signum: int = signal.SIGTERM) -> int:
    served.process.send_signal(signum)
    try:
        return served.process.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"serve did not exit within {STOP_TIMEOUT}s of signal {signum}\n{served.output()}")


def test_serve_demo_runs_the_readme_flow(keyed: Cli, secret_mode: str, serve: Any) -> None:
    served = serve(keyed, "--demo")
    assert_key_file(keyed, secret_mode)
    key_match = re.search(r"API key \(shown once\):\s+(lmsb_\S+)", served.stdout)
    integration_match = re.search(r"Sandbox integration:\s+(sandbox:\S+)", served.stdout)
    assert key_match and integration_match, served.output()
    key, integration_id = key_match.group(1), integration_match.group(1)
    assert INTEGRATION_ID.fullmatch(integration_id)

    headers = {"Authorization": f"Bearer {key}", "X-Integration-Id": integration_id}
    with httpx.Client(base_url=served.url, headers=headers, timeout=30) as api:
        submitted = checked(api.post("/v1/lms/courses/bulk", json={"items": GUIDE_COURSES}))
        assert submitted.status_code == 200, submitted.text
        assert submitted.json()["status"] == "success"
        task_id = submitted.json()["data"]["task_id"]

        def ended() -> dict[str, Any] | None:
            polled = checked(api.get(f"/v1/lms/courses/bulk/{task_id}"))
            assert polled.status_code == 200, polled.text
            task: dict[str, Any] = polled.json()["data"]
            assert task["task_id"] == task_id
            return task if task["status"] != "PENDING" else None

        task = wait_until(ended, timeout=TASK_TIMEOUT, message="the task is still PENDING", interval=0.1)

        assert task["status"] == "COMPLETED", task
        results = task["data"]
        assert [r["origin_id"] for r in results] == [c["origin_id"] for c in GUIDE_COURSES]
        for result in results:
            assert result["status"] == "SUCCEEDED", result
            assert result["data"]["id"] == result["data"]["course_id"], result

        # Revoking the key from the command line locks it out of the running server, within the
        # time the server may remember a key it has seen (LMSBRIDGE_CALLER_CACHE_SECONDS, 1 s).
        [line] = [line for line in keyed.ok("keys", "list").stdout.splitlines() if key[:12] in line]
        assert key not in line
        keyed.ok("keys", "revoke", line.split()[0])

        def refused() -> httpx.Response | None:
            answer = checked(api.get(f"/v1/lms/courses/bulk/{task_id}"))
            return answer if answer.status_code == 401 else None

        wait_until(refused, timeout=5, message="the revoked key still works after 5 s")

    assert stop(served) == 0, served.output()
    assert "stopped" in served.stderr, f"the worker did not stop\n{served.output()}"
    assert key not in served.stderr

    # Again on the same store: no second key, and it says why.
    key_file = keyed.key_file.read_bytes() if secret_mode == "file" else None
    again = serve(keyed, "--demo")
    assert "already has API keys" in again.stdout, again.output()
    assert "lmsb_" not in again.stdout
    assert stop(again) == 0, again.output()
    keys = keyed.ok("keys", "list").stdout.splitlines()
    assert len(keys) == 1, keys
    assert [row["id"] for row in integration_rows(keyed.store_url)] == [integration_id]
    if key_file is not None:
        assert keyed.key_file.read_bytes() == key_file


def test_serve_without_demo_creates_nothing(lmsbridge: Cli, serve: Any) -> None:
    served = serve(lmsbridge, "--no-worker")
    health = httpx.get(f"{served.url}/healthz", timeout=5)
    assert health.json() == {"status": "ok"}
    assert "API key" not in served.stdout
    assert stop(served) == 0, served.output()
    assert lmsbridge.ok("keys", "list").stdout.strip() == ""
    assert lmsbridge.ok("integrations", "list").stdout.strip() == ""


def _children(pid: int) -> list[int]:
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def _running(pid: int) -> bool:
    """The process exists and is not a zombie waiting to be reaped."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _niceness(pid: int) -> int:
    """The process's nice value (the 19th field of /proc/<pid>/stat)."""
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[16])


needs_proc = pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="reads Linux /proc")


@needs_proc
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_serve_runs_its_worker_in_a_child_process_and_a_signal_stops_both(
    lmsbridge: Cli, serve: Any, signum: int
) -> None:
    key = last_line(lmsbridge.ok("keys", "create"))
    integration = last_line(lmsbridge.ok("integrations", "create", "--tool", "sandbox"))
    served = serve(lmsbridge)
    [worker] = wait_until(lambda: _children(served.process.pid), message="serve started no worker")
    command = Path(f"/proc/{worker}/cmdline").read_bytes().split(b"\0")
    assert b"worker" in command and b"--attached" in command, command
    wait_until(
        lambda: "started with" in served.stderr,
        timeout=SERVE_START_TIMEOUT,
        message=lambda: f"the worker did not start\n{served.output()}",
    )
    # The worker yields the CPU to the API: LMSBRIDGE_SERVE_WORKER_NICENESS, 10 by default.
    assert _niceness(worker) == min(19, _niceness(served.process.pid) + 10)

    headers = {"Authorization": f"Bearer {key}", "X-Integration-Id": integration}
    with httpx.Client(base_url=served.url, headers=headers, timeout=30) as api:
        task_id = checked(api.post("/v1/lms/courses/bulk", json={"items": GUIDE_COURSES})).json()["data"][
            "task_id"
        ]

        def completed() -> bool:
            polled = checked(api.get(f"/v1/lms/courses/bulk/{task_id}"))
            return bool(polled.json()["data"]["status"] == "COMPLETED")

        wait_until(completed, timeout=TASK_TIMEOUT, message="the child worker did not run the task")

    assert stop(served, signum) == 0, served.output()  # Ctrl-C too: a clean stop, not "Aborted!"
    assert "Aborted" not in served.output()
    assert not _running(worker), "the worker outlived serve"
    assert "stopped" in served.stderr, served.output()


@needs_proc
def test_the_worker_stops_when_serve_is_killed(lmsbridge: Cli, serve: Any) -> None:
    served = serve(lmsbridge)
    [worker] = wait_until(lambda: _children(served.process.pid), message="serve started no worker")
    served.process.kill()  # no chance to stop its worker: the worker sees its pipe end
    served.process.wait(10)
    wait_until(lambda: not _running(worker), timeout=STOP_TIMEOUT, message="the worker is orphaned")


def test_serve_on_postgres_without_secret_key_fails_clearly(
    store_url: str, tmp_path: Path, db_kind: str
) -> None:
    if db_kind != "postgres":
        pytest.skip("SQLite generates a key file instead")
    lmsbridge = Cli(_env(store_url, secret_key=False), tmp_path, store_url)
    argv = lmsbridge.argv("serve", "--port", str(free_port()))
    process = subprocess.Popen(
        argv, env=lmsbridge.env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        stdout, stderr = process.communicate(timeout=COMMAND_TIMEOUT)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
    assert process.returncode != 0, stdout + stderr
    assert "LMSBRIDGE_SECRET_KEY" in stderr
    assert "Traceback" not in stderr


# --- help ------------------------------------------------------------------------------------


def _command_paths(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = [prefix]
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            paths += _command_paths(command, (*prefix, name))
        else:
            paths.append((*prefix, name))
    return paths


@pytest.mark.parametrize("path", _command_paths(cli_group), ids=lambda p: " ".join(p) or "lmsbridge")
def test_every_command_has_help(path: tuple[str, ...], tmp_path: Path) -> None:
    lmsbridge = Cli(_env(f"sqlite:///{tmp_path / 'unused.db'}", secret_key=False), tmp_path, "")
    result = lmsbridge.ok(*path, "--help")
    assert result.stdout.startswith("Usage:"), result.stdout
    command: click.Command = cli_group
    for name in path:
        assert isinstance(command, click.Group)
        command = command.commands[name]
    assert command.help and command.help.strip(), f"`{' '.join(path)}` has no help text"
    assert command.help.split("\n")[0].strip()[:30] in " ".join(result.stdout.split())
    assert not (tmp_path / "unused.db").exists(), "--help touched the store"


def test_version(tmp_path: Path) -> None:
    lmsbridge = Cli(_env(f"sqlite:///{tmp_path / 'unused.db'}", secret_key=False), tmp_path, "")
    assert re.search(r"\d+\.\d+", lmsbridge.ok("--version").stdout)
