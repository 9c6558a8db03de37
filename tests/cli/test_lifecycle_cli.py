# ruff: noqa: F811 (the fixtures of test_cli.py are imported, then named as parameters)
"""`lmsbridge integrations update|deactivate|activate|delete` on a real store, and the links of a
first sync queued from the command line, which name the port `serve` listens on."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from lmsbridge.db import Store
from lmsbridge.db.tables import events, metadata
from tests.cli.test_cli import (  # noqa: F401 (fixtures)
    Cli,
    integration_rows,
    last_line,
    lmsbridge,
    serve,
    stop,
    store_url,
)


def rows_naming(url: str, integration_id: str) -> dict[str, int]:
    store = Store(url)
    try:
        with store.read() as conn:
            found = {}
            for table in metadata.sorted_tables:
                if "integration_id" in table.c:
                    count = conn.scalar(
                        select(func.count())
                        .select_from(table)
                        .where(table.c.integration_id == integration_id)
                    )
                    if count:
                        found[table.name] = count
            return found
    finally:
        store.dispose()


def test_update_pause_resume_and_delete_from_the_command_line(lmsbridge: Cli, tmp_path: Path) -> None:
    integration_id = last_line(lmsbridge.ok("integrations", "create", "--tool", "sandbox"))

    refused = lmsbridge.fails("integrations", "update", integration_id, "--setting", "auth_invalid=true")
    assert "INTEGRATION.AUTHENTICATION_INVALID" in refused.stderr
    assert "credentials" in refused.stderr
    [row] = integration_rows(lmsbridge.store_url)
    assert row["settings"]["auth_invalid"] is False  # nothing saved

    updated = lmsbridge.ok("integrations", "update", integration_id, "--setting", "users=7")
    assert "a full sync is queued" in updated.stdout
    [row] = integration_rows(lmsbridge.store_url)
    assert row["settings"]["users"] == 7
    assert row["updated_at"] is not None

    connection = tmp_path / "connection.json"
    connection.write_text(json.dumps({"settings": {"courses": 4}, "credentials": {"token": "t"}}))
    lmsbridge.ok("integrations", "update", integration_id, "--connection-file", str(connection))
    [row] = integration_rows(lmsbridge.store_url)
    assert (row["settings"]["users"], row["settings"]["courses"]) == (7, 4)
    assert lmsbridge.box().open(row["credentials"]) == {"token": "t"}
    assert "nothing to update" in lmsbridge.fails("integrations", "update", integration_id).stderr

    assert "is INACTIVE" in lmsbridge.ok("integrations", "deactivate", integration_id).stdout
    assert "INACTIVE" in lmsbridge.ok("integrations", "list").stdout
    assert "is ACTIVE" in lmsbridge.ok("integrations", "activate", integration_id).stdout

    deleted = lmsbridge.ok("integrations", "delete", integration_id, "--yes")
    assert f"deleted {integration_id}" in deleted.stdout
    assert lmsbridge.ok("integrations", "list").stdout.strip() == ""
    assert rows_naming(lmsbridge.store_url, integration_id) == {}
    for command in ("update", "deactivate", "activate", "delete"):
        extra = ["--setting", "users=1"] if command == "update" else []
        failed = lmsbridge.fails("integrations", command, integration_id, *extra)
        assert f"no integration with id {integration_id!r}" in failed.stderr


def test_the_first_syncs_links_name_the_port_serve_listens_on(
    lmsbridge: Cli, serve: Any, db_kind: str
) -> None:
    if db_kind == "postgres":
        pytest.skip("the session's own worker shares this store's jobs on PostgreSQL and may run the sync")
    integration_id = last_line(lmsbridge.ok("integrations", "create", "--tool", "sandbox"))
    served = serve(lmsbridge)
    store = Store(lmsbridge.store_url)
    try:
        deadline = time.monotonic() + 60
        while True:
            with store.read() as conn:
                finished: list[Any] = [
                    row.payload
                    for row in conn.execute(select(events).where(events.c.type == "sync-finished"))
                    if row.payload["data"]["integration_id"] == integration_id
                ]
            if finished:
                break
            assert time.monotonic() < deadline, served.output()
            time.sleep(0.1)
    finally:
        store.dispose()
    assert finished[0]["data"]["log_url"].startswith(f"{served.url}/logs/syncs/")
    assert stop(served) == 0, served.output()
