"""The LinkedIn Learning emulator's ASGI app: the token endpoint
(`POST /oauth/v2/accessToken`, client credentials in the form), and under `/v2` the
`learningAssets`, `learningClassifications` and `learningActivityReports` finders and gets by
URN, with Rest.li 2.0 and 1.0 query encodings, `start`/`count` pages with relative
`paging.links`, `{"message", "serviceErrorCode", "status"}` errors, a bare 429 for a spent
quota, and the kit's control routes, faults and call log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from lmsbridge.testing.emulators.kit import control_routes, token_route
from lmsbridge.testing.emulators.linkedinlearning.query import QueryError, parse
from lmsbridge.testing.emulators.linkedinlearning.site import (
    COUNT_DEFAULT,
    CRITERIA_TOTAL_CAP,
    LinkedInSite,
    asset_json,
    classification_json,
    report_json,
)


class LinkedInError(Exception):
    def __init__(self, status: int, message: str, service_code: int | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.service_code = status, message, service_code

    def response(self) -> Response:
        body: dict[str, Any] = {"message": self.message, "status": self.status}
        if self.service_code is not None:
            body["serviceErrorCode"] = self.service_code
        return JSONResponse(body, self.status)


def _int(value: Any, name: str, default: int | None = None) -> int:
    if value is None and default is not None:
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise LinkedInError(400, f"Invalid value for parameter '{name}'", 100) from None


def _flag(value: Any) -> bool:
    return str(value).lower() == "true"


def _page(
    request: Request, params: dict[str, Any], rows: list[dict[str, Any]], total: int, site: LinkedInSite
) -> dict[str, Any]:
    start = max(0, _int(params.get("start"), "start", 0))
    count = max(1, min(_int(params.get("count"), "count", COUNT_DEFAULT), 100))
    shown = 0 if site.repeat_first_page else start
    chunk = rows[shown : shown + count]
    raw = request.scope.get("query_string", b"").decode()
    kept = [p for p in raw.split("&") if p and p.partition("=")[0] not in ("start", "count")]

    def href(at: int) -> dict[str, str]:
        query = "&".join([*kept, f"start={at}", f"count={count}"])
        return {
            "rel": "next" if at > start else "prev",
            "href": f"{request.url.path}?{query}",
            "type": "application/json",
        }

    links = []
    if start > 0:
        links.append(href(max(0, start - count)))
    if start + count < total:
        links.append(href(start + count))
    return {"elements": chunk, "paging": {"start": start, "count": count, "total": total, "links": links}}


def _locale_ok(asset_language: str, asset_country: str, locale: Any) -> bool:
    if not isinstance(locale, dict):
        return True
    language, country = locale.get("language", asset_language), locale.get("country", asset_country)
    return bool(language == asset_language and country == asset_country)


def assets(site: LinkedInSite, request: Request, params: dict[str, Any]) -> dict[str, Any]:
    base = f"{request.url.scheme}://{request.url.netloc}"
    finder = params.get("q")
    if finder == "localeAndType":
        if params.get("assetType") not in ("COURSE", "VIDEO", "CHAPTER", "LEARNING_PATH", "DOCUMENT"):
            raise LinkedInError(400, "assetType is required for the localeAndType finder", 100)
        locale = params.get("sourceLocale")
        retired = _flag(params.get("includeRetired"))
        rows = [
            a
            for a in site.assets
            if _locale_ok(a.language, a.country, locale)
            and (retired or not a.retired)
            and params["assetType"] == "COURSE"
        ]
        found = [asset_json(site, a, base) for a in rows]
        return _page(request, params, found, len(found), site)
    if finder == "criteria":
        criteria = params.get("assetFilteringCriteria") or {}
        retrieval = params.get("assetRetrievalCriteria") or {}
        types = criteria.get("assetTypes") or ["COURSE"]
        locales = criteria.get("locales") or [None]
        after = criteria.get("lastModifiedAfter")
        after_ms = _int(after, "lastModifiedAfter") if after is not None else None
        keyword = str(criteria.get("keyword") or "").lower()
        retired = _flag(retrieval.get("includeRetired") or params.get("includeRetired"))
        rows = [
            a
            for a in site.assets
            if "COURSE" in types
            and any(_locale_ok(a.language, a.country, loc) for loc in locales)
            and (after_ms is None or int(a.updated.timestamp() * 1000) > after_ms)
            and (not keyword or keyword in a.title.lower())
            and (retired or not a.retired)
        ]
        found = [asset_json(site, a, base) for a in rows]
        return _page(request, params, found, min(len(found), CRITERIA_TOTAL_CAP), site)
    raise LinkedInError(400, f"Unknown finder {finder!r} for learningAssets", 100)


def classifications(site: LinkedInSite, request: Request, params: dict[str, Any]) -> dict[str, Any]:
    if params.get("q") != "localeAndType":
        raise LinkedInError(400, f"Unknown finder {params.get('q')!r} for learningClassifications", 100)
    kind = params.get("type")
    found = [classification_json(c) for c in site.classifications if kind in (None, c.type)]
    return _page(request, params, found, len(found), site)


UNITS = {"DAY": 1, "WEEK": 7, "MONTH": 30}


def reports(site: LinkedInSite, request: Request, params: dict[str, Any]) -> dict[str, Any]:
    if not site.reporting_enabled:
        raise LinkedInError(
            403, "Not enough permissions to access: learningActivityReports.FINDER-criteria", 100
        )
    if params.get("q") != "criteria":
        raise LinkedInError(400, "q=criteria is required", 100)
    started = _int(params.get("startedAt"), "startedAt")
    offset = params.get("timeOffset") or {}
    unit = offset.get("unit") if isinstance(offset, dict) else None
    if unit not in UNITS:
        raise LinkedInError(400, "timeOffset.unit must be DAY, WEEK or MONTH", 100)
    duration = _int(offset.get("duration"), "timeOffset.duration")
    aggregation = params.get("aggregationCriteria") or {}
    if (aggregation.get("primary"), aggregation.get("secondary")) != ("INDIVIDUAL", "CONTENT"):
        raise LinkedInError(400, "the emulator serves INDIVIDUAL x CONTENT reports only", 100)
    begin = datetime.fromtimestamp(started / 1000, UTC)
    end = begin + timedelta(days=duration * UNITS[unit])
    found = [report_json(site, a) for a in site.activities if begin <= a.last < end]
    return _page(request, params, found, len(found), site)


def create_app(site: LinkedInSite) -> Starlette:
    def of(request: Request) -> LinkedInSite:
        current: LinkedInSite = request.app.state.site
        return current

    async def v2(request: Request) -> Response:
        current = of(request)
        rest = request.path_params["rest"].strip("/")
        resource, _, key = rest.partition("/")
        target = f"{request.method} {resource}"
        authorization = request.headers.get("authorization")

        async def handler() -> Response:
            try:
                if not current.issuer.valid(authorization):
                    raise LinkedInError(401, "Invalid access token", 65600)
                if request.method != "GET":
                    raise LinkedInError(405, f"{request.method} is not supported on {resource}", 100)
                try:
                    params = parse(request.scope.get("query_string", b"").decode())
                except QueryError as error:
                    raise LinkedInError(400, f"Malformed Rest.li query: {error}", 100) from None
                return JSONResponse(_answer(current, request, resource, unquote(key), params))
            except LinkedInError as error:
                return error.response()

        return await current.guard(request, target, authorization or "anonymous", handler)

    app = Starlette(
        routes=[
            *control_routes(of),
            token_route("/oauth/v2/accessToken", lambda request: of(request).issuer),
            Route("/v2/{rest:path}", v2, methods=["GET", "POST", "PUT", "PATCH", "DELETE"]),
        ]
    )
    app.state.site = site
    return app


def _answer(site: LinkedInSite, request: Request, resource: str, key: str, params: dict[str, Any]) -> Any:
    base = f"{request.url.scheme}://{request.url.netloc}"
    if resource == "learningAssets":
        if key:
            asset = site.asset(key)
            if asset is None or (asset.retired and not _flag(params.get("includeRetired"))):
                raise LinkedInError(404, f"Asset {key} not found", 100)
            return asset_json(site, asset, base)
        return assets(site, request, params)
    if resource == "learningClassifications":
        if key:
            found = next((c for c in site.classifications if c.urn == key), None)
            if found is None:
                raise LinkedInError(404, f"Classification {key} not found", 100)
            return classification_json(found)
        return classifications(site, request, params)
    if resource == "learningActivityReports" and not key:
        return reports(site, request, params)
    raise LinkedInError(404, f"No resource /v2/{resource}", 100)
