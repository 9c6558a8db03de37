"""Anonymisation: a record a sync found deleted is blanked once it has been deleted longer than
`anonymise_after_seconds` (14 days by default); ids and the deletion time stay, and the blanking is
stamped like any change, so a client polling with `updated_after` hears of it."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from lmsbridge.clock import utc_now
from lmsbridge.records.anonymiser import anonymise_deleted
from lmsbridge.records.registry import BLANKED, TABLES
from lmsbridge.sandbox.repository import SandboxStateRepository
from tests.conftest import Server
from tests.syncs.helpers import sandbox_remove, stored, sync, synced_tenant

KEPT = ("id", "integration_id", "remote_id", "remote_created_at", "remote_deleted_at")
RETENTION = 3600.0


def deleted_long_ago(
    server: Server, integration: str, model: str, *remote_ids: str, seconds: float = 2 * RETENTION
) -> None:
    """Backdate the deletion of records a sync marked deleted."""
    table = TABLES[model]
    with server.store.write() as conn:
        result = conn.execute(
            update(table)
            .where(
                table.c.integration_id == integration,
                table.c.remote_id.in_(remote_ids),
                table.c.remote_deleted_at.is_not(None),
            )
            .values(remote_deleted_at=utc_now() - timedelta(seconds=seconds))
        )
    assert result.rowcount == len(remote_ids)


def test_records_deleted_longer_than_the_retention_are_blanked_but_keep_their_ids(live: Server) -> None:
    tenant = synced_tenant(live)
    integration = tenant.integration
    sandbox_remove(live, integration, "lms_users", "user-1", "user-2")
    sandbox_remove(live, integration, "lms_courses", "course-5")
    sandbox_remove(live, integration, "lms_course_progressions", "prog-4")
    assert sync(live, tenant).state == "SUCCEEDED"
    deleted_long_ago(live, integration, "lms_users", "user-1")
    deleted_long_ago(live, integration, "lms_courses", "course-5")
    deleted_long_ago(live, integration, "lms_course_revisions", "course-5-r1", "course-5-r2")
    deleted_long_ago(live, integration, "lms_course_progressions", "prog-4")
    before = {model: stored(live, model, integration) for model in TABLES}
    settings = live.settings.model_copy(update={"anonymise_after_seconds": RETENTION})

    assert anonymise_deleted(live.store, settings) == 1 + 1 + 2 + 1

    blanked = {
        ("lms_users", "user-1"),
        ("lms_courses", "course-5"),
        ("lms_course_revisions", "course-5-r1"),
        ("lms_course_revisions", "course-5-r2"),
        ("lms_course_progressions", "prog-4"),
    }
    for model, rows in before.items():
        after = stored(live, model, integration)
        for remote_id, old in rows.items():
            new = after[remote_id]
            if (model, remote_id) in blanked:
                assert new.anonymised_at is not None
                for column in BLANKED[model]:
                    assert getattr(new, column) is None, (model, remote_id, column)
                for column in KEPT:
                    assert getattr(new, column) == getattr(old, column), (model, remote_id, column)
                assert new.changed_at > old.changed_at, (model, remote_id)
                assert new.updated_stamp > old.updated_stamp, (model, remote_id)
            else:
                assert new._mapping == old._mapping, (model, remote_id)  # user-2: deleted recently
    assert before["lms_users"]["user-1"].last_name is not None
    assert stored(live, "lms_users", integration)["user-2"].remote_deleted_at is not None


def test_anonymising_again_blanks_nothing_more(live: Server) -> None:
    tenant = synced_tenant(live)
    sandbox_remove(live, tenant.integration, "lms_users", "user-1")
    sync(live, tenant)
    deleted_long_ago(live, tenant.integration, "lms_users", "user-1")
    settings = live.settings.model_copy(update={"anonymise_after_seconds": RETENTION})

    assert anonymise_deleted(live.store, settings) == 1
    first = stored(live, "lms_users", tenant.integration)["user-1"]
    assert anonymise_deleted(live.store, settings) == 0
    assert stored(live, "lms_users", tenant.integration)["user-1"]._mapping == first._mapping


def test_the_default_retention_of_fourteen_days_spares_a_record_deleted_a_day_ago(live: Server) -> None:
    tenant = synced_tenant(live)
    sandbox_remove(live, tenant.integration, "lms_users", "user-1")
    sync(live, tenant)
    user = stored(live, "lms_users", tenant.integration)["user-1"]
    deleted_long_ago(live, tenant.integration, "lms_users", "user-1", seconds=86400)

    assert live.settings.anonymise_after_seconds == 14 * 86400
    assert anonymise_deleted(live.store, live.settings) == 0
    assert stored(live, "lms_users", tenant.integration)["user-1"].last_name == user.last_name


def test_a_blanked_record_that_reappears_in_the_sandbox_is_filled_in_again(live: Server) -> None:
    tenant = synced_tenant(live)
    sandbox = SandboxStateRepository(live.store)
    data = sandbox.get(tenant.integration, "lms_users", "user-6")
    assert data is not None
    sandbox_remove(live, tenant.integration, "lms_users", "user-6")
    sync(live, tenant)
    user = stored(live, "lms_users", tenant.integration)["user-6"]
    deleted_long_ago(live, tenant.integration, "lms_users", "user-6")
    anonymise_deleted(live.store, live.settings.model_copy(update={"anonymise_after_seconds": RETENTION}))
    assert stored(live, "lms_users", tenant.integration)["user-6"].last_name is None

    sandbox.put(tenant.integration, "lms_users", "user-6", data)
    sync(live, tenant)

    back = stored(live, "lms_users", tenant.integration)["user-6"]
    assert (back.id, back.last_name, back.work_email) == (user.id, user.last_name, user.work_email)
    assert back.remote_deleted_at is None and back.anonymised_at is None
