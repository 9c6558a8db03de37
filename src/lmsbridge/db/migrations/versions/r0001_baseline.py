"""Baseline: the schema of lmsbridge 0.1.0 (its migrations 1-4), table by table, and the cursor key.

A store made by 0.1.0 already has all of this: it is stamped at this revision, not run through it.

Revision ID: 0001
Revises: (none)
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision: str | None = None
branch_labels = None
depends_on = None

# Frozen types: a revision never imports the live tables, so it keeps meaning what it meant.
ID = sa.String(24)
INTEGRATION_ID = sa.String(80)
TIME = sa.DateTime(timezone=True)
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _record_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("id", ID, primary_key=True),
        sa.Column("integration_id", INTEGRATION_ID, nullable=False),
        sa.Column("remote_id", sa.Text(), nullable=False),
        sa.Column("remote_created_at", TIME),
        sa.Column("remote_deleted_at", TIME),
        sa.Column("changed_at", TIME, nullable=False),
        sa.Column("updated_stamp", TIME, nullable=False),
        sa.Column("remote_data", sa.JSON()),
        sa.Column("data_hash", sa.String(32), nullable=False),
        sa.Column("anonymised_at", TIME),
    ]


def _foundation() -> None:
    """0.1.0's migration 1: environments, keys, integrations, tasks, jobs, interactions, sandbox."""
    op.create_table(
        "environments",
        sa.Column("id", ID, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("created_at", TIME, nullable=False),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", ID, primary_key=True),
        sa.Column("environment_id", ID, sa.ForeignKey("environments.id"), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("key_prefix", sa.String(16), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("revoked_at", TIME),
    )
    op.create_table(
        "integrations",
        sa.Column("id", INTEGRATION_ID, primary_key=True),
        sa.Column("environment_id", ID, sa.ForeignKey("environments.id"), nullable=False),
        sa.Column("tool", sa.String(40), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("credentials", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
    )
    op.create_table(
        "tasks",
        sa.Column("id", ID, primary_key=True),
        sa.Column("environment_id", ID, nullable=False),
        sa.Column("integration_id", INTEGRATION_ID, sa.ForeignKey("integrations.id"), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("succeeded", sa.Integer(), nullable=False, server_default=sa.text("0")),
        sa.Column("failed", sa.Integer(), nullable=False, server_default=sa.text("0")),
        sa.Column("error_code", sa.String(80)),
        sa.Column("error_message", sa.Text()),
        sa.Column("body_hash", sa.String(64), nullable=False),
        sa.Column("idempotency_key", sa.String(255)),
        sa.Column("public_url", sa.Text(), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("deadline_at", TIME, nullable=False),
        sa.Column("completed_at", TIME),
    )
    op.create_index("ix_tasks_integration_created", "tasks", ["integration_id", "created_at"])
    op.create_table(
        "task_items",
        sa.Column("task_id", ID, sa.ForeignKey("tasks.id"), primary_key=True),
        sa.Column("position", sa.Integer(), primary_key=True),
        sa.Column("origin_id", sa.Text(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16)),
        sa.Column("result_id", ID),
        sa.Column("remote_id", sa.Text()),
        sa.Column("error_code", sa.String(80)),
        sa.Column("error_message", sa.Text()),
        sa.Column("finished_at", TIME),
    )
    op.create_table(
        "task_idempotency",
        sa.Column("integration_id", INTEGRATION_ID, primary_key=True),
        sa.Column("kind", sa.String(40), primary_key=True),
        sa.Column("scope", sa.String(300), primary_key=True),
        sa.Column("task_id", ID, nullable=False),
        sa.Column("body_hash", sa.String(64), nullable=False),
        sa.Column("expires_at", TIME, nullable=False),
    )
    op.create_table(
        "jobs",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("queue", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(80), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False, server_default=sa.text("0")),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default=sa.text("0")),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("run_after", TIME, nullable=False),
        sa.Column("locked_by", sa.String(80)),
        sa.Column("locked_until", TIME),
        sa.Column("last_error", sa.Text()),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("finished_at", TIME),
    )
    op.create_index("ix_jobs_claim", "jobs", ["queue", "state", "priority", "run_after"])
    op.create_table(
        "interactions",
        sa.Column("id", ID, primary_key=True),
        sa.Column("environment_id", ID),
        sa.Column("integration_id", INTEGRATION_ID),
        sa.Column("method", sa.String(10), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("query", sa.Text(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("request_headers", sa.JSON(), nullable=False),
        sa.Column("request_body", sa.Text()),
        sa.Column("response_body", sa.Text()),
        sa.Column("error_code", sa.String(80)),
        sa.Column("created_at", TIME, nullable=False),
    )
    op.create_table(
        "sandbox_courses",
        sa.Column("integration_id", INTEGRATION_ID, primary_key=True),
        sa.Column("origin_id", sa.Text(), primary_key=True),
        sa.Column("remote_id", sa.String(40), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("updated_at", TIME, nullable=False),
    )
    op.create_table(
        "sandbox_skills",
        sa.Column("integration_id", INTEGRATION_ID, primary_key=True),
        sa.Column("origin_id", sa.Text(), primary_key=True),
        sa.Column("remote_id", sa.String(40), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("updated_at", TIME, nullable=False),
    )


def _records_and_syncs() -> None:
    """0.1.0's migration 2: synced records, sync runs, the events outbox, sandbox records, settings."""
    op.create_table(
        "lms_users",
        *_record_columns(),
        sa.Column("first_name", sa.Text()),
        sa.Column("last_name", sa.Text()),
        sa.Column("work_email", sa.Text()),
        sa.Column("work_email_lower", sa.Text()),
        sa.Column("status", sa.String(16)),
    )
    op.create_index("ix_lms_users_page", "lms_users", ["integration_id", "id"])
    op.create_index("ix_lms_users_updated", "lms_users", ["integration_id", "updated_stamp"])
    op.create_index("ix_lms_users_email", "lms_users", ["integration_id", "work_email_lower"])
    op.create_index("ix_lms_users_remote", "lms_users", ["integration_id", "remote_id"])

    op.create_table("lms_course_providers", *_record_columns(), sa.Column("name", sa.Text()))
    op.create_index("ix_lms_course_providers_page", "lms_course_providers", ["integration_id", "id"])

    op.create_table(
        "lms_courses",
        *_record_columns(),
        sa.Column("provider_id", ID),
        sa.Column("origin_id", sa.Text()),
    )
    op.create_index("ix_lms_courses_page", "lms_courses", ["integration_id", "id"])
    op.create_index("ix_lms_courses_updated", "lms_courses", ["integration_id", "updated_stamp"])
    op.create_index("ix_lms_courses_remote", "lms_courses", ["integration_id", "remote_id"])

    op.create_table(
        "lms_course_revisions",
        *_record_columns(),
        sa.Column("course_id", ID, nullable=False),
        sa.Column("title", sa.Text()),
        sa.Column("description", sa.Text()),
        sa.Column("remote_url", sa.Text()),
        sa.Column("status", sa.String(16)),
        sa.Column("skill_ids", sa.JSON()),
    )
    op.create_index("ix_lms_course_revisions_course", "lms_course_revisions", ["course_id"])
    op.create_index("ix_lms_course_revisions_remote", "lms_course_revisions", ["integration_id", "remote_id"])

    op.create_table("lms_skills", *_record_columns(), sa.Column("name", sa.Text()))
    op.create_index("ix_lms_skills_page", "lms_skills", ["integration_id", "id"])
    op.create_index("ix_lms_skills_updated", "lms_skills", ["integration_id", "updated_stamp"])
    op.create_index("ix_lms_skills_remote", "lms_skills", ["integration_id", "remote_id"])

    op.create_table(
        "lms_course_progressions",
        *_record_columns(),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("course_revision_id", ID, nullable=False),
        sa.Column("course_id", ID),
        sa.Column("user_remote_id", sa.Text(), nullable=False),
        sa.Column("revision_remote_id", sa.Text(), nullable=False),
        sa.Column("course_remote_id", sa.Text()),
        sa.Column("status", sa.String(16)),
        sa.Column("enrolled_at", TIME),
        sa.Column("completed_at", TIME),
    )
    op.create_index("ix_lms_progressions_page", "lms_course_progressions", ["integration_id", "id"])
    op.create_index(
        "ix_lms_progressions_updated", "lms_course_progressions", ["integration_id", "updated_stamp"]
    )
    op.create_index(
        "ix_lms_progressions_user", "lms_course_progressions", ["integration_id", "user_id", "id"]
    )
    op.create_index(
        "ix_lms_progressions_course", "lms_course_progressions", ["integration_id", "course_id", "id"]
    )
    op.create_index("ix_lms_progressions_remote", "lms_course_progressions", ["integration_id", "remote_id"])

    op.create_table(
        "hris_skills",
        *_record_columns(),
        sa.Column("name", sa.Text()),
        sa.Column("description", sa.Text()),
        sa.Column("ordered_levels", sa.JSON()),
    )
    op.create_index("ix_hris_skills_page", "hris_skills", ["integration_id", "id"])
    op.create_index("ix_hris_skills_remote", "hris_skills", ["integration_id", "remote_id"])

    op.create_table(
        "sync_runs",
        sa.Column("id", ID, primary_key=True),
        sa.Column("integration_id", INTEGRATION_ID, sa.ForeignKey("integrations.id"), nullable=False),
        sa.Column("type", sa.String(8), nullable=False),
        sa.Column("state", sa.String(24), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text()),
        sa.Column("public_url", sa.Text(), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("started_at", TIME),
        sa.Column("ended_at", TIME),
    )
    active = sa.text("state IN ('QUEUED', 'RUNNING')")
    op.create_index(
        "ux_sync_runs_one_active",
        "sync_runs",
        ["integration_id"],
        unique=True,
        sqlite_where=active,
        postgresql_where=active,
    )
    op.create_index("ix_sync_runs_integration", "sync_runs", ["integration_id", "created_at"])

    op.create_table(
        "events",
        sa.Column("id", ID, primary_key=True),
        sa.Column("environment_id", ID, nullable=False),
        sa.Column("integration_id", INTEGRATION_ID),
        sa.Column("type", sa.String(40), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
    )
    op.create_index("ix_events_created", "events", ["created_at"])

    op.create_table(
        "integration_sync_state",
        sa.Column("integration_id", INTEGRATION_ID, sa.ForeignKey("integrations.id"), primary_key=True),
        sa.Column("first_synced_at", TIME),
        sa.Column("last_full_started_at", TIME),
        sa.Column("last_delta_started_at", TIME),
        sa.Column("delta_cursor", TIME),
    )

    op.create_table(
        "sandbox_records",
        sa.Column("integration_id", INTEGRATION_ID, primary_key=True),
        sa.Column("model", sa.String(24), primary_key=True),
        sa.Column("remote_id", sa.String(40), primary_key=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("updated_at", TIME, nullable=False),
    )
    op.create_index(
        "ix_sandbox_records_updated", "sandbox_records", ["integration_id", "model", "updated_at"]
    )

    settings = op.create_table(
        "instance_settings",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
    )
    # Signs list cursors; one per store, so every API process accepts every other's cursors.
    op.bulk_insert(settings, [{"name": "cursor_key", "value": secrets.token_hex(32)}])


def _remote_pacing() -> None:
    """0.1.0's migration 3: a token bucket per integration."""
    op.create_table(
        "remote_pacing",
        sa.Column("pace_key", sa.String(80), primary_key=True),
        sa.Column("tokens", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.Column("blocked_until", sa.Float(), nullable=False, server_default=sa.text("0")),
        sa.Column("slowdown", sa.Float(), nullable=False, server_default=sa.text("1")),
    )


def _webhooks() -> None:
    """0.1.0's migration 4: endpoints, callback secrets, task callbacks, fan-outs, deliveries, attempts."""
    op.create_table(
        "webhook_endpoints",
        sa.Column("id", ID, primary_key=True),
        sa.Column("environment_id", ID, sa.ForeignKey("environments.id"), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("secret", sa.Text(), nullable=False),
        sa.Column("events", sa.JSON()),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("disabled_at", TIME),
    )
    op.create_index("ix_webhook_endpoints_environment", "webhook_endpoints", ["environment_id"])
    op.create_table(
        "webhook_callback_secrets",
        sa.Column("environment_id", ID, sa.ForeignKey("environments.id"), primary_key=True),
        sa.Column("secret", sa.Text(), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
    )
    op.create_table(
        "task_callbacks",
        sa.Column("task_id", ID, sa.ForeignKey("tasks.id"), primary_key=True),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
    )
    op.create_table(
        "webhook_fanouts",
        sa.Column("event_id", ID, primary_key=True),
        sa.Column("created_at", TIME, nullable=False),
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", ID, primary_key=True),
        sa.Column("event_id", ID, nullable=False),
        sa.Column("endpoint_id", ID, nullable=False),
        sa.Column("environment_id", ID, nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default=sa.text("0")),
        sa.Column("next_attempt_at", TIME),
        sa.Column("last_status", sa.Integer()),
        sa.Column("last_error", sa.Text()),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("delivered_at", TIME),
        sa.UniqueConstraint("event_id", "endpoint_id", name="ux_webhook_deliveries_event_endpoint"),
    )
    op.create_index("ix_webhook_deliveries_endpoint", "webhook_deliveries", ["endpoint_id", "created_at"])
    op.create_table(
        "webhook_attempts",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("delivery_id", ID, nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("started_at", TIME, nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("status_code", sa.Integer()),
        sa.Column("error", sa.Text()),
    )
    op.create_index("ix_webhook_attempts_delivery", "webhook_attempts", ["delivery_id", "id"])


def upgrade() -> None:
    _foundation()
    _records_and_syncs()
    _remote_pacing()
    _webhooks()


def downgrade() -> None:
    raise NotImplementedError("migrations are forward-only")
