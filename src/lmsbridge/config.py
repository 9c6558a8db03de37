"""Settings, read from `LMSBRIDGE_*` environment variables; one validated instance per process."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LMSBRIDGE_", extra="ignore")

    database_url: str = Field(
        "sqlite:///lmsbridge.db",
        description="sqlite:///PATH (relative to the working directory) or postgresql://...",
    )
    secret_key: str | None = Field(
        None,
        description="Key that encrypts remote credentials at rest. On SQLite, when unset, "
        "one is generated into secret_key_file with owner-only permissions.",
    )
    secret_key_file: str = "lmsbridge.key"
    public_url: str | None = Field(
        None, description="Base URL that log_url links use; defaults to the URL a request came in on."
    )
    listen_url: str | None = Field(
        None,
        description="Set by `lmsbridge serve` to the address it listens on; links use it when "
        "public_url is unset.",
    )
    first_sync_retry_seconds: float = Field(
        60, gt=0, description="A failed first sync is retried after this, doubling up to 15 minutes."
    )
    bulk_max_items: int = Field(10_000, ge=1)
    max_body_bytes: int = Field(32 * 1024 * 1024, ge=1024)
    task_deadline_seconds: float = Field(24 * 3600, gt=0)
    idempotency_window_seconds: float = Field(24 * 3600, gt=0)
    job_lease_seconds: float = Field(30.0, gt=0)
    job_poll_seconds: float = Field(0.25, gt=0)
    job_max_attempts: int = Field(10, ge=1)
    worker_concurrency: int = Field(2, ge=1)
    serve_worker_niceness: int = Field(
        10,
        ge=0,
        le=19,
        description="How much lower than the API's the CPU priority of `serve`'s worker process is "
        "(a nice increment): on a small machine, requests get the CPU before running tasks and syncs, "
        "which still get all the CPU the API leaves. 0 runs both at one priority.",
    )
    task_flush_items: int = Field(
        2000,
        ge=1,
        description="Item outcomes committed together (at most; also every task_flush_seconds).",
    )
    task_flush_seconds: float = Field(0.5, gt=0)
    log_body_bytes: int = Field(64 * 1024, ge=0, description="Body bytes kept per interaction.")
    db_pool_size: int = Field(
        10,
        ge=1,
        description="Store connections a process keeps open (as many more under a burst); the API "
        "runs at most this many blocking calls in threads at once.",
    )
    caller_cache_seconds: float = Field(
        1.0,
        ge=0,
        description="How long an API process remembers an API key and an integration it has looked "
        "up; a key revoked or an integration paused or deleted by another process (the CLI) stops "
        "working within this time, through this process at once. 0 looks them up on every request.",
    )
    sync_full_interval_seconds: float = Field(
        10 * 3600, gt=0, description="Full sync cadence (delta-capable tools)."
    )
    sync_full_interval_no_delta_seconds: float = Field(
        3 * 3600, gt=0, description="Full sync cadence otherwise."
    )
    sync_delta_interval_seconds: float = Field(3 * 3600, gt=0)
    sync_write_batch: int = Field(
        50_000,
        ge=100,
        description="Records a sync writes in one transaction, at most: more is faster (fewer "
        "commits rewrite fewer index pages) and holds more in the worker's memory (about 2.5 KiB a "
        "record).",
    )
    sync_write_seconds: float = Field(
        1.5,
        gt=0,
        description="A sync writes fewer records per transaction when one held the integration's "
        "write lock longer than this: how long an API write on SQLite, or a read of that "
        "integration's records, may wait behind a sync.",
    )
    sync_schedule_check_seconds: float = Field(
        30, gt=0, description="How often a worker looks for due syncs."
    )
    anonymise_after_seconds: float = Field(
        14 * 86400, gt=0, description="Deleted records are blanked after this."
    )
    action_concurrency_limit: int = Field(30, ge=1, description="Write actions in flight per integration.")
    outbound_allow_private: bool = Field(
        True,
        description="Let webhooks, callback_url and site_url reach loopback and private addresses "
        "(link-local and metadata addresses are refused always); turn off in production.",
    )
    rate_limit_per_minute: int = Field(
        6000, ge=0, description="Requests a minute per API key (per API process); 0 turns it off."
    )

    connect_link_ttl_seconds: float = Field(
        7 * 86400, gt=0, description="How long a connection link works (it is single-use too)."
    )
    dashboard_session_seconds: float = Field(
        12 * 3600, gt=0, description="How long a dashboard sign-in lasts."
    )

    def default_public_url(self) -> str:
        return (self.public_url or self.listen_url or "http://127.0.0.1:8000").rstrip("/")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
