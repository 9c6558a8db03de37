"""Blanks records 14 days (configurable) after a sync found them deleted: every field but the
ids and timestamps becomes null, as Kombo's deletion policy does."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from lmsbridge.clock import utc_now
from lmsbridge.config import Settings
from lmsbridge.db import Store
from lmsbridge.db import tables as t

BLANKED = {
    "lms_users": ("first_name", "last_name", "work_email", "work_email_lower", "status", "remote_data"),
    "lms_course_providers": ("name", "remote_data"),
    "lms_skills": ("name", "remote_data"),
    "lms_courses": ("origin_id", "remote_data"),
    "lms_course_revisions": ("title", "description", "remote_url", "status", "remote_data"),
    "lms_course_progressions": ("status", "enrolled_at", "completed_at", "remote_data"),
    "hris_skills": ("name", "description", "ordered_levels", "remote_data"),
}


def anonymise_deleted(store: Store, settings: Settings) -> int:
    """Blank what was deleted long enough ago; returns how many records were blanked."""
    cutoff = utc_now() - timedelta(seconds=settings.anonymise_after_seconds)
    blanked = 0
    with store.write() as conn:
        for name, columns in BLANKED.items():
            table = t.metadata.tables[name]
            result = conn.execute(
                update(table)
                .where(table.c.remote_deleted_at < cutoff, table.c.anonymised_at.is_(None))
                .values({**dict.fromkeys(columns), "anonymised_at": utc_now()})
            )
            blanked += int(result.rowcount or 0)
    return blanked
