"""Cornerstone's APIs behind one object: OAuth2 client credentials at
`POST /services/api/oauth2/token` with a JSON body (`clientId`, `clientSecret`, `grantType`,
`scope`), the token reused until it expires; three paging styles (the Employee API's `pageSize` +
`nextPageToken`, the Reporting API's `Prefer: odata.maxpagesize` + `@odata.nextLink`, the
legacy APIs' `PageNumber`); errors as `{"status", "timeStamp", "error": {"message", ...}}` (or
OData's `{"error": {"code", "message"}}`) and 429 with `x-csod-*` headers [reference 2.2-2.4]."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any

import httpx

from lmsbridge.connectors.cornerstoneondemand.settings import CornerstoneSettings
from lmsbridge.connectors.errors import ConnectorError, ItemError
from lmsbridge.connectors.http.auth import OAuth2
from lmsbridge.connectors.http.client import RemoteHttpClient
from lmsbridge.connectors.http.paging import CursorPaginator, ODataPaginator, paginate
from lmsbridge.connectors.http.resolution import AUTH, DEFAULT, INPUT, NOT_FOUND, PERMISSION, Resolution
from lmsbridge.errors import ErrorCode

SERVICE = "Cornerstone OnDemand"
TOKEN_PATH = "/services/api/oauth2/token"
EMPLOYEES = "/services/api/x/users/v2/employees"
VIEWS = "/services/api/x/odata/api/views/"
LO_CREATE = "/services/api/x/lo/v1/materials"
ASSIGN = "/services/api/v1/transcripts/assign"
COMPLETE = "/services/api/v1/transcripts/complete"


def vendor_message(response: httpx.Response) -> str:
    """The message of either error envelope."""
    try:
        body = response.json()
    except ValueError:
        return ""
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return str(error.get("message") or error.get("description") or "")
    return str(error) if isinstance(error, str) else ""


def _with_message(base: Resolution) -> Any:
    def rule(response: httpx.Response) -> Resolution:
        message = vendor_message(response)
        return replace(base, message=message) if message else base

    return rule


RESOLUTION = DEFAULT.override(
    {
        400: _with_message(INPUT),
        401: replace(AUTH, message="the client id or secret, or the access token, was refused"),
        403: replace(
            PERMISSION,
            message="the OAuth application lacks a scope, or its service user a permission, this call needs "
            "(Edge > API Explorer)",
        ),
        404: _with_message(NOT_FOUND),
    }
)


class JsonClientCredentials(OAuth2):
    """Cornerstone's token request is a JSON body with camel-case names [reference 2.2]."""

    def token_request(self) -> httpx.Request:
        return httpx.Request("POST", self.token_url, json=self.grant, headers={"Accept": "application/json"})


class CornerstoneApi:
    def __init__(
        self,
        settings: CornerstoneSettings,
        client_id: str,
        client_secret: str,
        *,
        transport: httpx.BaseTransport | None = None,
        pacer: Any = None,
        pace_key: str | None = None,
    ) -> None:
        self.settings = settings
        grant = {
            "clientId": client_id,
            "clientSecret": client_secret,
            "grantType": "client_credentials",
            "scope": settings.scope,
        }
        self.auth = JsonClientCredentials(f"{settings.site_url}{TOKEN_PATH}", grant)
        self.client = RemoteHttpClient(
            settings.site_url,
            service=SERVICE,
            timeout=settings.timeout_seconds,
            retry=settings.retry_policy(),
            # Only the Reporting API reads Prefer; the other APIs ignore it.
            headers={"Accept": "application/json", "Prefer": f"odata.maxpagesize={settings.page_size}"},
            secrets=[client_secret],
            transport=transport,
            pacer=pacer,
            pace_key=pace_key,
            pace=settings.pace(),
            auth=self.auth,
        )

    def close(self) -> None:
        self.client.close()

    def employees(self) -> Iterator[Sequence[Any]]:
        """The Employee API v2: `pageSize`, then the page's opaque token, which the page names
        `nextpagetoken` (csod.dev's pagination example) and the request sends as `nextPageToken`."""
        yield from paginate(
            self.client,
            EMPLOYEES,
            CursorPaginator(
                "nextpagetoken", "nextPageToken", {"pageSize": min(self.settings.page_size, 100)}
            ),
            lambda body: (body or {}).get("data") or [],
            resolution=RESOLUTION,
        )

    def view(
        self, name: str, odata_filter: str | None = None, select: str | None = None
    ) -> Iterator[Sequence[Any]]:
        """A Reporting API view, server-paged: `Prefer: odata.maxpagesize`, then `@odata.nextLink`;
        `$filter` and `$select` as OData v4 writes them [reference 2.3]."""
        params = {k: v for k, v in (("$filter", odata_filter), ("$select", select)) if v} or None
        yield from paginate(
            self.client,
            VIEWS + name,
            ODataPaginator(),
            lambda body: (body or {}).get("value") or [],
            params=params,
            resolution=RESOLUTION,
        )

    def rows(self, name: str, odata_filter: str | None = None, select: str | None = None) -> list[Any]:
        return [row for page in self.view(name, odata_filter, select) for row in page]

    def call(self, method: str, path: str, body: Any = None) -> Any:
        response = RESOLUTION.check(self.client.request(method, path, json=body), SERVICE)
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise ConnectorError(
                f"{SERVICE} answered HTTP {response.status_code} with a body that is not JSON.",
                code=ErrorCode.REMOTE_UNKNOWN_HTTP_ERROR,
            ) from None


def odata_text(value: str) -> str:
    """A string literal in an OData filter (quotes doubled)."""
    return "'" + value.replace("'", "''") + "'"


GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def is_guid(value: str) -> bool:
    return GUID.match(value) is not None


def odata_guid(value: str) -> str:
    """A learning object id in an OData filter: an Edm.Guid literal, written bare as OData v4 and
    Cornerstone's clients write it (`lo_object_id eq {guid}` [reference 2.5])."""
    if not is_guid(value):
        raise ItemError(
            f"{value!r} is not a Cornerstone learning object id.", code=ErrorCode.REMOTE_INPUT_INVALID
        )
    return value


def any_of(column: str, ids: Sequence[str]) -> str:
    """`column eq A or column eq B ...` for learning object ids."""
    return " or ".join(f"{column} eq {odata_guid(i)}" for i in ids)
