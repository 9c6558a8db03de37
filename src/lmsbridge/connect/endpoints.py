"""The connection flow over HTTP: Kombo Connect's API (`/v1/connect/create-link`,
`/v1/connect/integration-by-token/{token}`, `/v1/integrations/{id}/relink`) and the page behind
a link (`/connect/{token}`), which the product may frame (EMBEDDED) or send as a MAGIC_LINK."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Body, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from lmsbridge.api.deps import PrincipalDep, public_url, store_of
from lmsbridge.api.responses import ERRORS, success
from lmsbridge.connect import service
from lmsbridge.connect.form import CREDENTIAL, SETTING, attempt_from, fields_of
from lmsbridge.connect.repository import ConnectionLink, ConnectionLinkRepository, FrameOriginRepository
from lmsbridge.connect.service import AttemptRejectedError, LinkUnusableError
from lmsbridge.connectors.registry import UnknownToolError, connector_class
from lmsbridge.errors import LmsBridgeError, NotFoundError
from lmsbridge.integrations.service import run_preflight
from lmsbridge.jobs import wake_workers
from lmsbridge.pages.rendering import render
from lmsbridge.schemas.common import Success
from lmsbridge.schemas.connect import (
    ConnectionLinkCreated,
    CreateLinkRequest,
    IntegrationByToken,
    RelinkRequest,
)

router = APIRouter(tags=["Kombo Connect"])
pages = APIRouter(include_in_schema=False)


@router.post(
    "/connect/create-link",
    summary="Create connection link",
    responses=ERRORS,
    response_model=Success[ConnectionLinkCreated],
)
def create_link(request: Request, who: PrincipalDep, body: CreateLinkRequest = Body()) -> Response:
    """A single-use link to the hosted connection page, bound to the caller's environment and
    valid for `LMSBRIDGE_CONNECT_LINK_TTL_SECONDS` (default 7 days)."""
    settings = request.app.state.settings
    with store_of(request).write() as conn:
        link = service.create_link(
            conn,
            environment_id=who.environment_id,
            end_user={
                "organization_name": body.end_user_organization_name,
                "creator_email": body.end_user_email,
                "origin_id": body.end_user_origin_id,
            },
            tool=body.integration_tool,
            link_type=body.link_type,
            language=body.language,
            ttl_seconds=settings.connect_link_ttl_seconds,
            public_url=public_url(request),
        )
    return success({"link": link})


@router.get(
    "/connect/integration-by-token/{token}",
    summary="Get integration by token",
    responses=ERRORS,
    response_model=Success[IntegrationByToken],
)
def integration_by_token(request: Request, token: str, who: PrincipalDep) -> Response:
    """The integration a connection flow created, by the activation token the flow handed to the
    product's frontend (`showKomboConnect` resolves with it)."""
    with store_of(request).read() as conn:
        return success(service.integration_by_token(conn, token, who.environment_id))


@router.post(
    "/integrations/{integration_id}/relink",
    summary="Relink integration",
    responses=ERRORS,
    response_model=Success[ConnectionLinkCreated],
)
def relink(
    request: Request, integration_id: str, who: PrincipalDep, body: RelinkRequest | None = Body(None)
) -> Response:
    """A link through which the customer enters new credentials for an existing integration."""
    body = body or RelinkRequest()
    with store_of(request).write() as conn:
        link = service.relink(
            conn,
            integration_id,
            environment_id=who.environment_id,
            link_type=body.link_type,
            language=body.language,
            ttl_seconds=request.app.state.settings.connect_link_ttl_seconds,
            public_url=public_url(request),
        )
    return success({"link": link})


# ---------------------------------------------------------------------------------------------
# The page


def _embedded(link: ConnectionLink, request: Request) -> bool:
    # Kombo's frontend library adds `sdkv` to the URL it frames.
    return link.link_type == "EMBEDDED" or "sdkv" in request.query_params


def _passthrough_query(request: Request, **extra: str) -> str:
    kept = {k: v for k, v in request.query_params.items() if k == "sdkv"}
    kept.update(extra)
    return f"?{urlencode(kept)}" if kept else ""


def _unusable(error: LmsBridgeError, origins: list[str] | None = None) -> HTMLResponse:
    return render(
        "connect_unusable.html",
        status_code=error.status_code,
        frame_ancestors=origins,
        message=error.message,
    )


def _open(request: Request, token: str) -> tuple[ConnectionLink | None, list[str], HTMLResponse | None]:
    """The link and its environment's frame origins, or the page that says why it cannot be used
    (framable like the flow itself, so an embedded flow shows it too)."""
    with store_of(request).read() as conn:
        try:
            link = service.find_link(conn, token)
        except NotFoundError as error:
            return None, [], _unusable(error)
        origins = FrameOriginRepository(conn).origins(link.environment_id)
    try:
        service.check_usable(link)
    except LinkUnusableError as error:
        return None, origins, _unusable(error, origins)
    return link, origins, None


def _page(
    request: Request,
    link: ConnectionLink,
    origins: list[str],
    *,
    tool: str | None,
    failure: AttemptRejectedError | None = None,
    entered: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    context: dict[str, Any] = {
        "link": link,
        "embedded": _embedded(link, request),
        "origins": origins,
        "organization": link.end_user.get("organization_name"),
        "relink": link.relink_integration_id is not None,
        "failure": failure,
        "entered": entered or {},
        "tool_links": [
            (cls, f"{request.url.path}{_passthrough_query(request, tool=cls.tool)}")
            for cls in service.offered_tools(link)
        ],
        "tool": None,
    }
    if tool is not None:
        cls = connector_class(tool)
        context.update(
            tool=cls,
            action=f"{request.url.path}{_passthrough_query(request, tool=tool)}",
            settings_fields=fields_of(cls.settings_model, SETTING),
            credential_fields=fields_of(cls.credentials_model, CREDENTIAL),
        )
    return render("connect.html", status_code=status_code, frame_ancestors=origins, **context)


def _chosen_tool(link: ConnectionLink, request: Request) -> str | None:
    if link.tool:
        return link.tool
    tool = request.query_params.get("tool")
    if tool is None:
        return None
    try:
        connector_class(tool)
    except UnknownToolError:
        return None
    return tool


@pages.get("/connect/{token}")
def connection_page(request: Request, token: str) -> HTMLResponse:
    link, origins, refusal = _open(request, token)
    if refusal is not None or link is None:
        return refusal or _unusable(NotFoundError("No such link."))
    return _page(request, link, origins, tool=_chosen_tool(link, request))


@pages.post("/connect/{token}")
async def connect(request: Request, token: str) -> HTMLResponse:
    link, origins, refusal = await run_in_threadpool(_open, request, token)
    if refusal is not None or link is None:
        return refusal or _unusable(NotFoundError("No such link."))
    tool = _chosen_tool(link, request)
    if tool is None:
        return _page(request, link, origins, tool=None)
    form = await request.form()
    attempt = attempt_from(form, tool, connector_class(tool).settings_model)
    return await run_in_threadpool(_attempt, request, link, origins, attempt)


def _attempt(
    request: Request, link: ConnectionLink, origins: list[str], attempt: service.Attempt
) -> HTMLResponse:
    """Validate, prove with the connector's preflight (remote calls, outside any transaction),
    then create or update the integration and use up the link."""
    tool = attempt.tool
    # What the form shows again after a failure: never the credentials, they are not shown again.
    entered = {f"{SETTING}{name}": str(value) for name, value in attempt.settings.items()}
    store = store_of(request)
    base = public_url(request)
    try:
        settings, credentials = service.validated(link, attempt)
        try:
            warnings = run_preflight(tool, settings, credentials)
        except LmsBridgeError as error:
            raise AttemptRejectedError(error.message, code=str(error.code) if error.code else None) from error
        with store.write() as conn:
            integration, activation = service.complete(
                conn,
                request.app.state.box,
                link,
                tool=tool,
                settings=settings,
                credentials=credentials,
                public_url=base,
            )
    except AttemptRejectedError as failure:
        with store.write() as conn:
            service.record_failure(conn, link, tool, failure, base)
        return _page(request, link, origins, tool=tool, failure=failure, entered=entered, status_code=400)
    except LinkUnusableError as error:
        return _unusable(error, origins)
    wake_workers()  # the first sync was queued with the integration
    return render(
        "connect_done.html",
        frame_ancestors=origins,
        embedded=_embedded(link, request),
        origins=origins,
        activation_token=activation,
        integration=integration,
        tool=connector_class(tool),
        organization=link.end_user.get("organization_name"),
        relink=link.relink_integration_id is not None,
        warnings=warnings,
    )


@pages.get("/logs/connect/{link_id}")
def link_log_page(request: Request, link_id: str) -> HTMLResponse:
    """What became of a connection link, and why its failed attempts failed (the log_url of
    `connection-flow-failed`). Reached by the link's unguessable id, as the other log pages."""
    with store_of(request).read() as conn:
        repo = ConnectionLinkRepository(conn)
        link = repo.by_id(link_id)
        if link is None:
            raise NotFoundError(f"No connection link {link_id!r} exists.")
        failures = repo.failures(link)
    return render(
        "connect_log.html", link=link, failures=failures, end_user=service.end_user_view(link.end_user)
    )
