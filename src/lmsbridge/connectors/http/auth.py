"""Authentication as `httpx.Auth` flows, so every connector authenticates the same way and the
client never special-cases a vendor: Basic (httpx's own), an API key header, a bearer token,
Moodle's form token, and OAuth2 client credentials or refresh token with the access token cached
until shortly before it expires and fetched again once when the remote answers 401."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode

import httpx
import orjson

from lmsbridge.connectors.errors import AuthenticationInvalidError, ConnectorError
from lmsbridge.errors import ErrorCode

BasicAuth = httpx.BasicAuth


class ApiKeyHeader(httpx.Auth):
    """A key in a header (`X-API-Key: ...`, or `Authorization: Token ...` with a prefix)."""

    def __init__(self, key: str, header: str = "X-API-Key", prefix: str = "") -> None:
        self.key, self.header, self.prefix = key, header, prefix

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers[self.header] = f"{self.prefix}{self.key}"
        yield request


class BearerToken(ApiKeyHeader):
    def __init__(self, token: str) -> None:
        super().__init__(token, "Authorization", "Bearer ")


class FormToken(httpx.Auth):
    """A token sent as a form field of every POST (Moodle's `wstoken`), or as a query
    parameter of other methods; never in a header."""

    requires_request_body = True

    def __init__(self, token: str, field: str = "wstoken") -> None:
        self.token, self.field = token, field

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        form = request.headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded")
        if request.method == "POST" and (form or not request.content):
            pairs = [(self.field, self.token), *parse_qsl(request.content.decode(), keep_blank_values=True)]
            body = urlencode(pairs).encode()
            request.headers["Content-Type"] = "application/x-www-form-urlencoded"
            request.headers["Content-Length"] = str(len(body))
            request.stream = httpx.ByteStream(body)
            request._content = body
        else:
            request.url = request.url.copy_merge_params({self.field: self.token})
        yield request


@dataclass(frozen=True)
class AccessToken:
    value: str
    expires_at: float  # time.monotonic()


class OAuth2(httpx.Auth):
    """OAuth2 against a token endpoint: `grant` is the form of the token request
    (`{"grant_type": "client_credentials", ...}` or a refresh token grant). The token is cached
    (shared by every request of this flow, thread-safe) and renewed `leeway` seconds before it
    expires, and once more when the remote answers 401 to a token that looked valid. The token
    endpoint may answer JSON or a form body (some vendors do); a 400/401 from it means the
    credentials are wrong."""

    requires_response_body = True

    def __init__(
        self,
        token_url: str,
        grant: Mapping[str, str],
        *,
        client_auth: httpx.Auth | None = None,
        leeway: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        on_refresh_token: Callable[[str], None] | None = None,
    ) -> None:
        self.token_url = token_url
        self.grant = dict(grant)
        self.client_auth = client_auth
        self.leeway = leeway
        self.clock = clock
        self.on_refresh_token = on_refresh_token
        self._token: AccessToken | None = None
        self._lock = threading.Lock()
        self.fetched = 0

    @classmethod
    def client_credentials(
        cls,
        token_url: str,
        client_id: str,
        client_secret: str,
        *,
        scope: str | None = None,
        in_body: bool = False,
    ) -> OAuth2:
        grant = {"grant_type": "client_credentials", **({"scope": scope} if scope else {})}
        if in_body:
            return cls(token_url, {**grant, "client_id": client_id, "client_secret": client_secret})
        return cls(token_url, grant, client_auth=httpx.BasicAuth(client_id, client_secret))

    @classmethod
    def refresh_token(cls, token_url: str, client_id: str, client_secret: str, refresh_token: str) -> OAuth2:
        grant = {
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": client_id,
            "client_secret": client_secret,
        }
        return cls(token_url, grant)

    def _valid(self) -> AccessToken | None:
        token = self._token
        return token if token is not None and token.expires_at - self.leeway > self.clock() else None

    def token_request(self) -> httpx.Request:
        request = httpx.Request(
            "POST",
            self.token_url,
            data=self.grant,
            headers={"Accept": "application/json"},
        )
        if self.client_auth is not None:
            flow = self.client_auth.sync_auth_flow(request)
            request = next(flow)
        return request

    def accept(self, response: httpx.Response) -> AccessToken:
        """Reads the token endpoint's answer (JSON or form-encoded)."""
        if response.status_code in (400, 401, 403):
            raise AuthenticationInvalidError(
                f"The token endpoint refused the credentials (HTTP {response.status_code}); check the "
                "client id and secret."
            )
        if response.status_code >= 300:
            raise ConnectorError(
                f"The token endpoint answered HTTP {response.status_code}.",
                code=ErrorCode.REMOTE_SERVICE_UNAVAILABLE if response.status_code >= 500 else None,
            )
        body = _token_body(response)
        value = body.get("access_token")
        if not isinstance(value, str) or not value:
            raise ConnectorError("The token endpoint answered without an access_token.")
        lifetime = float(str(body.get("expires_in") or 3600))
        refresh = body.get("refresh_token")
        if isinstance(refresh, str) and refresh and self.grant.get("grant_type") == "refresh_token":
            self.grant["refresh_token"] = refresh  # rotated: the old one may no longer work
            if self.on_refresh_token is not None:
                self.on_refresh_token(refresh)
        self.fetched += 1
        return AccessToken(value, self.clock() + lifetime)

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        with self._lock:
            token = self._valid()
        if token is None:
            token = yield from self._fetch()
        request.headers["Authorization"] = f"Bearer {token.value}"
        response = yield request
        if response.status_code == 401:
            token = yield from self._fetch(stale=token)
            request.headers["Authorization"] = f"Bearer {token.value}"
            yield request

    def _fetch(
        self, stale: AccessToken | None = None
    ) -> Generator[httpx.Request, httpx.Response, AccessToken]:
        with self._lock:
            current = self._valid()
            if current is not None and current != stale:  # another request renewed it meanwhile
                return current
        response = yield self.token_request()
        token = self.accept(response)
        with self._lock:
            self._token = token
        return token


def _token_body(response: httpx.Response) -> dict[str, object]:
    content_type = response.headers.get("Content-Type", "")
    if "json" in content_type or response.content.lstrip().startswith(b"{"):
        try:
            body = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            body = None
        if isinstance(body, dict):
            return body
    return dict(parse_qsl(response.text, keep_blank_values=True))
