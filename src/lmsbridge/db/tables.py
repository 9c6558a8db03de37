"""Every table of the store, as SQLAlchemy Core metadata. Migrations create them (`migrations.py`)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
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
    Column("status", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
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

schema_migrations = Table(
    "schema_migrations",
    metadata,
    Column("version", Integer, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("applied_at", UTCDateTime, nullable=False),
)
