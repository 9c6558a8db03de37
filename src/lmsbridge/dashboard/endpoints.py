"""The operator dashboard: integrations, sync runs, bulk tasks, webhooks, API keys and connection
links of the signed-in key's environment. GET pages only read; every POST checks the session's
CSRF token and then redirects (or, for a secret shown once, renders it)."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from lmsbridge.api.deps import public_url, store_of
from lmsbridge.auth.repository import AuthRepository
from lmsbridge.auth.service import create_key
from lmsbridge.clock import utc_now
from lmsbridge.connect import service as connect
from lmsbridge.connect.repository import ConnectionLinkRepository, FrameOriginRepository
from lmsbridge.connectors.records import SYNC_MODELS
from lmsbridge.connectors.registry import CONNECTORS, connector_class
from lmsbridge.dashboard import sessions
from lmsbridge.dashboard.charts import Row, Segment, bar_chart
from lmsbridge.dashboard.repository import DashboardRepository, SessionRow
from lmsbridge.errors import AuthenticationInvalidError, InputInvalidError, LmsBridgeError
from lmsbridge.events.outbox import EventOutbox
from lmsbridge.integration_store.repository import Integration, IntegrationRepository, end_user_of
from lmsbridge.integrations.service import get_integration, set_enabled
from lmsbridge.jobs import wake_workers
from lmsbridge.pages.rendering import render
from lmsbridge.syncs.repository import SyncRepository
from lmsbridge.syncs.service import effective_type, next_sync_at, request_sync
from lmsbridge.tasks.repository import TaskRepository
from lmsbridge.webhooks.repository import WebhookRepository

router = APIRouter(prefix="/dashboard", include_in_schema=False)

CsrfField = Annotated[str, Form()]


def _login_redirect(request: Request) -> RedirectResponse:
    return RedirectResponse(f"/dashboard/login?next={quote(request.url.path)}", status_code=303)


def _session(request: Request) -> SessionRow | None:
    with store_of(request).read() as conn:
        return sessions.current(conn, request)


def _page(request: Request, session: SessionRow, template: str, nav: str, **context: Any) -> HTMLResponse:
    return render(
        template,
        signed_in=True,
        csrf_token=session.csrf_token,
        environment_name=session.environment_name,
        nav=nav,
        flashes=[NOTICES[done]] if (done := request.query_params.get("done")) in NOTICES else [],
        **context,
    )


def _refused(reason: str) -> HTMLResponse:
    return render("refused.html", status_code=403, reason=reason)


def _guarded(request: Request, csrf_token: str, act: Callable[[SessionRow], Response]) -> Response:
    """Run a form's action only for a signed-in session whose CSRF token the form carries."""
    session = _session(request)
    if session is None:
        return _login_redirect(request)
    if not sessions.same_token(csrf_token, session.csrf_token):
        return _refused(
            "The form did not carry this session's security token, so nothing was changed. "
            "Reload the page and try again."
        )
    return act(session)


# What a redirect after a form says; by code, so a crafted URL cannot put words on the page.
NOTICES = {
    "sync-queued": "Sync queued.",
    "sync-already-queued": "A sync is already queued or running; it was not queued twice.",
    "paused": "Paused: no syncs, tasks or actions run.",
    "resumed": "Resumed: a full sync is queued.",
    "key-revoked": "Key revoked.",
    "origin-added": "The origin may now frame the connection page.",
    "origin-removed": "The origin may no longer frame the connection page.",
}


def _back(path: str, done: str) -> RedirectResponse:
    return RedirectResponse(f"{path}?done={quote(done)}", status_code=303)


# ---------------------------------------------------------------------------------------------
# Signing in and out


@router.get("/login")
def login_page(request: Request, next: str = "/dashboard") -> HTMLResponse:
    token = secrets.token_urlsafe(24)
    response = render("login.html", csrf_token=token, next=_safe_next(next), error=None)
    sessions.set_cookie(response, sessions.LOGIN_COOKIE, token, request, max_age=3600)
    return response


def _safe_next(value: str) -> str:
    return value if value.startswith("/dashboard") and "//" not in value else "/dashboard"


@router.post("/login")
def login(
    request: Request,
    api_key: Annotated[str, Form()] = "",
    csrf_token: CsrfField = "",
    next: Annotated[str, Form()] = "/dashboard",
) -> Response:
    expected = request.cookies.get(sessions.LOGIN_COOKIE) or ""
    if not expected or not sessions.same_token(csrf_token, expected):
        return _refused(
            "The sign-in form expired or did not come from this dashboard. Reload it and try again."
        )
    try:
        with store_of(request).write() as conn:
            secret = sessions.sign_in(conn, api_key, request.app.state.settings.dashboard_session_seconds)
    except AuthenticationInvalidError:
        return render(
            "login.html",
            status_code=401,
            csrf_token=expected,
            next=_safe_next(next),
            error="This API key is unknown or revoked.",
        )
    response = RedirectResponse(_safe_next(next), status_code=303)
    ttl = int(request.app.state.settings.dashboard_session_seconds)
    sessions.set_cookie(response, sessions.COOKIE, secret, request, max_age=ttl)
    response.delete_cookie(sessions.LOGIN_COOKIE, path=sessions.PATH)
    return response


@router.post("/logout")
def logout(request: Request, csrf_token: CsrfField = "") -> Response:
    def act(_: SessionRow) -> Response:
        with store_of(request).write() as conn:
            sessions.sign_out(conn, request)
        response = RedirectResponse("/dashboard/login", status_code=303)
        response.delete_cookie(sessions.COOKIE, path=sessions.PATH)
        return response

    return _guarded(request, csrf_token, act)


# ---------------------------------------------------------------------------------------------
# Integrations


def _setup_status(first_synced: bool) -> str:
    return "COMPLETED" if first_synced else "FINAL_SYNC_PENDING"


@router.get("")
def integrations_page(request: Request) -> Response:
    session = _session(request)
    if session is None:
        return _login_redirect(request)
    settings = request.app.state.settings
    with store_of(request).read() as conn:
        found = [
            integration
            for integration, _ in IntegrationRepository(conn).list_all()
            if integration.environment_id == session.environment_id
        ]
        ids = [i.id for i in found]
        syncs = SyncRepository(conn)
        last = syncs.last_runs(ids)
        states = syncs.all_states()
        counts = DashboardRepository(conn).record_counts(ids)
    rows: list[dict[str, Any]] = []
    for integration in found:
        state = states.get(integration.id)
        supports_delta = connector_class(integration.tool).capabilities.supports_delta
        rows.append(
            {
                "integration": integration,
                "end_user": end_user_of(integration),
                "setup_status": _setup_status(bool(state and state.first_synced_at)),
                "last": last.get(integration.id),
                "next": next_sync_at(state, supports_delta, settings) if state else None,
                "records": sum(counts.get(integration.id, {}).values()),
            }
        )
    chart = bar_chart(
        "Records per integration",
        [Row(r["integration"].name, [Segment(r["records"])]) for r in rows],
    )
    return _page(request, session, "integrations.html", "Integrations", rows=rows, chart=chart)


def _mine(request: Request, session: SessionRow, integration_id: str) -> Integration | None:
    with store_of(request).read() as conn:
        try:
            return get_integration(conn, integration_id, session.environment_id)
        except LmsBridgeError:
            return None


def _not_found(request: Request, session: SessionRow, what: str) -> HTMLResponse:
    response = _page(request, session, "not_found.html", "", what=what)
    response.status_code = 404
    return response


@router.get("/integrations/{integration_id}")
def integration_page(request: Request, integration_id: str) -> Response:
    session = _session(request)
    if session is None:
        return _login_redirect(request)
    integration = _mine(request, session, integration_id)
    if integration is None:
        return _not_found(request, session, f"integration {integration_id}")
    settings = request.app.state.settings
    with store_of(request).read() as conn:
        syncs = SyncRepository(conn)
        runs = syncs.latest_runs(integration.id, limit=20)
        state = syncs.state(integration.id)
        counts = DashboardRepository(conn).record_counts([integration.id]).get(integration.id, {})
    cls = connector_class(integration.tool)
    records_chart = bar_chart(
        "Records per model",
        [
            Row(model, [Segment(counts.get(model, 0))])
            for model in SYNC_MODELS
            if cls.capabilities.reads(model)
        ],
    )
    finished = [r for r in runs if r.started_at and r.ended_at][:10]
    duration_chart = bar_chart(
        "Duration of the last syncs",
        [
            Row(
                f"{r.type.lower()} {r.started_at:%m-%d %H:%M:%S}" if r.started_at else r.id,
                [Segment(_seconds(r), "bad" if r.state != "SUCCEEDED" else "")],
                note=f"{_seconds(r):.2f} s",
            )
            for r in reversed(finished)
        ],
    )
    return _page(
        request,
        session,
        "integration.html",
        "Integrations",
        integration=integration,
        tool=cls,
        end_user=end_user_of(integration),
        runs=runs,
        seconds=_seconds,
        setup_status=_setup_status(state.first_synced_at is not None),
        next_sync=next_sync_at(state, cls.capabilities.supports_delta, settings),
        counts=counts,
        records_chart=records_chart,
        duration_chart=duration_chart,
        relink_link=None,
    )


def _seconds(run: Any) -> float:
    if run.started_at is None or run.ended_at is None:
        return 0.0
    return float((run.ended_at - run.started_at).total_seconds())


@router.post("/integrations/{integration_id}/force-sync")
def force_sync(request: Request, integration_id: str, csrf_token: CsrfField = "") -> Response:
    def act(session: SessionRow) -> Response:
        integration = _mine(request, session, integration_id)
        if integration is None:
            return _not_found(request, session, f"integration {integration_id}")
        store = store_of(request)
        with store.write() as conn:
            _, already = request_sync(
                conn, integration.id, effective_type(integration.tool, "FULL"), public_url(request)
            )
        wake_workers()
        done = "sync-already-queued" if already else "sync-queued"
        return _back(f"/dashboard/integrations/{quote(integration.id)}", done)

    return _guarded(request, csrf_token, act)


def _toggle(request: Request, integration_id: str, csrf_token: str, enabled: bool) -> Response:
    def act(session: SessionRow) -> Response:
        integration = _mine(request, session, integration_id)
        if integration is None:
            return _not_found(request, session, f"integration {integration_id}")
        store = store_of(request)
        with store.write() as conn:
            set_enabled(
                conn,
                integration.id,
                environment_id=session.environment_id,
                enabled=enabled,
                public_url=public_url(request),
            )
        wake_workers()
        return _back(f"/dashboard/integrations/{quote(integration.id)}", "resumed" if enabled else "paused")

    return _guarded(request, csrf_token, act)


@router.post("/integrations/{integration_id}/pause")
def pause(request: Request, integration_id: str, csrf_token: CsrfField = "") -> Response:
    return _toggle(request, integration_id, csrf_token, enabled=False)


@router.post("/integrations/{integration_id}/resume")
def resume(request: Request, integration_id: str, csrf_token: CsrfField = "") -> Response:
    return _toggle(request, integration_id, csrf_token, enabled=True)


@router.post("/integrations/{integration_id}/relink")
def relink(request: Request, integration_id: str, csrf_token: CsrfField = "") -> Response:
    def act(session: SessionRow) -> Response:
        with store_of(request).write() as conn:
            link = connect.relink(
                conn,
                integration_id,
                environment_id=session.environment_id,
                link_type="MAGIC_LINK",
                language="en",
                ttl_seconds=request.app.state.settings.connect_link_ttl_seconds,
                public_url=public_url(request),
            )
        return render(
            "link_created.html",
            signed_in=True,
            csrf_token=session.csrf_token,
            environment_name=session.environment_name,
            nav="Integrations",
            link=link,
            what="relink",
        )

    return _guarded(request, csrf_token, act)


# ---------------------------------------------------------------------------------------------
# Bulk tasks


def _task_seconds(task: Any) -> float | None:
    if task.completed_at is None:
        return None
    return max(float((task.completed_at - task.created_at).total_seconds()), 0.001)


@router.get("/tasks")
def tasks_page(request: Request) -> Response:
    session = _session(request)
    if session is None:
        return _login_redirect(request)
    with store_of(request).read() as conn:
        found = TaskRepository(conn).recent(session.environment_id, limit=50)
    rows: list[dict[str, Any]] = []
    for task in found:
        seconds = _task_seconds(task)
        done = task.succeeded + task.failed
        rows.append(
            {"task": task, "done": done, "seconds": seconds, "rate": done / seconds if seconds else None}
        )
    recent = [r for r in rows if r["rate"] is not None][:10]
    speed = bar_chart(
        "Items per second (recent tasks)",
        [Row(r["task"].id[:10], [Segment(r["rate"])], note=f"{r['rate']:.1f}/s") for r in recent],
    )
    failures = bar_chart(
        "Items succeeded and failed (recent tasks)",
        [
            Row(
                r["task"].id[:10],
                [Segment(r["task"].succeeded, "ok", "succeeded"), Segment(r["task"].failed, "bad", "failed")],
                note=f"{r['task'].failed} failed",
            )
            for r in rows[:10]
        ],
    )
    return _page(request, session, "tasks.html", "Tasks", rows=rows, speed=speed, failures=failures)


@router.get("/tasks/{task_id}")
def task_page(request: Request, task_id: str) -> Response:
    session = _session(request)
    if session is None:
        return _login_redirect(request)
    with store_of(request).read() as conn:
        repo = TaskRepository(conn)
        task = repo.get(task_id)
        if task is None or task.environment_id != session.environment_id:
            return _not_found(request, session, f"task {task_id}")
        failed = repo.failed_items(task_id, limit=500)
    return _page(
        request, session, "task.html", "Tasks", task=task, failed=failed, seconds=_task_seconds(task)
    )


# ---------------------------------------------------------------------------------------------
# Webhooks


@router.get("/webhooks")
def webhooks_page(request: Request) -> Response:
    session = _session(request)
    if session is None:
        return _login_redirect(request)
    with store_of(request).read() as conn:
        repo = WebhookRepository(conn)
        endpoints = repo.endpoints(session.environment_id)
        deliveries = repo.deliveries(environment_id=session.environment_id, limit=100)
        attempts = repo.attempts([d.id for d in deliveries])
        outbox = EventOutbox(conn)
        events = {d.event_id: outbox.get(d.event_id) for d in deliveries}
    per_endpoint: dict[str, dict[str, int]] = {}
    for delivery in deliveries:
        tally = per_endpoint.setdefault(delivery.url, {"delivered": 0, "failed": 0, "pending": 0})
        tally[delivery.state if delivery.state in tally else "failed"] += 1
    chart = bar_chart(
        "Delivery success (last 100 deliveries)",
        [
            Row(
                url.split("//", 1)[-1],
                [
                    Segment(t["delivered"], "ok", "delivered"),
                    Segment(t["pending"], "", "pending"),
                    Segment(t["failed"], "bad", "failed"),
                ],
                note=f"{t['delivered']}/{sum(t.values())} delivered",
            )
            for url, t in per_endpoint.items()
        ],
    )
    return _page(
        request,
        session,
        "webhooks.html",
        "Webhooks",
        endpoints=endpoints,
        deliveries=deliveries,
        attempts=attempts,
        events=events,
        chart=chart,
    )


# ---------------------------------------------------------------------------------------------
# API keys


def _keys(request: Request, session: SessionRow) -> list[Any]:
    with store_of(request).read() as conn:
        return [k for k in AuthRepository(conn).list_keys() if k.environment_id == session.environment_id]


@router.get("/keys")
def keys_page(request: Request) -> Response:
    session = _session(request)
    if session is None:
        return _login_redirect(request)
    return _page(request, session, "keys.html", "API keys", keys=_keys(request, session), new_key=None)


@router.post("/keys")
def create_key_action(
    request: Request, name: Annotated[str, Form()] = "", csrf_token: CsrfField = ""
) -> Response:
    def act(session: SessionRow) -> Response:
        label = name.strip()[:200] or "dashboard"
        with store_of(request).write() as conn:
            key = create_key(conn, name=label, environment=session.environment_name)
        return _page(
            request, session, "keys.html", "API keys", keys=_keys(request, session), new_key=key.secret
        )

    return _guarded(request, csrf_token, act)


@router.post("/keys/{key_id}/revoke")
def revoke_key(request: Request, key_id: str, csrf_token: CsrfField = "") -> Response:
    def act(session: SessionRow) -> Response:
        if key_id not in {k.id for k in _keys(request, session)}:
            return _not_found(request, session, f"API key {key_id}")
        with store_of(request).write() as conn:
            AuthRepository(conn).revoke(key_id)
        if key_id == session.key_id:  # the session's own key: signing in again needs another
            return RedirectResponse("/dashboard/login", status_code=303)
        return _back("/dashboard/keys", "key-revoked")

    return _guarded(request, csrf_token, act)


# ---------------------------------------------------------------------------------------------
# Connection links (magic links) and the origins allowed to frame the connection page


def _links_page(request: Request, session: SessionRow, **extra: Any) -> HTMLResponse:
    with store_of(request).read() as conn:
        links = ConnectionLinkRepository(conn).recent(session.environment_id)
        origins = FrameOriginRepository(conn).origins(session.environment_id)
    context: dict[str, Any] = {"new_link": None, "error": None, **extra}
    return _page(
        request,
        session,
        "links.html",
        "Connection links",
        links=links,
        origins=origins,
        now=utc_now(),
        tools=[CONNECTORS[name] for name in sorted(CONNECTORS)],
        **context,
    )


@router.get("/links")
def links_page(request: Request) -> Response:
    session = _session(request)
    if session is None:
        return _login_redirect(request)
    return _links_page(request, session)


@router.post("/links")
def create_link(
    request: Request,
    end_user_email: Annotated[str, Form()] = "",
    end_user_organization_name: Annotated[str, Form()] = "",
    end_user_origin_id: Annotated[str, Form()] = "",
    integration_tool: Annotated[str, Form()] = "",
    link_type: Annotated[str, Form()] = "MAGIC_LINK",
    csrf_token: CsrfField = "",
) -> Response:
    def act(session: SessionRow) -> Response:
        if not end_user_organization_name.strip() or "@" not in end_user_email:
            return _links_page(
                request, session, error="Give the customer's organisation and an email address."
            )
        try:
            with store_of(request).write() as conn:
                link = connect.create_link(
                    conn,
                    environment_id=session.environment_id,
                    end_user={
                        "organization_name": end_user_organization_name.strip(),
                        "creator_email": end_user_email.strip(),
                        "origin_id": end_user_origin_id.strip() or None,
                    },
                    tool=integration_tool or None,
                    link_type="EMBEDDED" if link_type == "EMBEDDED" else "MAGIC_LINK",
                    language="en",
                    ttl_seconds=request.app.state.settings.connect_link_ttl_seconds,
                    public_url=public_url(request),
                )
        except InputInvalidError as error:
            return _links_page(request, session, error=error.message)
        return _links_page(request, session, new_link=link)

    return _guarded(request, csrf_token, act)


@router.post("/links/origins")
def add_origin(request: Request, origin: Annotated[str, Form()] = "", csrf_token: CsrfField = "") -> Response:
    def act(session: SessionRow) -> Response:
        try:
            clean = connect.normalise_origin(origin)
        except InputInvalidError as error:
            return _links_page(request, session, error=error.message)
        with store_of(request).write() as conn:
            FrameOriginRepository(conn).add(session.environment_id, clean)
        return _back("/dashboard/links", "origin-added")

    return _guarded(request, csrf_token, act)


@router.post("/links/origins/remove")
def remove_origin(
    request: Request, origin: Annotated[str, Form()] = "", csrf_token: CsrfField = ""
) -> Response:
    def act(session: SessionRow) -> Response:
        with store_of(request).write() as conn:
            FrameOriginRepository(conn).remove(session.environment_id, origin)
        return _back("/dashboard/links", "origin-removed")

    return _guarded(request, csrf_token, act)
