"""The emulator as an ASGI app: Moodle's REST endpoint, and the /_emulator control routes."""

from __future__ import annotations

import math
from dataclasses import asdict
from urllib.parse import parse_qsl

import anyio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from lmsbridge.testing.emulators.kit.control import DroppedResponse, proxy_error
from lmsbridge.testing.emulators.moodle.errors import MoodleError
from lmsbridge.testing.emulators.moodle.protocol import REST_PATH, SERVICE
from lmsbridge.testing.emulators.moodle.records import Call, Fault
from lmsbridge.testing.emulators.moodle.site import MoodleSite, _content_type

# ---------------------------------------------------------------------------------------------------
# The ASGI app
# ---------------------------------------------------------------------------------------------------

_HEADERS = {
    "Cache-Control": "private, must-revalidate, pre-check=0, post-check=0, max-age=0",
    "Expires": "Thu, 01 Jan 1970 00:00:00 GMT",
    "Pragma": "no-cache",
    "Accept-Ranges": "none",
    "Access-Control-Allow-Origin": "*",
}


def _proxy_error(status: int, headers: dict[str, str] | None = None) -> Response:
    response = proxy_error(status)
    response.headers.update(headers or {})
    return response


def create_app(site: MoodleSite) -> Starlette:
    """The emulator as an ASGI app: Moodle's REST endpoint, and a small control API under
    /_emulator for injecting faults while it runs as `lmsbridge emulate moodle`. The site is
    `app.state.site`; replacing it serves another site from the same server."""

    def site_of(request: Request) -> MoodleSite:
        current: MoodleSite = request.app.state.site
        return current

    async def rest(request: Request) -> Response:
        site = site_of(request)
        query = parse_qsl(request.url.query, keep_blank_values=True)
        body = await request.body()
        is_form = request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded")
        form = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True) if is_form else []
        wsfunction = dict(form).get("wsfunction") or dict(query).get("wsfunction")
        wait = site.admit(dict(form).get("wstoken") or dict(query).get("wstoken"))
        if wait is not None:
            return _proxy_error(429, {"Retry-After": str(max(1, math.ceil(wait)))})
        if site.latency_seconds > 0:
            await anyio.sleep(site.latency_seconds)
        fault = site.take_fault(wsfunction)
        if fault is not None:
            if fault.kind == "reset":
                return DroppedResponse()
            if fault.kind == "drop_after_write":
                site.serve(query, form, f"{request.url.scheme}://{request.url.netloc}")
                return DroppedResponse()
            if fault.kind in ("latency", "timeout"):
                await anyio.sleep(fault.seconds)
            if fault.kind == "http_status":
                return _proxy_error(
                    fault.status, {"Retry-After": fault.retry_after} if fault.retry_after else {}
                )
            if fault.kind == "moodle_error":
                # The class as the site's version names it (core\\exception\\... from 4.5 on).
                error = MoodleError(fault.exception, fault.errorcode, fault.message)
                fmt = (
                    "json"
                    if "json" in (dict(form).get("moodlewsrestformat"), dict(query).get("moodlewsrestformat"))
                    else "xml"
                )
                with site.lock:
                    site.calls.append(Call(wsfunction, {}, 200, error.errorcode, False))
                return Response(site.error_body(error, fmt), 200, _HEADERS, media_type=_content_type(fmt))
        wwwroot = f"{request.url.scheme}://{request.url.netloc}"
        status, content_type, text = site.serve(query, form, wwwroot)
        headers = _HEADERS if status == 200 else {}
        return Response(text, status, headers, media_type=content_type)

    async def add_fault(request: Request) -> Response:
        fault = site_of(request).add_fault(Fault(**await request.json()))
        return JSONResponse(asdict(fault))

    async def clear_faults(request: Request) -> Response:
        site_of(request).clear_faults()
        return JSONResponse({"faults": []})

    async def toggle_function(request: Request) -> Response:
        name, action = request.path_params["name"], request.path_params["action"]
        site = site_of(request)
        if action == "disable":
            site.disable_function(name)
        else:
            site.enable_function(name)
        return JSONResponse({"functions": sorted(site.services[SERVICE].functions)})

    async def rate_limit(request: Request) -> Response:
        body = await request.json()
        site_of(request).limit_rate(body.get("per_second"), body.get("burst"))
        return JSONResponse({"per_second": body.get("per_second"), "burst": body.get("burst")})

    async def completion_task(request: Request) -> Response:
        return JSONResponse({"marked": site_of(request).run_completion_task()})

    app = Starlette(
        routes=[
            Route(REST_PATH, rest, methods=["GET", "POST"]),
            Route("/_emulator/faults", add_fault, methods=["POST"]),
            Route("/_emulator/faults", clear_faults, methods=["DELETE"]),
            Route("/_emulator/functions/{name}/{action:str}", toggle_function, methods=["POST"]),
            Route("/_emulator/tasks/completion", completion_task, methods=["POST"]),
            Route("/_emulator/rate-limit", rate_limit, methods=["POST"]),  # as the kit's
        ]
    )
    app.state.site = site
    return app
