"""The Sandbox's records in the store, as a remote LMS would hold them: generated data in
`sandbox_records`, and courses and skills written through the API matched by origin_id (writing an
origin_id again updates the record and keeps its remote id, so a re-run item never duplicates)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, delete, func, select, tuple_, update

from lmsbridge.clock import utc_now
from lmsbridge.db import Store
from lmsbridge.db import tables as t
from lmsbridge.db.upsert import upsert_returning
from lmsbridge.errors import IntegrationNotFoundError
from lmsbridge.ids import new_id
from lmsbridge.sandbox import generator
from lmsbridge.sandbox.generator import SandboxSize

_META = "_meta"
RECORDS = t.sandbox_records


def _hold_integration(conn: Any, integration_id: str) -> None:
    """A write of the Sandbox's data holds its integration's row (shared): a deletion, which
    locks that row first, either waits for the write or leaves it nothing to write to."""
    found = conn.scalar(
        select(t.integrations.c.id).where(t.integrations.c.id == integration_id).with_for_update(read=True)
    )
    if found is None:
        raise IntegrationNotFoundError(
            f"The integration {integration_id} was deleted; the Sandbox keeps nothing of it."
        )


class SandboxStateRepository:
    """Implements the Sandbox connector's `SandboxState` on the store; each call is a short
    transaction of its own, as a remote system's write would be."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # -- writes from bulk tasks --------------------------------------------------------------------
    def upsert_courses(self, integration_id: str, rows: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
        """origin_id -> (remote_id, created_at)."""
        return self._upsert(t.sandbox_courses, integration_id, rows, {"active": True})

    def upsert_skills(self, integration_id: str, rows: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
        """origin_id -> (remote_id, created_at)."""
        return self._upsert(t.sandbox_skills, integration_id, rows, {})

    def _upsert(
        self, table: Table, integration_id: str, rows: list[tuple[str, dict[str, Any]]], extra: dict[str, Any]
    ) -> dict[str, Any]:
        if not rows:
            return {}
        now = utc_now()
        values = [
            {
                "integration_id": integration_id,
                "origin_id": origin_id,
                "remote_id": new_id(),
                "data": data,
                "created_at": now,
                "updated_at": now,
                **extra,
            }
            for origin_id, data in rows
        ]
        with self.store.write() as conn:
            _hold_integration(conn, integration_id)
            returned = upsert_returning(
                conn,
                table,
                values,
                keys=["integration_id", "origin_id"],
                update=["data", "updated_at", *extra],
                returning=["origin_id", "remote_id", "created_at"],
            )
        return {row.origin_id: (row.remote_id, row.created_at) for row in returned}

    def written(self, table_name: str, integration_id: str, since: datetime | None) -> list[Any]:
        table = t.sandbox_courses if table_name == "courses" else t.sandbox_skills
        query = select(table).where(table.c.integration_id == integration_id).order_by(table.c.remote_id)
        if since is not None:
            query = query.where(table.c.updated_at >= since)
        with self.store.read() as conn:
            return list(conn.execute(query))

    def set_written_course_active(self, integration_id: str, remote_id: str, active: bool) -> Any:
        table = t.sandbox_courses
        with self.store.write() as conn:
            conn.execute(
                update(table)
                .where(table.c.integration_id == integration_id, table.c.remote_id == remote_id)
                .values(active=active, updated_at=utc_now())
            )
            return conn.execute(
                select(table).where(table.c.integration_id == integration_id, table.c.remote_id == remote_id)
            ).first()

    # -- generated records ----------------------------------------------------------------------------
    def ensure_generated(self, integration_id: str, size: SandboxSize) -> None:
        """Materialise the Sandbox's data once, on first use."""
        with self.store.read() as conn:
            if self._meta(conn, integration_id) is not None:
                return
        now = utc_now()
        batch: list[dict[str, Any]] = []
        with self.store.write() as conn:
            if self._meta(conn, integration_id) is not None:
                return
            _hold_integration(conn, integration_id)
            for model, remote_id, data in generator.generate(size):
                batch.append(
                    {
                        "integration_id": integration_id,
                        "model": model,
                        "remote_id": remote_id,
                        "data": data,
                        "updated_at": now,
                    }
                )
                if len(batch) >= 5000:
                    conn.execute(RECORDS.insert(), batch)
                    batch = []
            conn.execute(
                RECORDS.insert(),
                [
                    *batch,
                    {
                        "integration_id": integration_id,
                        "model": _META,
                        "remote_id": "meta",
                        "data": {
                            "users": size.users,
                            "courses": size.courses,
                            "progressions": size.progressions,
                            "evolutions": 0,
                        },
                        "updated_at": now,
                    },
                ],
            )

    def _meta(self, conn: Any, integration_id: str) -> dict[str, Any] | None:
        data = conn.scalar(
            select(RECORDS.c.data).where(RECORDS.c.integration_id == integration_id, RECORDS.c.model == _META)
        )
        return dict(data) if data is not None else None

    def pages(
        self, integration_id: str, model: str, since: datetime | None, page_size: int = 1000
    ) -> Iterator[list[tuple[str, dict[str, Any]]]]:
        """Pages of (remote_id, data): every record in remote_id order; with `since`, only records
        changed since then, in the order they changed (read through the updated_at index: a
        delta costs what changed, not a walk of every record). A record that changes again while
        a delta pages moves behind the cursor and comes once more: none is missed."""
        if since is not None:
            yield from self._changed_pages(integration_id, model, since, page_size)
            return
        after = ""
        while True:
            query = (
                select(RECORDS.c.remote_id, RECORDS.c.data)
                .where(
                    RECORDS.c.integration_id == integration_id,
                    RECORDS.c.model == model,
                    RECORDS.c.remote_id > after,
                )
                .order_by(RECORDS.c.remote_id)
                .limit(page_size)
            )
            with self.store.read() as conn:
                rows = [(r.remote_id, dict(r.data)) for r in conn.execute(query)]
            if not rows:
                return
            yield rows
            after = rows[-1][0]

    def _changed_pages(
        self, integration_id: str, model: str, since: datetime, page_size: int
    ) -> Iterator[list[tuple[str, dict[str, Any]]]]:
        after: tuple[datetime, str] | None = None
        while True:
            query = (
                select(RECORDS.c.remote_id, RECORDS.c.data, RECORDS.c.updated_at)
                .where(
                    RECORDS.c.integration_id == integration_id,
                    RECORDS.c.model == model,
                    RECORDS.c.updated_at >= since,
                )
                .order_by(RECORDS.c.updated_at, RECORDS.c.remote_id)
                .limit(page_size)
            )
            if after is not None:  # a row value: the index (..., updated_at, remote_id) seeks to it
                cursor = tuple_(
                    bindparam(None, after[0], type_=RECORDS.c.updated_at.type),
                    bindparam(None, after[1], type_=RECORDS.c.remote_id.type),
                )
                query = query.where(tuple_(RECORDS.c.updated_at, RECORDS.c.remote_id) > cursor)
            with self.store.read() as conn:
                fetched = list(conn.execute(query))
            if not fetched:
                return
            yield [(r.remote_id, dict(r.data)) for r in fetched]
            after = (fetched[-1].updated_at, fetched[-1].remote_id)

    def get(self, integration_id: str, model: str, remote_id: str) -> dict[str, Any] | None:
        with self.store.read() as conn:
            data = conn.scalar(
                select(RECORDS.c.data).where(
                    RECORDS.c.integration_id == integration_id,
                    RECORDS.c.model == model,
                    RECORDS.c.remote_id == remote_id,
                )
            )
        return dict(data) if data is not None else None

    def find_progression(
        self, integration_id: str, user_remote_id: str, revision_remote_id: str
    ) -> tuple[str, dict[str, Any]] | None:
        """The progression (remote id, data) of a user in a revision, generated or enrolled."""
        query = (
            select(RECORDS.c.remote_id, RECORDS.c.data)
            .where(
                RECORDS.c.integration_id == integration_id,
                RECORDS.c.model == "lms_course_progressions",
                RECORDS.c.data["user"].as_string() == user_remote_id,
                RECORDS.c.data["revision"].as_string() == revision_remote_id,
            )
            .order_by(RECORDS.c.remote_id)
            .limit(1)
        )
        with self.store.read() as conn:
            row = conn.execute(query).first()
        return (row.remote_id, dict(row.data)) if row is not None else None

    def put(self, integration_id: str, model: str, remote_id: str, data: dict[str, Any]) -> None:
        with self.store.write() as conn:
            _hold_integration(conn, integration_id)
            upsert_returning(
                conn,
                RECORDS,
                [
                    {
                        "integration_id": integration_id,
                        "model": model,
                        "remote_id": remote_id,
                        "data": data,
                        "updated_at": utc_now(),
                    }
                ],
                keys=["integration_id", "model", "remote_id"],
                update=["data", "updated_at"],
                returning=["remote_id"],
            )

    def remove(self, integration_id: str, model: str, remote_id: str) -> bool:
        with self.store.write() as conn:
            removed = conn.execute(
                delete(RECORDS).where(
                    RECORDS.c.integration_id == integration_id,
                    RECORDS.c.model == model,
                    RECORDS.c.remote_id == remote_id,
                )
            ).rowcount
        return bool(removed)

    # -- evolution ------------------------------------------------------------------------------------
    def evolve(self, integration_id: str, changes: int, size: SandboxSize) -> dict[str, int]:
        """Change the Sandbox as a living LMS changes: edit, add and remove records."""
        self.ensure_generated(integration_id, size)
        done = {"updated": 0, "added": 0, "removed": 0}
        with self.store.write() as conn:
            meta = self._meta(conn, integration_id) or {}
            rng = random.Random(f"{size.seed}:{meta.get('evolutions', 0)}")
            now = utc_now()
            for _ in range(changes):
                model = rng.choices(["lms_course_progressions", "lms_users", "lms_courses"], [5, 3, 2])[0]
                roll = rng.random()
                if roll < 0.15:
                    done["removed"] += self._remove_one(conn, integration_id, model, rng)
                elif roll < 0.35:
                    done["added"] += self._add_one(conn, integration_id, model, meta, size, rng, now)
                else:
                    done["updated"] += self._change_one(conn, integration_id, model, rng, now)
            meta["evolutions"] = meta.get("evolutions", 0) + 1
            conn.execute(
                update(RECORDS)
                .where(RECORDS.c.integration_id == integration_id, RECORDS.c.model == _META)
                .values(data=meta)
            )
        return done

    def _pick(
        self, conn: Any, integration_id: str, model: str, rng: random.Random
    ) -> tuple[str, dict[str, Any]] | None:
        where = (RECORDS.c.integration_id == integration_id, RECORDS.c.model == model)
        total = int(conn.scalar(select(func.count()).select_from(RECORDS).where(*where)) or 0)
        if not total:
            return None
        row = conn.execute(
            select(RECORDS.c.remote_id, RECORDS.c.data)
            .where(*where)
            .order_by(RECORDS.c.remote_id)
            .offset(rng.randrange(total))
            .limit(1)
        ).first()
        return (row.remote_id, dict(row.data)) if row else None

    def _remove_one(self, conn: Any, integration_id: str, model: str, rng: random.Random) -> int:
        picked = self._pick(conn, integration_id, model, rng)
        if picked is None:
            return 0
        conn.execute(
            delete(RECORDS).where(
                RECORDS.c.integration_id == integration_id,
                RECORDS.c.model == model,
                RECORDS.c.remote_id == picked[0],
            )
        )
        return 1

    def _change_one(
        self, conn: Any, integration_id: str, model: str, rng: random.Random, now: datetime
    ) -> int:
        picked = self._pick(conn, integration_id, model, rng)
        if picked is None:
            return 0
        remote_id, data = picked
        if model == "lms_users":
            data["last_name"] = rng.choice(generator.LAST_NAMES)
            data["active"] = rng.random() > 0.1
        elif model == "lms_courses":
            data["revisions"][-1]["title"] = (
                f"{data['revisions'][-1]['title'].split(' (')[0]} (updated {now:%Y-%m-%d %H:%M:%S})"
            )
        else:
            data["state"] = "COMPLETED" if data["state"] != "COMPLETED" else "IN_PROGRESS"
            data["completed"] = now.isoformat() if data["state"] == "COMPLETED" else None
        conn.execute(
            update(RECORDS)
            .where(
                RECORDS.c.integration_id == integration_id,
                RECORDS.c.model == model,
                RECORDS.c.remote_id == remote_id,
            )
            .values(data=data, updated_at=now)
        )
        return 1

    def _add_one(
        self,
        conn: Any,
        integration_id: str,
        model: str,
        meta: dict[str, Any],
        size: SandboxSize,
        rng: random.Random,
        now: datetime,
    ) -> int:
        counter = f"next_{model}"
        n = meta.get(
            counter,
            {
                "lms_users": size.users,
                "lms_courses": size.courses,
                "lms_course_progressions": size.progressions,
            }[model],
        )
        meta[counter] = n + 1
        if model == "lms_users":
            remote_id, data = f"user-{n}", generator.user(n, rng)
        elif model == "lms_courses":
            remote_id, data = f"course-{n}", generator.course(n, size, rng)
        else:
            user = self._pick(conn, integration_id, "lms_users", rng)
            course = self._pick(conn, integration_id, "lms_courses", rng)
            if user is None or course is None:
                return 0
            revision = course[1]["revisions"][-1]["id"]
            remote_id = f"prog-{n}"
            data = {
                "user": user[0],
                "revision": revision,
                "course": course[0],
                "state": "ENROLLED",
                "enrolled": now.isoformat(),
                "completed": None,
                "score": None,
            }
        conn.execute(
            RECORDS.insert().values(
                integration_id=integration_id, model=model, remote_id=remote_id, data=data, updated_at=now
            )
        )
        return 1
