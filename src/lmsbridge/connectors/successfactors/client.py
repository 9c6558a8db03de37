"""SuccessFactors Learning's OData v4 API (`{learning_url}/learning/odatav4/`): bearer tokens from
the Learning token server (Basic client auth, JSON body with a `scope`, 1,800-second tokens) or
the platform SAML-bearer flow; `$top`/`$skip` pages with `@odata.nextLink` when the service gives
one; OData error bodies `{"error": {"code", "message"}}`, where "No search results" means an
empty page (reference 1.3)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

import httpx

from lmsbridge.connectors.http.auth import OAuth2
from lmsbridge.connectors.http.client import RemoteHttpClient
from lmsbridge.connectors.http.paging import PagingLoopError
from lmsbridge.connectors.http.resolution import AUTH, DEFAULT, INPUT, NOT_FOUND, PERMISSION, RATE, Resolution
from lmsbridge.connectors.pacing import Pace
from lmsbridge.connectors.successfactors.settings import SuccessFactorsSettings

SERVICE = "SuccessFactors Learning"
ODATA = "learning/odatav4/"
NO_RESULTS = "No search results"
OCN_COURSES = "public/admin/ocn/v1/OcnCourses"


def message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    if not isinstance(body, dict):
        return ""
    error = body.get("error")
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return str(error["message"])
    found = body.get("error_description")
    return found if isinstance(found, str) else ""


def _with_message(base: Resolution) -> Any:
    def rule(response: httpx.Response) -> Resolution:
        found = message(response)
        return replace(base, message=found) if found else base

    return rule


RESOLUTION = DEFAULT.override(
    {
        400: _with_message(INPUT),
        401: replace(AUTH, message="the token was refused; check the client id, secret and company id"),
        403: _with_message(
            replace(PERMISSION, message="the admin user may not use this service (check its workflows)")
        ),
        404: _with_message(NOT_FOUND),
        429: replace(RATE, message="SuccessFactors throttled the call"),
    }
)


class LearningToken(OAuth2):
    """The Learning token server: the grant goes as JSON with a `scope` object, the client as
    Basic auth (reference 1.2). The platform flow is a plain form grant."""

    def __init__(self, token_url: str, body: dict[str, Any], client: tuple[str, str]) -> None:
        super().__init__(token_url, {}, client_auth=httpx.BasicAuth(*client))
        self.body = body

    def token_request(self) -> httpx.Request:
        request = httpx.Request(
            "POST",
            self.token_url,
            content=json.dumps(self.body).encode(),
            headers={"Accept": "application/json", "Content-Type": "application/json"},
        )
        assert self.client_auth is not None
        return next(self.client_auth.sync_auth_flow(request))


def token_auth(
    settings: SuccessFactorsSettings, client_id: str, secret: str, assertion: str | None
) -> OAuth2:
    if settings.token_flow == "saml_bearer":
        host = settings.platform_url or settings.learning_url
        grant = {
            "grant_type": "urn:ietf:params:oauth:grant-type:saml2-bearer",
            "client_id": client_id,
            "company_id": settings.company_id,
            "assertion": assertion or "",
        }
        return OAuth2(f"{host}/oauth/token", grant)
    scope = {
        "userId": settings.admin_user_id,
        "companyId": settings.company_id,
        "userType": "admin",
        "resourceType": "learning_public_api",
    }
    return LearningToken(
        f"{settings.learning_url}/learning/oauth-api/rest/v1/token",
        {"grant_type": "client_credentials", "scope": scope},
        (client_id, secret),
    )


class SuccessFactorsApi:
    def __init__(
        self,
        settings: SuccessFactorsSettings,
        client_id: str,
        client_secret: str,
        assertion: str | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
        pacer: Any = None,
        pace_key: str | None = None,
    ) -> None:
        self.settings = settings
        self.auth = token_auth(settings, client_id, client_secret, assertion)

        def client(key: str | None, pace: Pace | None) -> RemoteHttpClient:
            return RemoteHttpClient(
                f"{settings.learning_url}/{ODATA}",
                service=SERVICE,
                timeout=settings.timeout_seconds,
                retry=settings.retry_policy(),
                secrets=[s for s in (client_secret, assertion) if s],
                transport=transport,
                pacer=pacer,
                pace_key=key,
                pace=pace,
                auth=self.auth,
                headers={"Accept": "application/json"},
            )

        self.client = client(pace_key, settings.pace())
        # OCN's course posts have a bucket of their own (one post per `ocn_pace_seconds`): every
        # attempt, a retry too, takes a slot from it, and an OCN 429 pauses OCN posts only.
        ocn_pace = Pace(1.0 / settings.ocn_pace_seconds if settings.ocn_pace_seconds > 0 else None)
        self.ocn = client(f"{pace_key}:ocn" if pace_key is not None else None, ocn_pace)

    def close(self) -> None:
        self.client.close()
        self.ocn.close()

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        response = self.client.request("GET", path, params=params)
        if response.status_code >= 400 and NO_RESULTS in message(response):
            return {"value": []}
        response = RESOLUTION.check(response, SERVICE)
        return response.json() if response.content else None

    def post(self, path: str, body: Any) -> Any:
        response = RESOLUTION.check(self.client.request("POST", path, json=body), SERVICE)
        return response.json() if response.content else None

    def post_ocn_courses(self, courses: list[dict[str, Any]]) -> Any:
        """`POST public/admin/ocn/v1/OcnCourses` at OCN's pace; raises `PacingDeferred` when the
        integration's next OCN slot is further away than the pacer waits."""
        body = {"ocnCourses": courses}
        response = RESOLUTION.check(self.ocn.request("POST", OCN_COURSES, json=body), SERVICE)
        return response.json() if response.content else None

    def pages(self, path: str, params: Mapping[str, Any] | None = None) -> Iterator[Sequence[dict[str, Any]]]:
        """Every page of a collection: `$top`/`$skip`, following `@odata.nextLink` when the service
        gives one, else the next `$skip` while pages come full. A link followed twice stops."""
        top = self.settings.page_size
        skip = 0
        body = self.get(path, {**(params or {}), "$top": top, "$skip": 0, "$count": "true"})
        seen: set[str] = set()
        while True:
            rows = list((body or {}).get("value") or [])
            if rows:
                yield rows
            following = (body or {}).get("@odata.nextLink")
            if following:
                if following in seen:
                    raise PagingLoopError(
                        f"{SERVICE} gave a page already read ({following}); paging stopped."
                    )
                seen.add(following)
                parts = urlsplit(str(following))
                target = parts.path.split("/" + ODATA, 1)[-1].lstrip("/")
                body = self.get(f"{target}?{parts.query}" if parts.query else target)
                if not (body or {}).get("value"):
                    return
                continue
            if len(rows) < top:
                return
            skip += top
            body = self.get(path, {**(params or {}), "$top": top, "$skip": skip, "$count": "true"})
            if rows and list((body or {}).get("value") or []) == rows:
                raise PagingLoopError(f"{SERVICE} answered the same page twice; paging stopped.")
