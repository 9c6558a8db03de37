"""Request dependencies: who is calling, and which of their integrations a call is about."""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import Depends, Header, Request, Security
from fastapi.security import HTTPBearer

from lmsbridge.auth.repository import Principal
from lmsbridge.auth.service import authenticate
from lmsbridge.db import Store
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


def principal(request: Request, _: object = BearerDep) -> Principal:
    with store_of(request).read() as conn:
        who = authenticate(conn, request.headers.get("authorization"))
    _remember(request, environment_id=who.environment_id)
    return who


def integration(
    request: Request,
    _: object = BearerDep,
    x_integration_id: Annotated[
        str | None,
        Header(alias="X-Integration-Id", description="ID of the integration you want to interact with."),
    ] = None,
) -> Integration:
    """The caller's integration named by X-Integration-Id. The key and the integration are looked
    up in one transaction: this runs on every integration-scoped call."""
    with store_of(request).read() as conn:
        who = authenticate(conn, request.headers.get("authorization"))
        _remember(request, environment_id=who.environment_id)
        if not x_integration_id:
            raise InputInvalidError("The X-Integration-Id header is required for this endpoint.")
        _remember(request, integration_id=x_integration_id)
        return get_integration(conn, x_integration_id, who.environment_id)


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
