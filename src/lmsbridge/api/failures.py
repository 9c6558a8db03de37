"""Turns any exception the framework did not render into the error envelope: 503 when the store
is unreachable, otherwise a 500 without a stack trace that names the interaction to share with
the operator (the trace goes to the server's log)."""

from __future__ import annotations

import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lmsbridge.api.errors import scope_log_url, send_error
from lmsbridge.errors import LmsBridgeError, StoreUnavailableError, UnknownError

log = logging.getLogger("lmsbridge.api")


class UnexpectedFailures:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_tracked(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, send_tracked)
        except Exception as error:
            interaction_id = scope.get("state", {}).get("interaction_id")
            if isinstance(error, StoreUnavailableError):
                failure: LmsBridgeError = error
            else:
                log.exception(
                    "unexpected error in %s %s (interaction %s)",
                    scope["method"],
                    scope["path"],
                    interaction_id,
                )
                failure = UnknownError(
                    f"An unexpected error occurred. Share interaction {interaction_id} with the operator."
                    if interaction_id
                    else "An unexpected error occurred."
                )
            if not started:  # once a response has begun, nothing more can be said on it
                await send_error(send, failure, scope_log_url(scope))
