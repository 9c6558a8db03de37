"""An OAuth2 token endpoint: client credentials and refresh token grants, client authentication
by Basic header or form fields, answering JSON (or a form body, as some vendors do). Issued
tokens expire after `lifetime` seconds; `revoke_all` makes the next call answer 401."""

from __future__ import annotations

import base64
import secrets
import threading
import time
from collections.abc import Callable
from urllib.parse import parse_qsl, urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


class TokenIssuer:
    def __init__(self, client_id: str, client_secret: str, lifetime: float = 3600.0) -> None:
        self.client_id, self.client_secret, self.lifetime = client_id, client_secret, lifetime
        self._access: dict[str, float] = {}
        self._refresh: set[str] = set()
        self._lock = threading.Lock()
        self.issued = 0

    def issue(self, with_refresh: bool) -> dict[str, object]:
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._access[token] = time.monotonic() + self.lifetime
            self.issued += 1
            body: dict[str, object] = {
                "access_token": token,
                "token_type": "Bearer",
                "expires_in": int(self.lifetime),
            }
            if with_refresh:
                refresh = secrets.token_urlsafe(24)
                self._refresh.add(refresh)
                body["refresh_token"] = refresh
        return body

    def add_refresh_token(self, token: str) -> None:
        with self._lock:
            self._refresh.add(token)

    def use_refresh_token(self, token: str) -> bool:
        """Refresh tokens rotate: each works once."""
        with self._lock:
            if token not in self._refresh:
                return False
            self._refresh.discard(token)
            return True

    def valid(self, authorization: str | None) -> bool:
        if not authorization or not authorization.startswith("Bearer "):
            return False
        with self._lock:
            expires = self._access.get(authorization.removeprefix("Bearer "))
        return expires is not None and expires > time.monotonic()

    def revoke_all(self) -> None:
        with self._lock:
            self._access.clear()


def _client(request: Request, form: dict[str, str]) -> tuple[str, str]:
    header = request.headers.get("authorization", "")
    if header.startswith("Basic "):
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        return user, password
    return form.get("client_id", ""), form.get("client_secret", "")


def token_route(
    path: str, issuer_of: Callable[[Request], TokenIssuer], *, form_answers: bool = False
) -> Route:
    async def token(request: Request) -> Response:
        form = dict(parse_qsl((await request.body()).decode(), keep_blank_values=True))
        issuer = issuer_of(request)
        if _client(request, form) != (issuer.client_id, issuer.client_secret):
            return JSONResponse({"error": "invalid_client"}, 401)
        grant = form.get("grant_type")
        if grant == "client_credentials":
            body = issuer.issue(with_refresh=False)
        elif grant == "refresh_token" and issuer.use_refresh_token(form.get("refresh_token", "")):
            body = issuer.issue(with_refresh=True)
        elif grant == "refresh_token":
            return JSONResponse({"error": "invalid_grant"}, 400)
        else:
            return JSONResponse({"error": "unsupported_grant_type"}, 400)
        if form_answers:
            text = urlencode({k: str(v) for k, v in body.items()})
            return Response(text, media_type="application/x-www-form-urlencoded")
        return JSONResponse(body)

    return Route(path, token, methods=["POST"])
