"""Shared steps of the read tests: tenants whose first sync completed, syncs forced and awaited,
whole listings walked page by page, and edits of the Sandbox's records (as a living LMS changes)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import delete, select, update

from lmsbridge.clock import to_wire
from lmsbridge.db.tables import integrations, sandbox_records, sync_runs
from lmsbridge.sandbox.repository import SandboxStateRepository
from tests.conftest import Server
from tests.contract import checked
from tests.waiting import wait_until

USERS = "/v1/lms/users"
COURSES = "/v1/lms/courses"
PROGRESSIONS = "/v1/lms/course-progressions"
LMS_SKILLS = "/v1/lms/skills"
HRIS_SKILLS = "/v1/hris/skills"
READ_PATHS = (USERS, COURSES, PROGRESSIONS, LMS_SKILLS, HRIS_SKILLS)
FINISHED = ("SUCCEEDED", "PARTIALLY_FAILED", "FAILED", "AUTHENTICATION_FAILED")


def wire_now() -> str:
    """The client's clock in the wire format (truncated to the millisecond, so never late)."""
    return str(to_wire(datetime.now(UTC)))


def setup_status(api: httpx.Client, integration: str) -> str:
    response = checked(api.get(f"/v1/integrations/{integration}"))
    assert response.status_code == 200, response.text
    return str(response.json()["data"]["setup_status"])


def wait_first_sync(api: httpx.Client, integration: str, timeout: float = 60.0) -> None:
    """Poll the integration's details until its first sync completed (bounded)."""
    wait_until(
        lambda: setup_status(api, integration) == "COMPLETED",
        timeout=timeout,
        message=f"the first sync of {integration} did not finish",
    )


def wait_sync(server: Server, sync_id: str, timeout: float = 60.0) -> str:
    """Wait until a sync run has finished; returns its state."""

    def ended() -> str | None:
        with server.store.read() as conn:
            state = conn.scalar(select(sync_runs.c.state).where(sync_runs.c.id == sync_id))
        return str(state) if state in FINISHED else None

    return wait_until(ended, timeout=timeout, message=f"sync {sync_id} still active")


def request_sync(api: httpx.Client, type_: str = "FULL") -> dict[str, Any]:
    response = checked(api.post("/v1/force-sync", json={"type": type_}))
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def sync_now(server: Server, api: httpx.Client, type_: str = "FULL", timeout: float = 60.0) -> str:
    """Force a sync that starts after this call and wait for it: a run already queued or running
    may have read the Sandbox before the caller's last change, so it is awaited and another forced."""
    deadline = time.monotonic() + timeout
    while True:
        data = request_sync(api, type_)
        state = wait_sync(server, data["sync_id"], max(1.0, deadline - time.monotonic()))
        if not data["already_queued"]:
            return state
        assert time.monotonic() < deadline, "could not get a fresh sync run"


def page(api: httpx.Client, path: str, **params: Any) -> dict[str, Any]:
    """One page of a listing; asserts a 200 that keeps the contract."""
    response = checked(api.get(path, params=params))
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def walk(api: httpx.Client, path: str, page_size: int = 250, **params: Any) -> list[list[dict[str, Any]]]:
    """Every page of a listing, following `next` (bounded)."""
    pages: list[list[dict[str, Any]]] = []
    cursor: str | None = None
    for _ in range(10_000):
        data = page(api, path, page_size=page_size, **params, **({"cursor": cursor} if cursor else {}))
        pages.append(data["results"])
        cursor = data["next"]
        if cursor is None:
            return pages
    raise AssertionError(f"{path} did not end after 10,000 pages")


def every(api: httpx.Client, path: str, **params: Any) -> list[dict[str, Any]]:
    return [record for records in walk(api, path, **params) for record in records]


def ids(records: list[dict[str, Any]]) -> set[str]:
    return {r["id"] for r in records}


def remote_ids(records: list[dict[str, Any]]) -> set[str]:
    return {r["remote_id"] for r in records}


def error_of(response: httpx.Response, status: int) -> dict[str, Any]:
    checked(response)
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    return error


# -- the Sandbox as a remote LMS that changes ------------------------------------------------------------
def sandbox_get(server: Server, integration: str, model: str, remote_id: str) -> dict[str, Any]:
    data = SandboxStateRepository(server.store).get(integration, model, remote_id)
    assert data is not None, f"the Sandbox has no {model} {remote_id}"
    return data


def sandbox_edit(
    server: Server, integration: str, model: str, remote_id: str, change: Callable[[dict[str, Any]], None]
) -> dict[str, Any]:
    """Change one record of the Sandbox in place, as the remote LMS would."""
    data = sandbox_get(server, integration, model, remote_id)
    change(data)
    SandboxStateRepository(server.store).put(integration, model, remote_id, data)
    return data


def sandbox_put(server: Server, integration: str, model: str, remote_id: str, data: dict[str, Any]) -> None:
    SandboxStateRepository(server.store).put(integration, model, remote_id, data)


def sandbox_remove(server: Server, integration: str, model: str, remote_id: str) -> None:
    with server.store.write() as conn:
        result = conn.execute(
            delete(sandbox_records).where(
                sandbox_records.c.integration_id == integration,
                sandbox_records.c.model == model,
                sandbox_records.c.remote_id == remote_id,
            )
        )
    assert result.rowcount == 1, f"the Sandbox has no {model} {remote_id}"


def wait_idle(server: Server, integration: str, timeout: float = 60.0) -> None:
    """Wait until the integration has no sync queued or running."""

    def idle() -> bool:
        with server.store.read() as conn:
            active = conn.scalar(
                select(sync_runs.c.id).where(
                    sync_runs.c.integration_id == integration, sync_runs.c.state.in_(("QUEUED", "RUNNING"))
                )
            )
        return active is None

    wait_until(idle, timeout=timeout, message=f"a sync of {integration} still active")


def sync_runs_of(server: Server, integration: str) -> list[str]:
    """The states of the integration's sync runs, oldest first."""
    with server.store.read() as conn:
        return list(
            conn.scalars(
                select(sync_runs.c.state)
                .where(sync_runs.c.integration_id == integration)
                .order_by(sync_runs.c.created_at)
            )
        )


def set_settings(server: Server, integration: str, **changes: Any) -> None:
    """Change an integration's connector settings (the next sync reads them)."""
    with server.store.write() as conn:
        current = conn.scalar(select(integrations.c.settings).where(integrations.c.id == integration))
        conn.execute(
            update(integrations)
            .where(integrations.c.id == integration)
            .values(settings={**dict(current), **changes})
        )
