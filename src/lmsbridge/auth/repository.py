"""Every query on environments and API keys."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, bindparam, select, update

from lmsbridge.clock import utc_now
from lmsbridge.db import access_changes
from lmsbridge.db.tables import api_keys, environments
from lmsbridge.ids import new_id


@dataclass(frozen=True)
class Principal:
    """Who is calling: an API key and the environment it belongs to."""

    key_id: str
    environment_id: str


@dataclass(frozen=True)
class ApiKeyRecord:
    id: str
    environment_id: str
    environment_name: str
    name: str
    key_prefix: str
    created_at: datetime
    revoked_at: datetime | None


# Built once: authentication runs on every request.
_PRINCIPAL_BY_HASH = select(api_keys.c.id, api_keys.c.environment_id).where(
    api_keys.c.key_hash == bindparam("key_hash"), api_keys.c.revoked_at.is_(None)
)


class AuthRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def environment_names(self) -> dict[str, str]:
        """Every environment's name by its id."""
        return {row.id: row.name for row in self.conn.execute(select(environments.c.id, environments.c.name))}

    def environment_id(self, name: str, *, create: bool) -> str | None:
        found = self.conn.scalar(select(environments.c.id).where(environments.c.name == name))
        if found is not None or not create:
            return found
        env_id = new_id()
        self.conn.execute(environments.insert().values(id=env_id, name=name, created_at=utc_now()))
        return env_id

    def environment_name(self, environment_id: str) -> str | None:
        name: str | None = self.conn.scalar(
            select(environments.c.name).where(environments.c.id == environment_id)
        )
        return name

    def insert_key(self, environment_id: str, name: str, key_hash: str, key_prefix: str) -> str:
        key_id = new_id()
        self.conn.execute(
            api_keys.insert().values(
                id=key_id,
                environment_id=environment_id,
                name=name,
                key_hash=key_hash,
                key_prefix=key_prefix,
                created_at=utc_now(),
            )
        )
        return key_id

    def principal_by_hash(self, key_hash: str) -> Principal | None:
        row = self.conn.execute(_PRINCIPAL_BY_HASH, {"key_hash": key_hash}).first()
        return Principal(row.id, row.environment_id) if row else None

    def list_keys(self) -> list[ApiKeyRecord]:
        rows = self.conn.execute(
            select(api_keys, environments.c.name.label("environment_name"))
            .join(environments, environments.c.id == api_keys.c.environment_id)
            .order_by(api_keys.c.created_at)
        )
        return [
            ApiKeyRecord(
                r.id, r.environment_id, r.environment_name, r.name, r.key_prefix, r.created_at, r.revoked_at
            )
            for r in rows
        ]

    def revoke(self, key_id: str) -> bool:
        access_changes.changed(self.conn)  # the API's caller cache holds keys
        result = self.conn.execute(
            update(api_keys)
            .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
            .values(revoked_at=utc_now())
        )
        return bool(result.rowcount == 1)

    def count_keys(self) -> int:
        return len(list(self.conn.scalars(select(api_keys.c.id))))
