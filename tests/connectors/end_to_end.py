"""What every connector's end-to-end test reads lmsbridge's API with: a checked success's data, a
checked refusal, every page of a list, and the next sync run to end."""

from __future__ import annotations

from typing import Any

import httpx

from lmsbridge.syncs.repository import SyncRepository, SyncRun
from tests.conftest import Server
from tests.contract import checked
from tests.waiting import wait_until

TIMEOUT = 60.0


def ok(response: httpx.Response) -> Any:
    checked(response)
    assert response.status_code == 200, response.text
    return response.json()["data"]


def refused(response: httpx.Response, code: str) -> None:
    checked(response)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == code


def listed(api: httpx.Client, path: str) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        data = ok(api.get(path, params={"page_size": 250, **({"cursor": cursor} if cursor else {})}))
        results += data["results"]
        cursor = data["next"]
        if cursor is None:
            return results


def finished_sync(server: Server, integration_id: str, after: str | None = None) -> SyncRun:
    """The newest sync run of the integration, other than `after`, once it has ended."""
    last: list[SyncRun | None] = [None]

    def ended() -> SyncRun | None:
        with server.store.read() as conn:
            runs = SyncRepository(conn).latest_runs(integration_id, 1)
        last[0] = run = runs[0] if runs else None
        if run is not None and run.id != after and run.state not in ("QUEUED", "RUNNING"):
            return run
        return None

    return wait_until(ended, timeout=TIMEOUT, message=lambda: f"no sync ended: {last[0]}")
