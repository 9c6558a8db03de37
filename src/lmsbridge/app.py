"""Assembles the application: the store, the routers under /v1, the interaction recorder, the
error rendering, health and static files."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources

import anyio
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from lmsbridge import __version__
from lmsbridge.actions.endpoints import router as actions_router
from lmsbridge.actions.limiter import ActionLimiter
from lmsbridge.api import docs, errors, openapi
from lmsbridge.api.access_log import AccessLog
from lmsbridge.api.body_limit import BodyLimit
from lmsbridge.api.callers import CallerCache
from lmsbridge.api.content_type import JsonByDefault
from lmsbridge.api.failures import UnexpectedFailures
from lmsbridge.api.head import HeadAsGet
from lmsbridge.api.nul_guard import NulGuard
from lmsbridge.api.ratelimit import RateLimiter
from lmsbridge.config import Settings, get_settings
from lmsbridge.connect.endpoints import pages as connect_pages
from lmsbridge.connect.endpoints import router as connect_router
from lmsbridge.dashboard.endpoints import router as dashboard_router
from lmsbridge.db import Store
from lmsbridge.db.loop_reads import LoopReads
from lmsbridge.errors import NotFoundError
from lmsbridge.integration_store.credentials import CredentialBox, load_secret_key
from lmsbridge.integrations.endpoints import router as integrations_router
from lmsbridge.logs.pages import router as log_pages
from lmsbridge.logs.recorder import InteractionRecorder
from lmsbridge.logs.repository import InteractionWriter
from lmsbridge.pages.rendering import static_router as page_files
from lmsbridge.passthrough.endpoints import router as passthrough_router
from lmsbridge.reads.endpoints import router as reads_router
from lmsbridge.syncs.endpoints import router as syncs_router
from lmsbridge.syncs.status_endpoint import router as sync_status_router
from lmsbridge.tasks.endpoints import router as tasks_router
from lmsbridge.tasks.status_polls import StatusPolls
from lmsbridge.webhooks.endpoints import router as webhooks_router


def create_app(store: Store, settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    writer = InteractionWriter(store)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # Blocking calls (the store) run in AnyIO's threads: no more at once than there are pooled
        # connections. Its default, 40, makes each request cost several times its own CPU in
        # thread switches and GIL handoffs once many clients are waiting.
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.db_pool_size
        # PostgreSQL's hot reads wait for the server on this loop, not in a thread.
        app.state.loop_reads = None if store.is_sqlite else LoopReads(store, settings.db_pool_size)
        try:
            yield
        finally:
            if app.state.loop_reads is not None:
                await app.state.loop_reads.close()
                app.state.loop_reads = None
            writer.close()

    app = FastAPI(
        title="lmsbridge",
        version=__version__,
        description="A self-hosted unified API for learning systems, wire-compatible with Kombo's "
        "Unified LMS API.",
        lifespan=lifespan,
        docs_url=None,  # api/docs.py serves /docs and /redoc from packaged files
        redoc_url=None,
        openapi_url="/openapi.json",
        # FastAPI's native OpenTelemetry looks for configured providers on every request (in the
        # process's environment): lmsbridge configures none, and the look costs a status poll
        # a tenth of its CPU.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.store = store
    app.state.settings = settings
    app.state.interactions = writer
    app.state.callers = CallerCache.lasting(settings.caller_cache_seconds)
    app.state.box = CredentialBox(load_secret_key(settings, create=True))
    app.state.action_limiter = ActionLimiter(settings.action_concurrency_limit)
    errors.install(app)
    openapi.install(app)
    docs.install(app)  # /docs and /redoc from packaged files; the bearer scheme on top of openapi.json
    for router in (
        integrations_router,
        tasks_router,
        reads_router,
        actions_router,
        syncs_router,
        connect_router,
        passthrough_router,
    ):
        app.include_router(router, prefix="/v1")
    app.include_router(connect_pages)
    app.include_router(page_files)
    app.include_router(dashboard_router)
    app.include_router(log_pages)  # /logs/*: the pages every log_url leads to
    app.include_router(sync_status_router, prefix="/v1")
    app.include_router(webhooks_router)  # /v1/webhooks (extensions)

    @app.get("/healthz", include_in_schema=False)
    def healthz(request: Request) -> Response:
        if request.app.state.store.ping():
            return JSONResponse({"status": "ok"})
        return JSONResponse({"status": "unavailable", "message": "the store is unreachable"}, status_code=503)

    @app.get("/static/tools/{name}", include_in_schema=False)
    def tool_icon(name: str) -> Response:
        if not name.endswith(".svg") or "/" in name:
            raise NotFoundError(f"No file {name!r}.")
        path = resources.files("lmsbridge") / "static" / name
        if not path.is_file():
            raise NotFoundError(f"No file {name!r}.")
        return Response(path.read_bytes(), media_type="image/svg+xml")

    # Added innermost first. A call passes: the rate limit, the recorder (interaction id, log),
    # the unexpected-failure envelope, the body limit, the JSON default, the NUL guard, the status
    # polls' short way, the app.
    app.add_middleware(StatusPolls, state=app.state)  # status polls' short way, past every check
    app.add_middleware(NulGuard)
    app.add_middleware(JsonByDefault)
    app.add_middleware(HeadAsGet)
    app.add_middleware(BodyLimit, max_body_bytes=settings.max_body_bytes)
    app.add_middleware(UnexpectedFailures)
    app.add_middleware(
        InteractionRecorder,
        writer=writer,
        log_body_bytes=settings.log_body_bytes,
        configured_public_url=settings.public_url,
    )
    # Outermost: a refused call costs no body read and no store write.
    app.add_middleware(RateLimiter, per_minute=settings.rate_limit_per_minute)
    # Outside everything, so a refused or failed call gets its line too.
    app.add_middleware(AccessLog)
    return app
