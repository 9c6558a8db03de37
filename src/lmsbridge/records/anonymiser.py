"""Blanks records 14 days (configurable) after a sync found them deleted: every field but the
ids and timestamps becomes null, as Kombo's deletion policy does. Blanking is a change like any
other: it is stamped, so a client polling with `updated_after` and `include_deleted` hears of it."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from lmsbridge.clock import utc_now
from lmsbridge.config import Settings
from lmsbridge.db import Store
from lmsbridge.records.registry import BLANKED, TABLES
from lmsbridge.records.stamps import take_stamp


def anonymise_deleted(store: Store, settings: Settings) -> int:
    """Blank what was deleted long enough ago; returns how many records were blanked."""
    cutoff = utc_now() - timedelta(seconds=settings.anonymise_after_seconds)
    blanked = 0
    for name, columns in BLANKED.items():
        table = TABLES[name]
        due = (table.c.remote_deleted_at < cutoff, table.c.anonymised_at.is_(None))
        with store.read() as conn:
            integration_ids = list(conn.scalars(select(table.c.integration_id).where(*due).distinct()))
        for integration_id in integration_ids:
            with store.write() as conn:
                stamp = take_stamp(conn, integration_id)
                result = conn.execute(
                    update(table)
                    .where(table.c.integration_id == integration_id, *due)
                    .values(
                        {
                            **dict.fromkeys(columns),
                            "anonymised_at": stamp,
                            "changed_at": stamp,
                            "updated_stamp": stamp,
                        }
                    )
                )
                blanked += int(result.rowcount or 0)
    return blanked
