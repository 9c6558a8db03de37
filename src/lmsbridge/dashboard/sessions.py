"""Signing in to the dashboard with an API key of the environment. The browser keeps a random
session secret in an HttpOnly, SameSite=Strict cookie (the store keeps its hash); every form
carries the session's CSRF token, and the sign-in form a token of its own (double submit)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy import Connection

from lmsbridge.auth.service import authenticate
from lmsbridge.clock import utc_now
from lmsbridge.dashboard.repository import SessionRepository, SessionRow

COOKIE = "lmsbridge_session"
LOGIN_COOKIE = "lmsbridge_login_csrf"
PATH = "/dashboard"


@dataclass(frozen=True)
class NewSession:
    secret: str
    row: SessionRow


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def sign_in(conn: Connection, api_key: str, ttl_seconds: float) -> str:
    """A new session for the key's environment; raises AuthenticationInvalidError for a bad key."""
    who = authenticate(conn, f"Bearer {api_key.strip()}")
    secret = secrets.token_urlsafe(32)
    repo = SessionRepository(conn)
    repo.delete_expired()
    expires_at = utc_now() + timedelta(seconds=ttl_seconds)
    repo.insert(_hash(secret), who.key_id, secrets.token_urlsafe(32), expires_at)
    return secret


def current(conn: Connection, request: Request) -> SessionRow | None:
    secret = request.cookies.get(COOKIE)
    return SessionRepository(conn).live(_hash(secret)) if secret else None


def sign_out(conn: Connection, request: Request) -> None:
    secret = request.cookies.get(COOKIE)
    if secret:
        SessionRepository(conn).delete(_hash(secret))


def set_cookie(response: Response, name: str, value: str, request: Request, max_age: int | None) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=PATH,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def same_token(given: object, expected: str) -> bool:
    return isinstance(given, str) and hmac.compare_digest(given.encode(), expected.encode())
