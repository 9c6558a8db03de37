"""The short way through the app for the most frequent call of all, a task status poll
(`GET /v1/lms/courses/bulk/{task_id}`, `GET /v1/hris/skills/bulk/{task_id}`): a pure ASGI layer,
innermost of the middlewares (so every one of them still runs: access log, rate limit,
interaction log, body limit, NUL guard...), that answers a poll from the caller cache and one
driver read without the framework's routing, dependency solving and request objects, which cost
more than the read itself.

It answers only what it can answer exactly as the route does (tasks/endpoints.py): a caller and an
integration both remembered (api/callers.py), and a task of theirs found. Anything else (a caller
or integration to look up, a missing or malformed header, an unknown task) goes on to the route,
which answers it, errors included, as it always has. The route stays the one /openapi.json
describes."""

from __future__ import annotations

from starlette.datastructures import State
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from lmsbridge.api.callers import CallerCache
from lmsbridge.api.deps import loop_reads_of, store_rows
from lmsbridge.api.errors import render_scope
from lmsbridge.api.responses import success
from lmsbridge.auth.service import key_hash_of
from lmsbridge.db import Store
from lmsbridge.db.loop_reads import LoopReads
from lmsbridge.errors import LmsBridgeError
from lmsbridge.integration_store.repository import Integration
from lmsbridge.tasks import service
from lmsbridge.tasks.repository import STATUS_READ, status_from_rows
from lmsbridge.tasks.service import COURSES_BULK, SKILLS_BULK, TaskKind

# The status routes' paths up to their `{task_id}`, as the app mounts them (under /v1).
_ROUTES = (("/v1/lms/courses/bulk/", COURSES_BULK), ("/v1/hris/skills/bulk/", SKILLS_BULK))


async def status_answer(
    store: Store, loop_reads: LoopReads | None, integration: Integration, kind: TaskKind, task_id: str
) -> Response | None:
    """The 200 answer of a status poll, or None when the integration has no such task."""
    found = status_from_rows(await store_rows(store, STATUS_READ, loop_reads, task_id=task_id))
    if found is None or found[0].integration_id != integration.id or found[0].kind != kind.name:
        return None
    return success(service.status_view(*found))


class StatusPolls:
    def __init__(self, app: ASGIApp, *, state: State) -> None:
        self.app = app
        self.state = state  # the app's: its store and caller cache, read on each call

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET" and not scope.get("root_path"):
            path: str = scope["path"]
            for prefix, kind in _ROUTES:
                if path.startswith(prefix):
                    task_id = path[len(prefix) :]
                    if task_id and "/" not in task_id:
                        answer = await self._answer(scope, kind, task_id)
                        if answer is not None:
                            await answer(scope, receive, send)
                            return
                    break
        await self.app(scope, receive, send)

    async def _answer(self, scope: Scope, kind: TaskKind, task_id: str) -> Response | None:
        authorization = integration_id = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                if authorization is not None:
                    return None  # sent twice: the route decides which one counts
                authorization = value.decode("latin-1")
            elif name == b"x-integration-id":
                if integration_id is not None:
                    return None
                integration_id = value.decode("latin-1")
        if not authorization or not integration_id:
            return None
        try:
            key_hash = key_hash_of(authorization)
        except LmsBridgeError:
            return None
        callers: CallerCache = self.state.callers
        who = callers.principals.get(key_hash)
        if who is None:
            return None
        integration = callers.integrations.get((integration_id, who.environment_id))
        if integration is None:
            return None
        # What the route's dependencies tell the interaction log (api/deps.py `_remember`).
        scope.setdefault("state", {}).update(environment_id=who.environment_id, integration_id=integration_id)
        try:
            return await status_answer(
                self.state.store, loop_reads_of(self.state), integration, kind, task_id
            )
        except LmsBridgeError as error:  # the store unreachable: answered as the route's handler does
            return render_scope(scope, error)
