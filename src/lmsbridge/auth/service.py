"""API keys: random, shown once, stored as SHA-256 hashes (they carry ~230 bits of entropy, so a
fast hash is as safe as a slow one and keeps authentication off the hot path's budget)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import Connection

from lmsbridge.auth.repository import AuthRepository, Principal
from lmsbridge.errors import AuthenticationInvalidError
from lmsbridge.ids import ALPHABET

KEY_PREFIX = "lmsb_"
DEFAULT_ENVIRONMENT = "default"


@dataclass(frozen=True)
class NewApiKey:
    id: str
    environment_id: str
    secret: str


def hash_key(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_key(conn: Connection, *, name: str, environment: str = DEFAULT_ENVIRONMENT) -> NewApiKey:
    repo = AuthRepository(conn)
    env_id = repo.environment_id(environment, create=True)
    assert env_id is not None
    secret = KEY_PREFIX + "".join(secrets.choice(ALPHABET) for _ in range(40))
    key_id = repo.insert_key(env_id, name, hash_key(secret), secret[:12])
    return NewApiKey(key_id, env_id, secret)


def key_hash_of(authorization: str | None) -> str:
    """The hash of the API key an `Authorization` header carries; 401 when it carries none."""
    if not authorization:
        raise AuthenticationInvalidError(
            "Missing API key: send it as the header 'Authorization: Bearer <api key>'."
        )
    scheme, _, secret = authorization.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise AuthenticationInvalidError(
            "Malformed Authorization header: expected 'Authorization: Bearer <api key>'."
        )
    return hash_key(secret.strip())


def principal_of(conn: Connection, key_hash: str) -> Principal:
    """Who holds the key with this hash; 401 when no live key has it."""
    principal = AuthRepository(conn).principal_by_hash(key_hash)
    if principal is None:
        raise AuthenticationInvalidError("The API key is invalid or has been revoked.")
    return principal


def authenticate(conn: Connection, authorization: str | None) -> Principal:
    return principal_of(conn, key_hash_of(authorization))
