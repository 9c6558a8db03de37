"""Shared steps of the sync tests: tenants whose first sync finished, forced syncs waited for,
the store's records and the Sandbox's "remote" records side by side, a worker held still."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update

from lmsbridge.clock import utc_now
from lmsbridge.connectors.records import Record
from lmsbridge.db.tables import events, integrations, sandbox_records, sync_runs
from lmsbridge.jobs import wake_workers
from lmsbridge.records.registry import TABLES
from lmsbridge.sandbox.generator import PROVIDERS, SandboxSize
from tests.conftest import Server, Tenant, make_tenant
from tests.contract import checked
from tests.waiting import wait_until

ACTIVE = ("QUEUED", "RUNNING")
SYNC_TIMEOUT = 60.0

# Every table a sync writes, named by its model (revisions arrive inside their courses).
RECORD_MODELS = tuple(TABLES)


def expected_sizes(size: SandboxSize) -> dict[str, int]:
    """What the generator makes of a size, per table."""
    revisions = sum(size.revisions_of(i) for i in range(size.courses))
    return {
        "lms_users": size.users,
        "lms_courses": size.courses,
        "lms_course_revisions": revisions,
        "lms_course_progressions": min(size.progressions, size.users * revisions),
        "lms_skills": size.skills,
        "lms_course_providers": len(PROVIDERS),
        "hris_skills": 3,
    }


# -- sync runs -------------------------------------------------------------------------------------
def run_row(server: Server, run_id: str) -> Any:
    with server.store.read() as conn:
        return conn.execute(select(sync_runs).where(sync_runs.c.id == run_id)).one()


def runs_of(server: Server, integration: str) -> list[Any]:
    with server.store.read() as conn:
        return list(
            conn.execute(
                select(sync_runs)
                .where(sync_runs.c.integration_id == integration)
                .order_by(sync_runs.c.created_at)
            )
        )


def wait_for_run(server: Server, run_id: str, timeout: float = SYNC_TIMEOUT) -> Any:
    """Poll the run until it left QUEUED and RUNNING (bounded); returns its row."""

    def ended() -> Any:
        row = run_row(server, run_id)
        return row if row.state not in ACTIVE else None

    return wait_until(ended, timeout=timeout, message=f"sync {run_id} still active")


def wait_until_idle(server: Server, integration: str | None = None, timeout: float = SYNC_TIMEOUT) -> None:
    """Wait until no sync is queued or running (for one integration, or any)."""
    query = select(sync_runs.c.id).where(sync_runs.c.state.in_(ACTIVE))
    if integration is not None:
        query = query.where(sync_runs.c.integration_id == integration)

    def idle() -> bool:
        with server.store.read() as conn:
            return not list(conn.scalars(query))

    wait_until(idle, timeout=timeout, message="syncs still active")


def synced_tenant(server: Server, **settings: Any) -> Tenant:
    """A Sandbox tenant whose initial FULL sync has finished and succeeded."""
    tenant = make_tenant(server, **settings)
    wake_workers()
    [first] = runs_of(server, tenant.integration)
    row = wait_for_run(server, first.id)
    assert row.state == "SUCCEEDED", (row.state, row.error)
    return tenant


def request_sync(server: Server, tenant: Tenant, type_: str | None = "FULL") -> dict[str, Any]:
    """POST /v1/force-sync; returns its data after checking it against the contract."""
    body = None if type_ is None else {"type": type_}
    with server.client(tenant.key, tenant.integration) as api:
        response = checked(api.post("/v1/force-sync", json=body))
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def sync(server: Server, tenant: Tenant, type_: str = "FULL") -> Any:
    """Force a sync of `type_`, wait for it; returns its finished sync_runs row."""
    data = request_sync(server, tenant, type_)
    assert data["already_queued"] is False, data
    assert data["type"] == type_
    return wait_for_run(server, data["sync_id"])


def total(counts: dict[str, dict[str, int]], *kinds: str) -> int:
    return sum(c[kind] for c in counts.values() for kind in kinds)


@contextmanager
def worker_paused(server: Server) -> Iterator[None]:
    """The server's worker claims nothing inside the block (a job it holds already runs on), so
    whatever is queued stays QUEUED until the block ends."""
    queue = server.worker.queue
    queue.claim = lambda *args, **kwargs: None  # type: ignore[method-assign]
    try:
        yield
    finally:
        del queue.claim
        wake_workers()


class HookAfterCourses:
    """The Sandbox connector, with `hook` called once the sync has read every course page."""

    def __init__(self, inner: Any, hook: Callable[[], None]) -> None:
        self.inner = inner
        self.hook = hook

    def read(self, model: str, since: datetime | None) -> Iterator[Sequence[Record]]:
        yield from self.inner.read(model, since)
        if model == "lms_courses":
            self.hook()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


# -- the store's records ---------------------------------------------------------------------------
def stored(server: Server, model: str, integration: str) -> dict[str, Any]:
    """remote_id -> row of the store's copy of one model."""
    table = TABLES[model]
    with server.store.read() as conn:
        return {
            row.remote_id: row
            for row in conn.execute(select(table).where(table.c.integration_id == integration))
        }


def snapshot(server: Server, integration: str) -> dict[str, dict[str, tuple[Any, ...]]]:
    """Per model, id -> (remote_id, changed_at, updated_stamp, remote_deleted_at)."""
    return {
        model: {
            row.id: (row.remote_id, row.changed_at, row.updated_stamp, row.remote_deleted_at)
            for row in stored(server, model, integration).values()
        }
        for model in RECORD_MODELS
    }


def deleted_remote_ids(server: Server, model: str, integration: str) -> set[str]:
    return {
        remote_id
        for remote_id, row in stored(server, model, integration).items()
        if row.remote_deleted_at is not None
    }


# -- the Sandbox's records (the "remote" LMS) --------------------------------------------------------
def sandbox_remote_ids(server: Server, integration: str, model: str) -> set[str]:
    with server.store.read() as conn:
        return set(
            conn.scalars(
                select(sandbox_records.c.remote_id).where(
                    sandbox_records.c.integration_id == integration, sandbox_records.c.model == model
                )
            )
        )


def sandbox_remove(server: Server, integration: str, model: str, *remote_ids: str) -> None:
    """Remove records from the Sandbox, as someone deleting them in the remote LMS."""
    with server.store.write() as conn:
        result = conn.execute(
            delete(sandbox_records).where(
                sandbox_records.c.integration_id == integration,
                sandbox_records.c.model == model,
                sandbox_records.c.remote_id.in_(remote_ids),
            )
        )
    assert result.rowcount == len(remote_ids)


def sandbox_edit(server: Server, integration: str, model: str, remote_id: str, **fields: Any) -> None:
    """Change fields of one Sandbox record, as an edit in the remote LMS (its updated_at moves)."""
    where = (
        sandbox_records.c.integration_id == integration,
        sandbox_records.c.model == model,
        sandbox_records.c.remote_id == remote_id,
    )
    with server.store.write() as conn:
        data = dict(conn.scalar(select(sandbox_records.c.data).where(*where)))
        data.update(fields)
        conn.execute(update(sandbox_records).where(*where).values(data=data, updated_at=utc_now()))


def sandbox_age(server: Server, integration: str, seconds: float) -> None:
    """Pretend the Sandbox's records were last changed `seconds` ago."""
    with server.store.write() as conn:
        conn.execute(
            update(sandbox_records)
            .where(sandbox_records.c.integration_id == integration)
            .values(updated_at=utc_now() - timedelta(seconds=seconds))
        )


def set_sandbox_settings(server: Server, integration: str, **changes: Any) -> None:
    """Change the integration's Sandbox settings; the next sync's connector reads them."""
    with server.store.write() as conn:
        current = dict(conn.scalar(select(integrations.c.settings).where(integrations.c.id == integration)))
        conn.execute(
            update(integrations)
            .where(integrations.c.id == integration)
            .values(settings={**current, **changes})
        )


# -- the events outbox -------------------------------------------------------------------------------
def events_of(server: Server, integration: str, type_: str | None = None) -> list[Any]:
    query = select(events).where(events.c.integration_id == integration).order_by(events.c.created_at)
    if type_ is not None:
        query = query.where(events.c.type == type_)
    with server.store.read() as conn:
        return list(conn.execute(query))


def finished_event(server: Server, integration: str, sync_id: str) -> dict[str, Any]:
    [payload] = [
        row.payload
        for row in events_of(server, integration, "sync-finished")
        if row.payload["data"]["sync_id"] == sync_id
    ]
    return dict(payload)
