"""`lmsbridge emulate TOOL ... --connection-file FILE` and `lmsbridge integrations create
--connection-file FILE`: the names scripts depend on, as real subprocesses against a real store."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from lmsbridge.connectors.registry import tools
from lmsbridge.db import Store
from lmsbridge.db.tables import integrations
from tests.cli.test_cli import Cli, last_line, lmsbridge, store_url  # noqa: F401 (fixtures)
from tests.conftest import free_port

pytestmark = pytest.mark.slow


def test_emulate_help_lists_every_registered_tool(lmsbridge: Cli) -> None:  # noqa: F811
    help_text = lmsbridge.ok("emulate", "--help").stdout
    for tool in tools():
        assert tool in help_text
    assert "--connection-file" in help_text and "--seed" in help_text


def test_an_unknown_tool_is_a_usage_error(lmsbridge: Cli) -> None:  # noqa: F811
    result = lmsbridge.run("emulate", "nope")
    assert result.returncode == 2 and "nope" in result.stderr


def test_the_sandbox_s_connection_file_creates_an_integration(lmsbridge: Cli, tmp_path: Path) -> None:  # noqa: F811
    connection = tmp_path / "sandbox.json"
    lmsbridge.ok("emulate", "sandbox", "--seed", "7", "--connection-file", str(connection))
    assert json.loads(connection.read_text()) == {
        "tool": "sandbox",
        "settings": {"seed": 7},
        "credentials": {},
    }
    integration_id = last_line(
        lmsbridge.ok("integrations", "create", "--connection-file", str(connection), "--name", "Acme")
    )
    assert integration_id.startswith("sandbox:")
    store = Store(lmsbridge.store_url)
    try:
        with store.read() as conn:
            row = conn.execute(select(integrations).where(integrations.c.id == integration_id)).one()
    finally:
        store.dispose()
    assert row.name == "Acme" and row.settings["seed"] == 7


def test_a_connection_file_that_contradicts_tool_is_refused(lmsbridge: Cli, tmp_path: Path) -> None:  # noqa: F811
    connection = tmp_path / "c.json"
    connection.write_text(json.dumps({"tool": "sandbox", "settings": {}, "credentials": {}}))
    result = lmsbridge.fails(
        "integrations", "create", "--tool", "moodle", "--connection-file", str(connection)
    )
    assert "contradicts" in result.stderr
    assert "--tool" in lmsbridge.fails("integrations", "create").stderr


def test_emulate_moodle_writes_a_connection_that_reaches_it(lmsbridge: Cli, tmp_path: Path) -> None:  # noqa: F811
    port = free_port()
    connection = tmp_path / "moodle.json"
    process = subprocess.Popen(
        [*lmsbridge.argv("emulate", "moodle", "--port", str(port), "--connection-file", str(connection))],
        env=lmsbridge.env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not connection.exists():
            assert time.monotonic() < deadline and process.poll() is None, "the emulator did not start"
            time.sleep(0.05)
        written = json.loads(connection.read_text())
        assert written["tool"] == "moodle" and written["settings"] == {"site_url": f"http://127.0.0.1:{port}"}
        token = written["credentials"]["token"]
        while True:
            try:
                answer = httpx.post(
                    f"{written['settings']['site_url']}/webservice/rest/server.php",
                    data={
                        "wstoken": token,
                        "wsfunction": "core_webservice_get_site_info",
                        "moodlewsrestformat": "json",
                    },
                )
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the emulator did not answer"
                time.sleep(0.1)
        assert answer.json()["username"] == "admin"
        integration_id = last_line(
            lmsbridge.ok("integrations", "create", "--connection-file", str(connection))
        )
        assert integration_id.startswith("moodle:")
    finally:
        process.terminate()
        process.wait(10)
        if process.stdout is not None:
            process.stdout.close()
