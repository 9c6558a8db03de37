"""`/docs` (Swagger UI) and `/redoc` served with their files from the fastapi-offline package, so
they work on a server without internet access; the OpenAPI document names the bearer scheme, so
Swagger UI's "Authorize" and "Try it out" send the API key."""

from __future__ import annotations

from importlib import resources
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = "/docs/assets"
SCHEME = "ApiKey"  # Kombo's name for it


def _assets_dir() -> str:
    return str(resources.files("fastapi_offline") / "static")


def install(app: FastAPI) -> None:
    app.mount(ASSETS, StaticFiles(directory=_assets_dir()), name="docs-assets")
    generate = app.openapi

    def openapi_with_bearer() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = generate()
        schemes = schema.setdefault("components", {}).setdefault("securitySchemes", {})
        schemes[SCHEME] = {
            "type": "http",
            "scheme": "bearer",
            "description": "An API key of the environment: `Authorization: Bearer <api key>`.",
        }
        schema.setdefault("security", [{SCHEME: []}])
        app.openapi_schema = schema
        return schema

    app.openapi = openapi_with_bearer  # type: ignore[method-assign]

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title=f"{app.title} API",
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS}/favicon.png",
            swagger_ui_parameters={"persistAuthorization": True},
        )

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        page = get_redoc_html(
            openapi_url="/openapi.json",
            title=f"{app.title} API",
            redoc_js_url=f"{ASSETS}/redoc.standalone.js",
            redoc_favicon_url=f"{ASSETS}/favicon.png",
            with_google_fonts=False,
        )
        # ReDoc's bundle shows its vendor's logo from a CDN (and hides it when that fails): keep
        # the page from reaching out at all.
        page.headers["Content-Security-Policy"] = "img-src 'self' data: blob:"
        return page
