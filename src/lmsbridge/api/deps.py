"""Request dependencies: who is calling, and which of their integrations a call is about."""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

import anyio
import orjson
from fastapi import Depends, Header, Request, Security
from fastapi.security import HTTPBearer

from lmsbridge.api.callers import CallerCache
from lmsbridge.auth.repository import Principal
from lmsbridge.auth.service import key_hash_of, principal_of
from lmsbridge.db import Store, access_changes
from lmsbridge.db.driver_reads import DriverRead
from lmsbridge.db.loop_reads import LoopReads
from lmsbridge.errors import InputInvalidError
from lmsbridge.integration_store.repository import Integration, get_integration


def store_of(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def _remember(request: Request, **values: str) -> None:
    """What the interaction log records about the call."""
    request.scope.setdefault("state", {}).update(values)


# Declares the bearer scheme in /openapi.json. The header itself is read as sent, so that a missing
# or malformed one answers 401 in the contract's envelope, with a message that says what is wrong.
_API_KEY = HTTPBearer(auto_error=False, scheme_name="ApiKey", description="Authorization: Bearer <API key>")
BearerDep = Security(_API_KEY)


def callers_of(request: Request) -> CallerCache:
    callers: CallerCache = request.app.state.callers
    return callers


def _look_up_principal(store: Store, callers: CallerCache, key_hash: str) -> Principal:
    generation = access_changes.generation()  # before the read: see api/callers.py
    with store.read_one() as conn:
        who = principal_of(conn, key_hash)
    callers.principals.keep(key_hash, who, generation)
    return who


def _look_up_integration(
    store: Store, callers: CallerCache, integration_id: str, environment_id: str
) -> Integration:
    generation = access_changes.generation()
    with store.read_one() as conn:
        found = get_integration(conn, integration_id, environment_id)
    callers.integrations.keep((integration_id, environment_id), found, generation)
    return found


async def principal(request: Request, _: object = BearerDep) -> Principal:
    """The caller, from the caller cache or the store (a thread, off the event loop)."""
    key_hash = key_hash_of(request.headers.get("authorization"))
    callers = callers_of(request)
    who = callers.principals.get(key_hash)
    if who is None:
        who = await anyio.to_thread.run_sync(_look_up_principal, store_of(request), callers, key_hash)
    _remember(request, environment_id=who.environment_id)
    return who


async def integration(
    request: Request,
    who: Annotated[Principal, Depends(principal)],
    x_integration_id: Annotated[
        str | None,
        Header(alias="X-Integration-Id", description="ID of the integration you want to interact with."),
    ] = None,
) -> Integration:
    """The caller's integration named by X-Integration-Id. This runs on every integration-scoped
    call, so a remembered one (api/callers.py) costs no query and no thread."""
    if not x_integration_id:
        raise InputInvalidError("The X-Integration-Id header is required for this endpoint.")
    _remember(request, integration_id=x_integration_id)
    callers = callers_of(request)
    found = callers.integrations.get((x_integration_id, who.environment_id))
    if found is None:
        found = await anyio.to_thread.run_sync(
            _look_up_integration, store_of(request), callers, x_integration_id, who.environment_id
        )
    return found


async def store_rows(
    store: Store, read: DriverRead, loop_reads: LoopReads | None = None, **params: Any
) -> list[tuple[Any, ...]]:
    """`Store.driver_read` for a hot endpoint: on the event loop for SQLite (a local file, tens of
    microseconds, nothing to wait for: a thread would cost more than the read); for PostgreSQL,
    through the app's `LoopReads` (async, on the event loop: db/loop_reads.py), or in a thread
    when the app has none (a network round trip the event loop should not wait through)."""
    if store.is_sqlite:
        return store.driver_read(read, **params)
    if loop_reads is not None:
        return await loop_reads.rows(read, **params)
    return await anyio.to_thread.run_sync(partial(store.driver_read, read, **params))


def loop_reads_of(state: Any) -> LoopReads | None:
    """The app's PostgreSQL reads on the event loop, once its lifespan has opened them."""
    found: LoopReads | None = getattr(state, "loop_reads", None)
    return found


async def object_body(request: Request) -> None:
    """Routes whose body is optional take none, or a JSON object: not `null`, not other JSON,
    not bytes that are no JSON at all."""
    body = await request.body()
    if not body.strip():
        return
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise InputInvalidError(f"The request body is not valid JSON: {error}.") from error
    if not isinstance(value, dict):
        given = "null" if value is None else f"a JSON {type(value).__name__}"
        raise InputInvalidError(f"The request body must be a JSON object or left out, not {given}.")


ObjectBody = Depends(object_body)


def public_url(request: Request) -> str:
    state = request.scope.get("state", {})
    if "public_url" in state:
        return str(state["public_url"])
    return str(request.base_url).rstrip("/")


PrincipalDep = Annotated[Principal, Depends(principal)]
IntegrationDep = Annotated[Integration, Depends(integration)]
