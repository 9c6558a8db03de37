"""What every emulator does around its vendor's handlers (`Emulator.guard`): the rate limiter
first, then an injected fault, then the handler, logging each call; and the control routes a
test or a person uses while it runs (`/_emulator/faults`, `/_emulator/calls`,
`/_emulator/rate-limit`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import anyio
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from lmsbridge.testing.emulators.kit.calls import Call, CallLog
from lmsbridge.testing.emulators.kit.faults import Fault, FaultPlan
from lmsbridge.testing.emulators.kit.limiter import RateLimiter, plain_429

Handler = Callable[[], Awaitable[Response]]


def proxy_error(status: int) -> Response:
    return Response(
        f"<html><head><title>{status}</title></head><body><h1>HTTP {status}</h1></body></html>",
        status,
        media_type="text/html",
    )


class DroppedResponse(Response):
    """Headers that promise a body, half of it, then the connection closes (an ASGI error makes
    the server drop it): what a crashing proxy or a reset connection looks like to a client."""

    def __init__(self) -> None:
        super().__init__(b"")

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"1000")]})
        await send({"type": "http.response.body", "body": b"{" * 500, "more_body": True})
        raise ConnectionResetError("the emulator drops this connection (injected fault)")


class Emulator:
    """The kit's state of one emulated remote. `vendor_error(fault)` renders an `error_body`
    fault in the vendor's shape; `throttled(wait)` its 429 (both overridable)."""

    def __init__(self, throttled: Callable[[float], Response] = plain_429) -> None:
        self.faults = FaultPlan()
        self.limiter = RateLimiter(throttled)
        self.calls = CallLog()

    def vendor_error(self, fault: Fault) -> Response:
        return Response(fault.body or "", fault.status, fault.headers, media_type=fault.content_type)

    async def guard(self, request: Request, target: str | None, caller: str, handler: Handler) -> Response:
        throttled = self.limiter.check(caller)
        if throttled is not None:
            self._log(request, target, throttled.status_code, "rate_limit")
            return throttled
        fault = self.faults.take(target)
        if fault is None:
            response = await handler()
            self._log(request, target, response.status_code, None)
            return response
        self._log(request, target, fault.status, fault.kind)
        if fault.kind in ("latency", "timeout"):
            await anyio.sleep(fault.seconds)
            if fault.kind == "latency":
                return await handler()
        if fault.kind == "reset":
            return DroppedResponse()
        if fault.kind == "drop_after_write":
            await handler()  # the remote did the work; the answer never arrives
            return DroppedResponse()
        if fault.kind == "error_body":
            return self.vendor_error(fault)
        headers = {**fault.headers, **({"Retry-After": fault.retry_after} if fault.retry_after else {})}
        if fault.body is not None:
            return Response(fault.body, fault.status, headers, media_type=fault.content_type)
        response = proxy_error(fault.status)
        response.headers.update(headers)
        return response

    def _log(self, request: Request, target: str | None, status: int, fault: str | None) -> None:
        self.calls.record(Call(request.method, request.url.path, target, status, fault))


def control_routes(emulator_of: Callable[[Request], Emulator]) -> list[Route]:
    """`emulator_of` finds the emulator serving a request (an app may swap it between tests)."""

    async def add_fault(request: Request) -> Response:
        try:
            fault = emulator_of(request).faults.add(Fault(**await request.json()))
        except (TypeError, ValueError) as error:
            return JSONResponse({"error": str(error)}, 400)
        return JSONResponse(fault.as_json())

    async def faults(request: Request) -> Response:
        plan = emulator_of(request).faults
        if request.method == "DELETE":
            plan.clear()
        return JSONResponse({"faults": [f.as_json() for f in plan.pending()]})

    async def calls(request: Request) -> Response:
        log = emulator_of(request).calls
        if request.method == "DELETE":
            log.clear()
        return JSONResponse({"calls": [c.as_json() for c in log.all()]})

    async def rate_limit(request: Request) -> Response:
        body = await request.json()
        limiter = emulator_of(request).limiter
        limiter.set(body.get("per_second"), body.get("burst"))
        return JSONResponse({"per_second": body.get("per_second"), "burst": body.get("burst")})

    return [
        Route("/_emulator/faults", add_fault, methods=["POST"]),
        Route("/_emulator/faults", faults, methods=["GET", "DELETE"]),
        Route("/_emulator/calls", calls, methods=["GET", "DELETE"]),
        Route("/_emulator/rate-limit", rate_limit, methods=["POST"]),
    ]
