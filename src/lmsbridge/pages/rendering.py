"""One Jinja2 environment for every HTML page, the security headers those pages carry, and the
route of their static files. Templates are found in this package (the base and the log pages)
and beside the code that renders them (`connect/templates`, `dashboard/templates`); they are
looked up by package name, so this module imports neither."""

from __future__ import annotations

from datetime import datetime
from importlib import resources
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response
from jinja2 import ChoiceLoader, Environment, PackageLoader, select_autoescape

from lmsbridge.clock import to_wire
from lmsbridge.errors import NotFoundError
from lmsbridge.pages.markdown import render_markdown

STATIC = "/static/pages"
_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".svg": "image/svg+xml"}

static_router = APIRouter(include_in_schema=False)


def _when(moment: datetime | None) -> str:
    if moment is None:
        return "—"
    return (to_wire(moment) or "").replace("T", " ")[:19]


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 120:
        return f"{seconds:.1f} s"
    return f"{seconds / 60:.1f} min"


environment = Environment(
    loader=ChoiceLoader(
        [PackageLoader(f"lmsbridge.{package}", "templates") for package in ("pages", "connect", "dashboard")]
    ),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
environment.filters["when"] = _when
environment.filters["duration"] = _duration
environment.filters["markdown"] = render_markdown
environment.globals["static"] = STATIC


def csp(frame_ancestors: list[str] | None = None) -> str:
    """Scripts and styles only from our own files, so injected markup cannot run; the page may be
    framed only by the listed origins (none by default)."""
    ancestors = " ".join(frame_ancestors) if frame_ancestors else "'none'"
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"form-action 'self'; base-uri 'none'; object-src 'none'; frame-ancestors {ancestors}"
    )


def render(
    template: str,
    *,
    status_code: int = 200,
    frame_ancestors: list[str] | None = None,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    body = environment.get_template(template).render(**context)
    response = HTMLResponse(body, status_code=status_code, headers=headers)
    response.headers["Content-Security-Policy"] = csp(frame_ancestors)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response


@static_router.get(STATIC + "/{name}")
def static_file(name: str) -> Response:
    suffix = name[name.rfind(".") :] if "." in name else ""
    path = resources.files("lmsbridge.pages") / "static" / name
    if "/" in name or suffix not in _TYPES or not path.is_file():
        raise NotFoundError(f"No file {name!r}.")
    return Response(
        path.read_bytes(), media_type=_TYPES[suffix], headers={"Cache-Control": "public, max-age=3600"}
    )
