"""Every table of the store, as SQLAlchemy Core metadata: what the code queries. The Alembic revisions
in `migrations/versions/` create and change the tables with their own explicit DDL; a test checks that
the newest revision's schema equals this metadata (see `migrations/__init__.py` to add a revision)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from lmsbridge.db.types import UTCDateTime

metadata = MetaData()

environments = Table(
    "environments",
    metadata,
    Column("id", String(24), primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(24), primary_key=True),
    Column("environment_id", String(24), ForeignKey("environments.id"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("key_prefix", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime),
)

integrations = Table(
    "integrations",
    metadata,
    Column("id", String(80), primary_key=True),
    Column("environment_id", String(24), ForeignKey("environments.id"), nullable=False),
    Column("tool", String(40), nullable=False),
    Column("name", String(200), nullable=False),
    Column("settings", JSON, nullable=False),
    Column("credentials", Text, nullable=False, doc="Fernet token of the credentials' JSON."),
    # ACTIVE | INVALID (the remote rejected the credentials) | INACTIVE (paused)
    Column("status", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    # Revision 0012: the end user of the connection link (organization_name, creator_email, origin_id),
    # and when settings or credentials last changed (a task FAILED before that is not reused).
    Column("end_user", JSON),
    Column("updated_at", UTCDateTime),
)

tasks = Table(
    "tasks",
    metadata,
    Column("id", String(24), primary_key=True),
    Column("environment_id", String(24), nullable=False),
    Column("integration_id", String(80), ForeignKey("integrations.id"), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("status", String(16), nullable=False),
    Column("total", Integer, nullable=False),
    Column("succeeded", Integer, nullable=False, server_default=text("0")),
    Column("failed", Integer, nullable=False, server_default=text("0")),
    Column("error_code", String(80)),
    Column("error_message", Text),
    Column("body_hash", String(64), nullable=False),
    Column("idempotency_key", String(255)),
    Column("public_url", Text, nullable=False, doc="Base of the log_url links of this task."),
    Column("created_at", UTCDateTime, nullable=False),
    Column("deadline_at", UTCDateTime, nullable=False),
    Column("completed_at", UTCDateTime),
    Index("ix_tasks_integration_created", "integration_id", "created_at"),
)

task_items = Table(
    "task_items",
    metadata,
    Column("task_id", String(24), ForeignKey("tasks.id"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("origin_id", Text, nullable=False),
    Column("payload", JSON, nullable=False),
    Column("status", String(16), doc="NULL until the item has an outcome."),
    Column("result_id", String(24)),
    Column("remote_id", Text),
    Column("error_code", String(80)),
    Column("error_message", Text),
    Column("finished_at", UTCDateTime),
)

# One row per (integration, endpoint, scope): scope is "key:<Idempotency-Key>" or "body:<hash>".
task_idempotency = Table(
    "task_idempotency",
    metadata,
    Column("integration_id", String(80), primary_key=True),
    Column("kind", String(40), primary_key=True),
    Column("scope", String(300), primary_key=True),
    Column("task_id", String(24), nullable=False),
    Column("body_hash", String(64), nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
)

jobs = Table(
    "jobs",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("queue", String(40), nullable=False),
    Column("kind", String(80), nullable=False),
    Column("payload", JSON, nullable=False),
    # queued -> running -> succeeded | failed; running -> queued (released, or retried later)
    Column("state", String(16), nullable=False),
    Column("priority", Integer, nullable=False, server_default=text("0")),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("max_attempts", Integer, nullable=False),
    Column("run_after", UTCDateTime, nullable=False),
    Column("locked_by", String(80)),
    Column("locked_until", UTCDateTime),
    Column("last_error", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime),
    Index("ix_jobs_claim", "queue", "state", "priority", "run_after"),
)

interactions = Table(
    "interactions",
    metadata,
    Column("id", String(24), primary_key=True),
    Column("environment_id", String(24)),
    Column("integration_id", String(80)),
    Column("method", String(10), nullable=False),
    Column("path", Text, nullable=False),
    Column("query", Text, nullable=False),
    Column("status_code", Integer, nullable=False),
    Column("duration_ms", Integer, nullable=False),
    Column("request_headers", JSON, nullable=False),
    Column("request_body", Text),
    Column("response_body", Text),
    Column("error_code", String(80)),
    Column("created_at", UTCDateTime, nullable=False),
)

# The Sandbox LMS's own state: what a remote system would hold, kept in the same store.
sandbox_courses = Table(
    "sandbox_courses",
    metadata,
    Column("integration_id", String(80), primary_key=True),
    Column("origin_id", Text, primary_key=True),
    Column("remote_id", String(40), nullable=False),
    Column("data", JSON, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

sandbox_skills = Table(
    "sandbox_skills",
    metadata,
    Column("integration_id", String(80), primary_key=True),
    Column("origin_id", Text, primary_key=True),
    Column("remote_id", String(40), nullable=False),
    Column("data", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

# ---------------------------------------------------------------------------------------------
# Synced records (0.1.0's migration 2). Every record table has:
#   changed_at     when the record's own fields last changed (the wire's changed_at);
#   updated_stamp  when it or nested data that its endpoint's updated_after follows last changed;
#   data_hash      of the own fields, so an unchanged record is not written again.
# Stamps are taken under the integration's stamp lock (see records/stamps.py).


def _record_columns() -> list[Column[object]]:
    return [
        Column("id", String(24), primary_key=True),
        Column("integration_id", String(80), nullable=False),
        Column("remote_id", Text, nullable=False),
        Column("remote_created_at", UTCDateTime),
        Column("remote_deleted_at", UTCDateTime),
        Column("changed_at", UTCDateTime, nullable=False),
        Column("updated_stamp", UTCDateTime, nullable=False),
        Column("remote_data", JSON),
        Column("data_hash", String(32), nullable=False),
        Column("anonymised_at", UTCDateTime),
    ]


lms_users = Table(
    "lms_users",
    metadata,
    *_record_columns(),
    Column("first_name", Text),
    Column("last_name", Text),
    Column("work_email", Text),
    Column("work_email_lower", Text),
    Column("status", String(16)),
    Column("custom_fields", JSON),
    Column("integration_fields", JSON, doc="[{key, type, label}]; ids are derived when read"),
    Index("ix_lms_users_page", "integration_id", "id"),
    Index("ix_lms_users_updated", "integration_id", "updated_stamp"),
    Index("ix_lms_users_email", "integration_id", "work_email_lower"),
    Index("ix_lms_users_remote", "integration_id", "remote_id"),
)

lms_course_providers = Table(
    "lms_course_providers",
    metadata,
    *_record_columns(),
    Column("name", Text),
    Index("ix_lms_course_providers_page", "integration_id", "id"),
)

lms_courses = Table(
    "lms_courses",
    metadata,
    *_record_columns(),
    Column("provider_id", String(24)),
    Column("origin_id", Text),
    Index("ix_lms_courses_page", "integration_id", "id"),
    Index("ix_lms_courses_updated", "integration_id", "updated_stamp"),
    Index("ix_lms_courses_remote", "integration_id", "remote_id"),
)

lms_course_revisions = Table(
    "lms_course_revisions",
    metadata,
    *_record_columns(),
    Column("course_id", String(24), nullable=False),
    Column("title", Text),
    Column("description", Text),
    Column("remote_url", Text),
    Column("status", String(16)),
    Column("skill_ids", JSON, doc="Written apart from the own fields: assignments move no stamp."),
    Index("ix_lms_course_revisions_course", "course_id"),
    Index("ix_lms_course_revisions_remote", "integration_id", "remote_id"),
)

lms_skills = Table(
    "lms_skills",
    metadata,
    *_record_columns(),
    Column("name", Text),
    Index("ix_lms_skills_page", "integration_id", "id"),
    Index("ix_lms_skills_updated", "integration_id", "updated_stamp"),
    Index("ix_lms_skills_remote", "integration_id", "remote_id"),
)

lms_course_progressions = Table(
    "lms_course_progressions",
    metadata,
    *_record_columns(),
    Column("user_id", String(24), nullable=False),
    Column("course_revision_id", String(24), nullable=False),
    Column("course_id", String(24)),
    Column("user_remote_id", Text, nullable=False),
    Column("revision_remote_id", Text, nullable=False),
    Column("course_remote_id", Text),
    Column("status", String(16)),
    Column("enrolled_at", UTCDateTime),
    Column("completed_at", UTCDateTime),
    Index("ix_lms_progressions_page", "integration_id", "id"),
    Index("ix_lms_progressions_updated", "integration_id", "updated_stamp"),
    # A user or course id is derived from its integration: no integration prefix needed. No
    # remote-id index: a lookup by remote id is one by the derived id (revision 0021).
    Index("ix_lms_progressions_user", "user_id", "id"),
    Index("ix_lms_progressions_course", "course_id", "id"),
)

hris_skills = Table(
    "hris_skills",
    metadata,
    *_record_columns(),
    Column("name", Text),
    Column("description", Text),
    Column("ordered_levels", JSON),
    Index("ix_hris_skills_page", "integration_id", "id"),
    Index("ix_hris_skills_remote", "integration_id", "remote_id"),
)

sync_runs = Table(
    "sync_runs",
    metadata,
    Column("id", String(24), primary_key=True),
    Column("integration_id", String(80), ForeignKey("integrations.id"), nullable=False),
    Column("type", String(8), nullable=False),
    # QUEUED -> RUNNING -> SUCCEEDED | PARTIALLY_FAILED | FAILED | AUTHENTICATION_FAILED | TIMED_OUT
    Column("state", String(24), nullable=False),
    Column("counts", JSON, nullable=False),
    Column("error", Text),
    Column("public_url", Text, nullable=False, doc="Base of the run's log_url."),
    Column("held_deletions", JSON, doc="{model: [record ids]} the deletion guard held, until confirmed."),
    Column("created_at", UTCDateTime, nullable=False),
    Column("started_at", UTCDateTime),
    Column("ended_at", UTCDateTime),
    Index(
        "ux_sync_runs_one_active",
        "integration_id",
        unique=True,
        sqlite_where=text("state IN ('QUEUED', 'RUNNING')"),
        postgresql_where=text("state IN ('QUEUED', 'RUNNING')"),
    ),
    Index("ix_sync_runs_integration", "integration_id", "created_at"),
)

# The events outbox: written in the transaction that made the change; delivered later.
events = Table(
    "events",
    metadata,
    Column("id", String(24), primary_key=True),
    Column("environment_id", String(24), nullable=False),
    Column("integration_id", String(80)),
    Column("type", String(40), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_events_created", "created_at"),
)

integration_sync_state = Table(
    "integration_sync_state",
    metadata,
    Column("integration_id", String(80), ForeignKey("integrations.id"), primary_key=True),
    Column("first_synced_at", UTCDateTime),
    Column("last_full_started_at", UTCDateTime),
    Column("last_delta_started_at", UTCDateTime),
    Column("delta_cursor", UTCDateTime, doc="Remote changes from here on are read by the next delta."),
)

# The Sandbox LMS's generated records: users, providers, courses, skills, progressions, hris skills.
sandbox_records = Table(
    "sandbox_records",
    metadata,
    Column("integration_id", String(80), primary_key=True),
    Column("model", String(24), primary_key=True),
    Column("remote_id", String(40), primary_key=True),
    Column("data", JSON, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    # A delta pages changed records by (updated_at, remote_id) (revision 0022).
    Index("ix_sandbox_records_updated", "integration_id", "model", "updated_at", "remote_id"),
)

instance_settings = Table(
    "instance_settings",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

# One token bucket per integration that paces remote calls across every worker (connectors/pacing.py).
# Times are seconds since the epoch, as the workers' clocks (NTP-synchronised) give them.
remote_pacing = Table(
    "remote_pacing",
    metadata,
    Column("pace_key", String(80), primary_key=True),
    Column("tokens", Float, nullable=False, doc="may be negative: calls reserved ahead"),
    Column("updated_at", Float, nullable=False),
    Column("blocked_until", Float, nullable=False, server_default=text("0")),
    Column("slowdown", Float, nullable=False, server_default=text("1"), doc="share of the rate after 429s"),
)


# ---------------------------------------------------------------------------------------------
# Webhooks (0.1.0's migration 4): endpoints per environment, the events each was handed, one delivery per
# (event, endpoint) and one row per attempt. See webhooks/.

webhook_endpoints = Table(
    "webhook_endpoints",
    metadata,
    Column("id", String(24), primary_key=True),
    Column("environment_id", String(24), ForeignKey("environments.id"), nullable=False),
    Column("url", Text, nullable=False),
    Column("secret", Text, nullable=False, doc="Fernet token of the signing secret."),
    Column("events", JSON, doc="The event types delivered; NULL: every type."),
    Column("created_at", UTCDateTime, nullable=False),
    Column("disabled_at", UTCDateTime),
    Index("ix_webhook_endpoints_environment", "environment_id"),
)

# The secret that signs tasks' callback_url deliveries, one per environment.
webhook_callback_secrets = Table(
    "webhook_callback_secrets",
    metadata,
    Column("environment_id", String(24), ForeignKey("environments.id"), primary_key=True),
    Column("secret", Text, nullable=False, doc="Fernet token of the signing secret."),
    Column("created_at", UTCDateTime, nullable=False),
)

task_callbacks = Table(
    "task_callbacks",
    metadata,
    Column("task_id", String(24), ForeignKey("tasks.id"), primary_key=True),
    Column("url", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

# Events already turned into deliveries (the fan-out's progress through the outbox).
webhook_fanouts = Table(
    "webhook_fanouts",
    metadata,
    Column("event_id", String(24), primary_key=True),
    Column("created_at", UTCDateTime, nullable=False),
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", String(24), primary_key=True),
    Column("event_id", String(24), nullable=False),
    Column("endpoint_id", String(24), nullable=False, doc="An endpoint's id, or 'callback'."),
    Column("environment_id", String(24), nullable=False),
    Column("url", Text, nullable=False),
    # pending -> delivered | failed | cancelled (the endpoint was removed)
    Column("state", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("next_attempt_at", UTCDateTime),
    Column("last_status", Integer),
    Column("last_error", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("delivered_at", UTCDateTime),
    UniqueConstraint("event_id", "endpoint_id", name="ux_webhook_deliveries_event_endpoint"),
    Index("ix_webhook_deliveries_endpoint", "endpoint_id", "created_at"),
)

webhook_attempts = Table(
    "webhook_attempts",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("delivery_id", String(24), nullable=False),
    Column("number", Integer, nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("duration_ms", Integer, nullable=False),
    Column("status_code", Integer),
    Column("error", Text),
    Index("ix_webhook_attempts_delivery", "delivery_id", "id"),
)


# ---------------------------------------------------------------------------------------------
# The hosted connection flow and the dashboard (migration 19). See connect/ and dashboard/.

# A link a customer opens to connect their LMS (or to give an integration new credentials: relink).
# Only hashes of the link's token and of the activation token are kept: both are capabilities.
connection_links = Table(
    "connection_links",
    metadata,
    Column("id", String(24), primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("environment_id", String(24), ForeignKey("environments.id"), nullable=False),
    Column("link_type", String(16), nullable=False, doc="EMBEDDED | MAGIC_LINK"),
    Column("tool", String(40), doc="NULL: the customer picks the tool."),
    Column("language", String(8)),
    Column("end_user", JSON, nullable=False),
    Column("relink_integration_id", String(80), doc="Set on a relink: the integration it updates."),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("used_at", UTCDateTime),
    Column("integration_id", String(80), doc="The integration the flow created or updated."),
    Column("activation_token_hash", String(64), unique=True),
    Index("ix_connection_links_environment", "environment_id", "created_at"),
)

# Origins allowed to frame the connection page (Content-Security-Policy: frame-ancestors).
connect_frame_origins = Table(
    "connect_frame_origins",
    metadata,
    Column("environment_id", String(24), ForeignKey("environments.id"), primary_key=True),
    Column("origin", String(300), primary_key=True),
    Column("created_at", UTCDateTime, nullable=False),
)

# Signed-in dashboard browsers: the cookie holds the session's secret, the store its hash.
dashboard_sessions = Table(
    "dashboard_sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("key_id", String(24), ForeignKey("api_keys.id"), nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
)
