"""Passthrough requests: the caller's path joined to one of the connector's declared base URLs,
refused when it would leave that base (another host, another scheme, `..` above the base path),
and the remote's answer relayed with secrets redacted. Shared by every connector."""

from __future__ import annotations

import base64
import posixpath
from urllib.parse import urlencode, urlsplit, urlunsplit

import httpx
import orjson

from lmsbridge.connectors.base import PassthroughRequest, PassthroughResponse
from lmsbridge.connectors.errors import ConnectorError
from lmsbridge.connectors.http import Redactor
from lmsbridge.errors import ErrorCode

# The caller may not choose these: the connector sets authentication and the target host.
_OWN_HEADERS = {"host", "authorization", "cookie", "content-length", "proxy-authorization"}


class PassthroughRefusedError(ConnectorError):
    """The request would leave the integration's own remote, or names no declared API."""

    code = ErrorCode.INPUT_INVALID


def target_url(base: str, path: str, params: dict[str, str] | None = None) -> str:
    """`base` + `path` (+ query), provided the result stays on the base's scheme, host and port
    and under its path."""
    if "\\" in path or any(ord(c) < 0x20 for c in path):
        raise PassthroughRefusedError("path: control characters and backslashes are refused.")
    given = urlsplit(path)
    if given.scheme or given.netloc or path.startswith("//"):
        raise PassthroughRefusedError(
            f"path: {path!r} names a host; passthrough requests go only to the integration's own "
            f"remote ({base}), so give a path relative to it."
        )
    root = urlsplit(base)
    base_path = root.path.rstrip("/")
    joined = posixpath.normpath(f"{base_path}/{given.path.lstrip('/')}") if given.path else base_path
    if given.path.endswith("/") and not joined.endswith("/"):
        joined += "/"
    if joined != base_path and not joined.startswith(base_path + "/"):
        raise PassthroughRefusedError(f"path: {path!r} leaves the API's base path {base_path or '/'}.")
    query = "&".join(part for part in (given.query, urlencode(params or {})) if part)
    return urlunsplit((root.scheme, root.netloc, joined or "/", query, ""))


def relative_path(path: str, base: str) -> str:
    """`path` for a client that joins it to its own base itself: refused when it names a host or
    has any `..` segment at all (the client's join would not keep it under `base`)."""
    given = urlsplit(path)
    if (
        "\\" in path
        or any(ord(c) < 0x20 for c in path)
        or given.scheme
        or given.netloc
        or path.startswith("//")
    ):
        raise PassthroughRefusedError(f"path: {path!r} is refused; give a path relative to {base}.")
    if any(part == ".." for part in given.path.split("/")):
        raise PassthroughRefusedError(f"path: {path!r} leaves the API's base path.")
    return path.lstrip("/")


def caller_headers(request: PassthroughRequest, also_own: frozenset[str] = frozenset()) -> dict[str, str]:
    """The caller's headers less those the connector sets (plus `also_own`, its own key headers)."""
    own = _OWN_HEADERS | also_own
    return {k: v for k, v in (getattr(request, "headers", None) or {}).items() if k.lower() not in own}


def relay(response: httpx.Response, redactor: Redactor, *, as_base64: bool) -> PassthroughResponse:
    """The remote's answer in the contract's passthrough shape, secrets redacted everywhere."""
    headers: dict[str, str] = {}
    for name, value in response.headers.multi_items():
        name = name.lower()
        if name in ("set-cookie",):
            continue
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    headers = {k: redactor.text(v) for k, v in headers.items()}
    data: object
    if as_base64:
        data = base64.b64encode(response.content).decode()
    else:
        text = redactor.text(response.content.decode(response.encoding or "utf-8", "replace"))
        data = text
        if "json" in headers.get("content-type", "") or text[:1] in ("{", "["):
            try:
                data = orjson.loads(text)
            except orjson.JSONDecodeError:
                data = text
    return PassthroughResponse(redactor.url(response.request.url), response.status_code, headers, data)


def body_of(request: PassthroughRequest) -> tuple[bytes | None, dict[str, str]]:
    """The request body as the contract says: an object or array as JSON, a string raw."""
    if request.data is None:
        return None, {}
    if isinstance(request.data, str):
        return request.data.encode(), {}
    return orjson.dumps(request.data), {"Content-Type": "application/json"}


def unknown_api(api: str, apis: dict[str, str], label: str) -> PassthroughRefusedError:
    known = ", ".join(sorted(apis)) or "none"
    return PassthroughRefusedError(f"{label} has no passthrough API {api!r}; its APIs: {known}.")
