"""`lmsbridge webhooks` as an operator runs it (real subprocesses on the webhook tests' store):
`add` prints the secret once, alone on the last line, and that secret verifies what the endpoint
then receives; `list`, `deliveries`, `remove` and `callback-secret`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from lmsbridge.client.webhooks import verify_signature
from tests.webhooks.conftest import Caller, Stack, new_integration
from tests.webhooks.receiver import Receiver


def lmsbridge(stack: Stack, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "LMSBRIDGE_DATABASE_URL": stack.settings.database_url,
        "LMSBRIDGE_SECRET_KEY": str(stack.settings.secret_key),
        "LMSBRIDGE_SECRET_KEY_FILE": str(tmp_path / "unused.key"),
    }
    return subprocess.run(
        [sys.executable, "-m", "lmsbridge", "webhooks", *args],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.slow  # starts a dozen `lmsbridge` processes
def test_the_webhooks_commands(
    stack: Stack, caller: Caller, hook: tuple[Receiver, str], tmp_path: Path
) -> None:
    receiver, base = hook
    added = lmsbridge(stack, tmp_path, "add", f"{base}/cli", "--events", "sync-finished")
    assert added.returncode == 0, added.stderr
    secret = added.stdout.strip().splitlines()[-1]
    assert secret.startswith("whsec_")
    assert "shown once" in added.stderr

    listed = lmsbridge(stack, tmp_path, "list")
    assert listed.returncode == 0, listed.stderr
    [line] = listed.stdout.strip().splitlines()
    endpoint_id = line.split()[0]
    assert f"{base}/cli" in line and "events=sync-finished" in line and "active" in line
    assert secret not in listed.stdout

    new_integration(stack)
    receiver.wait_for(lambda: receiver.on("/cli"), 60, "the sync-finished event")
    [request] = receiver.on("/cli")
    assert verify_signature(secret, request.body, request.headers["x-kombo-signature"])

    receiver.wait_for(
        lambda: "delivered" in lmsbridge(stack, tmp_path, "deliveries", endpoint_id).stdout, 10, "delivered"
    )
    shown = lmsbridge(stack, tmp_path, "deliveries", endpoint_id).stdout
    assert request.event["id"] in shown and "status=200" in shown

    bad = lmsbridge(stack, tmp_path, "add", "not-a-url")
    assert bad.returncode != 0 and "absolute http(s) URL" in bad.stderr

    removed = lmsbridge(stack, tmp_path, "remove", endpoint_id)
    assert removed.returncode == 0, removed.stderr
    assert "removed" in lmsbridge(stack, tmp_path, "list").stdout
    assert lmsbridge(stack, tmp_path, "remove", endpoint_id).returncode != 0

    rotated = lmsbridge(stack, tmp_path, "callback-secret")
    assert rotated.returncode == 0, rotated.stderr
    assert rotated.stdout.strip().splitlines()[-1].startswith("whsec_")
