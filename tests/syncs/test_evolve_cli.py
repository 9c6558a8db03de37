"""`lmsbridge sandbox evolve` as an operator runs it: a `python -m lmsbridge` subprocess against the
session's store, changing a Sandbox the server then syncs."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from typing import Any

import pytest
from sqlalchemy import select

from lmsbridge.db.tables import sandbox_records
from tests.conftest import Server
from tests.syncs.helpers import stored, sync, synced_tenant

pytestmark = pytest.mark.slow

DONE = re.compile(r"(\d+) changed, (\d+) added, (\d+) removed")


def lmsbridge(server: Server, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LMSBRIDGE_")}
    env["LMSBRIDGE_DATABASE_URL"] = server.settings.database_url
    env["LMSBRIDGE_SECRET_KEY"] = str(server.settings.secret_key)
    return subprocess.run(
        [sys.executable, "-m", "lmsbridge", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def sandbox_data(server: Server, integration: str) -> dict[tuple[str, str], Any]:
    with server.store.read() as conn:
        return {
            (row.model, row.remote_id): row.data
            for row in conn.execute(
                select(sandbox_records).where(
                    sandbox_records.c.integration_id == integration, sandbox_records.c.model != "_meta"
                )
            )
        }


def test_sandbox_evolve_changes_the_sandbox_and_says_what_changed(live: Server) -> None:
    tenant = synced_tenant(live)
    before = sandbox_data(live, tenant.integration)

    result = lmsbridge(live, "sandbox", "evolve", tenant.integration, "--changes", "5")

    assert result.returncode == 0, result.stderr
    match = DONE.search(result.stdout)
    assert match, result.stdout
    changed, added, removed = map(int, match.groups())
    assert changed + added + removed == 5
    after = sandbox_data(live, tenant.integration)
    assert len(set(before) - set(after)) <= removed
    assert len(set(after) - set(before)) <= added
    assert len({key for key in set(before) & set(after) if before[key] != after[key]}) <= changed
    assert after != before

    # The next full sync brings exactly what the Sandbox now holds.
    run = sync(live, tenant)
    assert run.state == "SUCCEEDED"
    for model in {model for model, _ in after}:
        live_ids = {
            remote_id
            for remote_id, row in stored(live, model, tenant.integration).items()
            if row.remote_deleted_at is None
        }
        assert live_ids == {remote_id for m, remote_id in after if m == model}, model


def test_sandbox_evolve_of_an_unknown_integration_fails(live: Server) -> None:
    result = lmsbridge(live, "sandbox", "evolve", "sandbox:NoSuchIntegrationXXXXXXXX", "--changes", "5")

    assert result.returncode != 0
    assert "no Sandbox integration" in result.stderr
    assert "sandbox:NoSuchIntegrationXXXXXXXX" in result.stderr
