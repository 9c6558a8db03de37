"""The pages every log_url leads to, all the HTML the API serves: one interaction, one task with
its failed items, one sync run, one webhook delivery with its attempts.
Their ids are unguessable (about 140 random bits), so a link works as a capability, as a
shared support link should; secrets were redacted before the interaction was stored."""

from __future__ import annotations

import html
import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from lmsbridge.clock import to_wire
from lmsbridge.errors import NotFoundError
from lmsbridge.events.outbox import EventOutbox
from lmsbridge.logs.repository import InteractionRepository
from lmsbridge.syncs.repository import SyncRepository
from lmsbridge.tasks.repository import TaskRepository
from lmsbridge.webhooks.repository import WebhookRepository

router = APIRouter(include_in_schema=False)

_STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:70rem;padding:0 1rem;color:#1d2433}
h1{font-size:1.3rem} table{border-collapse:collapse;width:100%;margin:1rem 0}
td,th{border:1px solid #d8dde6;padding:.35rem .5rem;text-align:left;vertical-align:top}
th{background:#f3f5f9;width:12rem} pre{white-space:pre-wrap;word-break:break-all;margin:0}
.err{color:#b42318;font-weight:600}
"""


def page(title: str, body: str) -> HTMLResponse:
    return HTMLResponse(
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{_STYLE}</style></head><body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )


def rows(pairs: list[tuple[str, Any]]) -> str:
    cells = "".join(
        f"<tr><th>{html.escape(k)}</th><td><pre>{html.escape('' if v is None else str(v))}</pre></td></tr>"
        for k, v in pairs
    )
    return f"<table>{cells}</table>"


def _pretty(body: str | None) -> str | None:
    if not body:
        return body
    try:
        return json.dumps(json.loads(body), indent=2)
    except ValueError:
        return body


@router.get("/logs/{interaction_id}")
def interaction_page(interaction_id: str, request: Request) -> HTMLResponse:
    with request.app.state.store.read() as conn:
        row = InteractionRepository(conn).get(interaction_id)
    if row is None:
        raise NotFoundError(f"No interaction {interaction_id!r} is recorded.")
    status_class = " class='err'" if row.status_code >= 400 else ""
    summary = (
        f"<p><span{status_class}>{row.status_code}</span> {html.escape(row.method)} "
        f"{html.escape(row.path)}</p>"
    )
    return page(
        f"Interaction {row.id}",
        summary
        + rows(
            [
                ("time", to_wire(row.created_at)),
                ("duration", f"{row.duration_ms} ms"),
                ("query", row.query),
                ("environment", row.environment_id),
                ("integration", row.integration_id),
                ("error code", row.error_code),
                ("request headers", json.dumps(row.request_headers, indent=2)),
                ("request body", _pretty(row.request_body)),
                ("response body", _pretty(row.response_body)),
            ]
        ),
    )


@router.get("/logs/tasks/{task_id}")
def task_page(task_id: str, request: Request) -> HTMLResponse:
    with request.app.state.store.read() as conn:
        repo = TaskRepository(conn)
        task = repo.get(task_id)
        failed = repo.failed_items(task_id, limit=1000) if task else []
    if task is None:
        raise NotFoundError(f"No task {task_id!r} exists.")
    details = rows(
        [
            ("kind", task.kind),
            ("integration", task.integration_id),
            ("status", task.status),
            ("created", to_wire(task.created_at)),
            ("completed", to_wire(task.completed_at)),
            ("deadline", to_wire(task.deadline_at)),
            ("items", f"{task.total} ({task.succeeded} succeeded, {task.failed} failed)"),
            ("task error", f"{task.error_code}: {task.error_message}" if task.error_code else None),
        ]
    )
    items = "".join(
        f"<tr><td>{html.escape(r.origin_id)}</td><td class='err'>{html.escape(r.error_code or '')}</td>"
        f"<td>{html.escape(r.error_message or '')}</td></tr>"
        for r in failed
    )
    table = (
        f"<h2>Failed items (first {len(failed)})</h2><table><tr><th>origin_id</th><th>code</th>"
        f"<th>message</th></tr>{items}</table>"
        if failed
        else "<p>No item has failed.</p>"
    )
    return page(f"Task {task.id}", details + table)


@router.get("/logs/syncs/{sync_id}")
def sync_page(sync_id: str, request: Request) -> HTMLResponse:
    with request.app.state.store.read() as conn:
        run = SyncRepository(conn).get_run(sync_id)
    if run is None:
        raise NotFoundError(f"No sync {sync_id!r} exists.")
    return page(
        f"Sync {run.id}",
        rows(
            [
                ("integration", run.integration_id),
                ("type", run.type),
                ("state", run.state),
                ("queued", to_wire(run.created_at)),
                ("started", to_wire(run.started_at)),
                ("ended", to_wire(run.ended_at)),
                ("error", run.error),
                ("records per model", json.dumps(run.counts, indent=2)),
            ]
        )
        + f"<p>{html.escape('Counts: added, updated, unchanged, deleted.')}</p>",
    )


@router.get("/logs/webhooks/{delivery_id}")
def delivery_page(delivery_id: str, request: Request) -> HTMLResponse:
    with request.app.state.store.read() as conn:
        repo = WebhookRepository(conn)
        delivery = repo.delivery(delivery_id)
        event = EventOutbox(conn).get(delivery.event_id) if delivery else None
        attempts = repo.attempts([delivery_id])[delivery_id] if delivery else []
    if delivery is None:
        raise NotFoundError(f"No webhook delivery {delivery_id!r} exists.")
    details = rows(
        [
            ("event", f"{delivery.event_id} ({event.type if event else 'unknown'})"),
            ("endpoint", delivery.endpoint_id),
            ("url", delivery.url),
            ("state", delivery.state),
            ("attempts", delivery.attempts),
            ("next attempt", to_wire(delivery.next_attempt_at) if delivery.state == "pending" else None),
            ("created", to_wire(delivery.created_at)),
            ("delivered", to_wire(delivery.delivered_at)),
            ("payload", json.dumps(event.payload, indent=2) if event else None),
        ]
    )
    lines = "".join(
        f"<tr><td>{a.number}</td><td>{html.escape(str(to_wire(a.started_at)))}</td>"
        f"<td>{a.duration_ms} ms</td>"
        f"<td>{'' if a.status_code is None else a.status_code}</td>"
        f"<td class='err'>{html.escape(a.error or '')}</td></tr>"
        for a in attempts
    )
    table = (
        "<h2>Attempts</h2><table><tr><th>#</th><th>started</th><th>duration</th><th>status</th>"
        f"<th>error</th></tr>{lines}</table>"
        if attempts
        else "<p>No attempt has been made yet.</p>"
    )
    return page(f"Webhook delivery {delivery.id}", details + table)
