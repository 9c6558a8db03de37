"""The pages every log_url leads to: one interaction, or one task with its failed items.
Their ids are unguessable (about 140 random bits), so a link works as a capability, as a
shared support link should; secrets were redacted before the interaction was stored."""

from __future__ import annotations

import html
import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from lmsbridge.clock import to_wire
from lmsbridge.errors import NotFoundError
from lmsbridge.logs.repository import InteractionRepository
from lmsbridge.pages.rendering import render
from lmsbridge.tasks.repository import TaskRepository

router = APIRouter(include_in_schema=False)


def page(title: str, body: str) -> HTMLResponse:
    """A log page in the dashboard's look; `body` is HTML built from escaped values."""
    return render("log.html", title=title, body=Markup(body))


def rows(pairs: list[tuple[str, Any]]) -> str:
    cells = "".join(
        f"<tr><th>{html.escape(k)}</th><td><pre>{html.escape('' if v is None else str(v))}</pre></td></tr>"
        for k, v in pairs
    )
    return f"<table class='kv'>{cells}</table>"


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
