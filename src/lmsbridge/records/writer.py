"""Writes unified records into the store: derives ids, skips records whose own fields did not
change, stamps the ones that did, and applies each endpoint's nested `updated_after` rules
(a course moves when a revision is added, removed or changed; skill assignments move nothing)."""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

import orjson
from sqlalchemy import Connection, Table, bindparam, select, update

from lmsbridge.connectors.records import (
    CourseRecord,
    HrisSkillRecord,
    ProgressionRecord,
    ProviderRecord,
    Record,
    SkillRecord,
    UserRecord,
)
from lmsbridge.db import tables as t
from lmsbridge.db.bulk import among, insert_rows, try_insert_new, update_rows
from lmsbridge.ids import derived_id
from lmsbridge.records.registry import TABLES


@dataclass
class Counts:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0

    def add(self, other: Counts) -> None:
        self.added += other.added
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.deleted += other.deleted

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.deleted)

    def as_dict(self) -> dict[str, int]:
        return {
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "deleted": self.deleted,
        }


def data_hash(fields: dict[str, Any]) -> str:
    return hashlib.blake2b(orjson.dumps(fields, option=orjson.OPT_SORT_KEYS), digest_size=16).hexdigest()


def _chunks(items: Sequence[Any], size: int = 500) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# The ids records refer to (a progression's user, revision and course, a course's provider and
# skills) recur from one record to the next: derived once, then remembered. Bounded, so a sync
# of any size holds at most this many.
_referenced_id = lru_cache(maxsize=1 << 16)(derived_id)


@dataclass
class Prepared:
    """A batch of flat records as rows with their data hashes: all a write needs that neither the
    store nor the stamp decides, so a sync builds it before its write transaction begins."""

    rows: list[dict[str, Any]]
    digests: list[str]

    def extend(self, other: Prepared) -> None:
        self.rows.extend(other.rows)
        self.digests.extend(other.digests)

    def __len__(self) -> int:
        return len(self.rows)


class RowMaker:
    """The rows of one integration's records: derived ids and the fields stored."""

    def __init__(self, integration_id: str) -> None:
        self.integration_id = integration_id

    def id_of(self, model: str, remote_id: str) -> str:
        return _referenced_id(self.integration_id, model, remote_id)

    def _own_id(self, model: str, remote_id: str) -> str:
        # Each record's own id comes once per sync: not worth a place in the cache.
        return derived_id(self.integration_id, model, remote_id)

    def prepare(self, model: str, records: Sequence[Record]) -> Prepared:
        """The rows of flat records (not courses, which are written with their revisions)."""
        rows: list[dict[str, Any]] = []
        digests: list[str] = []
        for record in records:
            row, digest = self._row(model, record)
            rows.append(row)
            digests.append(digest)
        return Prepared(rows, digests)

    def _row(self, model: str, record: Record) -> tuple[dict[str, Any], str]:
        """The record's row and the hash of its own fields (every column but the id)."""
        fields: dict[str, Any]
        if isinstance(record, ProgressionRecord):
            fields = {
                "user_id": self.id_of("lms_users", record.user_remote_id),
                "course_revision_id": self.id_of("lms_course_revisions", record.revision_remote_id),
                "course_id": self.id_of("lms_courses", record.course_remote_id)
                if record.course_remote_id
                else None,
                "user_remote_id": record.user_remote_id,
                "revision_remote_id": record.revision_remote_id,
                "course_remote_id": record.course_remote_id,
                "status": record.status,
                "enrolled_at": record.enrolled_at,
                "completed_at": record.completed_at,
            }
        elif isinstance(record, UserRecord):
            fields = {
                "first_name": record.first_name,
                "last_name": record.last_name,
                "work_email": record.work_email,
                "work_email_lower": record.work_email.lower() if record.work_email else None,
                "status": record.status,
                "custom_fields": record.custom_fields,
                "integration_fields": [
                    {"key": f.key, "type": f.type, "label": f.label} for f in record.integration_fields
                ]
                or None,
            }
        elif isinstance(record, ProviderRecord | SkillRecord):
            fields = {"name": record.name}
        elif isinstance(record, HrisSkillRecord):
            fields = {
                "name": record.name,
                "description": record.description,
                "ordered_levels": list(record.ordered_levels) if record.ordered_levels is not None else None,
            }
        else:  # pragma: no cover - courses go through courses()
            raise TypeError(f"unexpected record {type(record).__name__} for {model}")
        fields["remote_data"] = record.remote_data
        if not isinstance(record, ProgressionRecord | HrisSkillRecord):
            fields["remote_created_at"] = record.remote_created_at
        fields["remote_id"] = record.remote_id
        digest = data_hash(fields)
        fields["id"] = self._own_id(model, record.remote_id)
        return fields, digest


class RecordWriter(RowMaker):
    """Upserts one page of records of one integration inside the caller's write transaction,
    which holds the stamp `stamp` (see stamps.py).

    `new_models` names models of which the integration had no record when the caller looked
    (a first sync): their records are inserted without looking each up first. A record that
    exists after all (a bulk task wrote it since) makes that batch take the usual path."""

    def __init__(
        self,
        conn: Connection,
        integration_id: str,
        stamp: datetime,
        *,
        new_models: Collection[str] = (),
    ) -> None:
        super().__init__(integration_id)
        self.conn = conn
        self.stamp = stamp
        self.new_models = frozenset(new_models)

    def write(
        self, model: str, records: Sequence[Record], prepared: Prepared | None = None
    ) -> tuple[Counts, list[str]]:
        """Returns the counts and the ids of the records written (seen). `prepared`: the records'
        rows, when the caller built them already (`RowMaker.prepare`)."""
        if model == "lms_courses":
            return self.courses(records)  # type: ignore[arg-type]
        if prepared is None:
            prepared = self.prepare(model, records)
        rows = prepared.rows
        counts = self._upsert(TABLES[model], rows, new=model in self.new_models, digests=prepared.digests)
        return counts, [row["id"] for row in rows]

    def _upsert(
        self,
        table: Table,
        rows: list[dict[str, Any]],
        *,
        extra_fresh: frozenset[str] | set[str] = frozenset(),
        new: bool = False,
        digests: Sequence[str] | None = None,
    ) -> Counts:
        """Insert new rows, rewrite changed ones, leave the rest. `extra_fresh` names rows to stamp
        even when their own fields did not change (a course whose revisions changed); `new`: the
        rows are expected not to exist (inserted without a lookup while that holds); `digests`: the
        rows' data hashes when the caller has them (of the own fields: without a revision's
        skill_ids, which are written but hashed apart)."""
        counts = Counts()
        if not rows:
            return counts
        if digests is None:
            digests = [data_hash({k: v for k, v in row.items() if k != "id"}) for row in rows]
        if new:
            fresh = [self._new_row(row, digest) for row, digest in zip(rows, digests, strict=True)]
            if try_insert_new(self.conn, table, fresh):
                counts.added += len(fresh)
                return counts
        existing: dict[str, tuple[str, datetime | None]] = {}
        for chunk in _chunks([row["id"] for row in rows]):
            existing.update(
                (r.id, (r.data_hash, r.remote_deleted_at))
                for r in self.conn.execute(
                    select(table.c.id, table.c.data_hash, table.c.remote_deleted_at).where(
                        among(self.conn, table.c.id, chunk)
                    )
                )
            )
        inserts, updates, touches = [], [], []
        for row, digest in zip(rows, digests, strict=True):
            found = existing.get(row["id"])
            if found is None:
                inserts.append(self._new_row(row, digest))
            elif found[0] != digest or found[1] is not None:
                updates.append({**row, "data_hash": digest})
            elif row["id"] in extra_fresh:
                touches.append(row["id"])
            else:
                counts.unchanged += 1
        if inserts:
            insert_rows(self.conn, table, inserts)  # looked up under the stamp lock: they are new
        if updates:
            fixed = {
                "changed_at": self.stamp,
                "updated_stamp": self.stamp,
                "remote_deleted_at": None,
                "anonymised_at": None,
            }
            update_rows(self.conn, table, updates, fixed)
        if touches:
            self.conn.execute(update(table).where(table.c.id.in_(touches)).values(updated_stamp=self.stamp))
        counts.added += len(inserts)
        counts.updated += len(updates) + len(touches)
        return counts

    def _new_row(self, row: dict[str, Any], digest: str) -> dict[str, Any]:
        return {
            **row,
            "integration_id": self.integration_id,
            "data_hash": digest,
            "changed_at": self.stamp,
            "updated_stamp": self.stamp,
            "remote_deleted_at": None,
        }

    # -- courses, with their revisions -----------------------------------------------------------
    def courses(self, records: Sequence[CourseRecord]) -> tuple[Counts, list[str]]:
        revisions: list[dict[str, Any]] = []
        skill_ids: dict[str, list[str]] = {}
        course_rows: list[dict[str, Any]] = []
        for record in records:
            course_id = self.id_of("lms_courses", record.remote_id)
            course_rows.append(
                {
                    "id": course_id,
                    "remote_id": record.remote_id,
                    "provider_id": self.id_of("lms_course_providers", record.provider_remote_id)
                    if record.provider_remote_id
                    else None,
                    "origin_id": record.origin_id,
                    "remote_created_at": record.remote_created_at,
                    "remote_data": record.remote_data,
                }
            )
            for revision in record.revisions:
                revision_id = self.id_of("lms_course_revisions", revision.remote_id)
                revisions.append(
                    {
                        "id": revision_id,
                        "remote_id": revision.remote_id,
                        "course_id": course_id,
                        "title": revision.title,
                        "description": revision.description,
                        "remote_url": revision.remote_url,
                        "status": revision.status,
                        "remote_created_at": revision.remote_created_at,
                        "remote_data": revision.remote_data,
                    }
                )
                skill_ids[revision_id] = sorted(
                    self.id_of("lms_skills", s) for s in revision.skill_remote_ids
                )
        new = "lms_courses" in self.new_models
        moved = self._write_revisions([row["id"] for row in course_rows], revisions, skill_ids, new=new)
        counts = self._upsert(t.lms_courses, course_rows, extra_fresh=moved, new=new)
        return counts, [row["id"] for row in course_rows]

    def _write_revisions(
        self,
        course_ids: list[str],
        rows: list[dict[str, Any]],
        skill_ids: dict[str, list[str]],
        *,
        new: bool = False,
    ) -> set[str]:
        """Upsert revisions, mark the ones that vanished from their course deleted; returns the
        ids of courses whose revisions were added, removed or changed."""
        table = t.lms_course_revisions
        before = {
            r.id: (r.course_id, r.data_hash, r.remote_deleted_at, r.skill_ids)
            for r in self.conn.execute(
                select(
                    table.c.id,
                    table.c.course_id,
                    table.c.data_hash,
                    table.c.remote_deleted_at,
                    table.c.skill_ids,
                ).where(among(self.conn, table.c.course_id, course_ids))
            )
        }
        # skill_ids are not part of a revision's own fields: assignments move no stamp.
        digests = [data_hash({k: v for k, v in row.items() if k != "id"}) for row in rows]
        moved: set[str] = set()
        for row, digest in zip(rows, digests, strict=True):
            found = before.get(row["id"])
            if found is None or found[1] != digest or found[2] is not None:
                moved.add(row["course_id"])
        self._upsert(
            table,
            [{**row, "skill_ids": skill_ids[row["id"]]} for row in rows],
            new=new and not before,
            digests=digests,
        )
        # A revision not among its course's before was inserted or rewritten with its skills.
        changed_skills = [
            {"s_id": row["id"], "s_skill_ids": skill_ids[row["id"]]}
            for row in rows
            if row["id"] in before and before[row["id"]][3] != skill_ids[row["id"]]
        ]
        if changed_skills:
            self.conn.execute(
                update(table)
                .where(table.c.id == bindparam("s_id"))
                .values(skill_ids=bindparam("s_skill_ids")),
                changed_skills,
            )
        present = {row["id"] for row in rows}
        gone = [rid for rid, (_, _, deleted, _) in before.items() if rid not in present and deleted is None]
        if gone:
            self.conn.execute(
                update(table)
                .where(table.c.id.in_(gone))
                .values(remote_deleted_at=self.stamp, changed_at=self.stamp, updated_stamp=self.stamp)
            )
            moved.update(before[rid][0] for rid in gone)
        return moved

    # -- deletions -------------------------------------------------------------------------------
    def mark_deleted(self, model: str, ids: Sequence[str], sync_started: datetime) -> int:
        """Mark records deleted, except any written since the sync began (a bulk task's course,
        say): their absence from the sync's pages proves nothing."""
        table = TABLES[model]
        marked = 0
        for chunk in _chunks(list(ids)):
            result = self.conn.execute(
                update(table)
                .where(
                    table.c.id.in_(chunk),
                    table.c.remote_deleted_at.is_(None),
                    table.c.updated_stamp < sync_started,
                )
                .values(remote_deleted_at=self.stamp, changed_at=self.stamp, updated_stamp=self.stamp)
            )
            marked += int(result.rowcount or 0)
            if model == "lms_courses":
                # Only the revisions of the courses just marked: a spared course keeps its revisions.
                revisions = t.lms_course_revisions
                marked_courses = select(table.c.id).where(
                    table.c.id.in_(chunk), table.c.remote_deleted_at.is_not(None)
                )
                self.conn.execute(
                    update(revisions)
                    .where(revisions.c.course_id.in_(marked_courses), revisions.c.remote_deleted_at.is_(None))
                    .values(remote_deleted_at=self.stamp, changed_at=self.stamp, updated_stamp=self.stamp)
                )
        return marked
