"""The rules of webhooks: endpoints (each with its own secret, shown once), the environment's
callback secret, and the fan-out that turns new outbox events into one delivery per (event,
endpoint), each with its job, in one transaction."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from lmsbridge.clock import to_wire, utc_now
from lmsbridge.db import Store
from lmsbridge.errors import InputInvalidError
from lmsbridge.events.outbox import EVENT_TYPES, EventOutbox, EventType
from lmsbridge.ids import new_id
from lmsbridge.integration_store.credentials import CredentialBox
from lmsbridge.jobs import enqueue, wake_workers
from lmsbridge.webhooks.repository import CALLBACK, Attempt, Delivery, Endpoint, WebhookRepository
from lmsbridge.webhooks.settings import WebhookSettings
from lmsbridge.webhooks.signing import new_secret

log = logging.getLogger("lmsbridge.webhooks")

DELIVER_JOB = "webhooks.deliver"
FANOUT_BATCH = 500


def check_url(url: str, field: str = "url") -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InputInvalidError(f"{field}: must be an absolute http(s) URL.")
    if len(url) > 2000:
        raise InputInvalidError(f"{field}: at most 2000 characters.")
    return url


def check_events(names: list[str] | None) -> list[str] | None:
    if names is None:
        return None
    unknown = sorted(set(names) - set(EVENT_TYPES))
    if unknown:
        raise InputInvalidError(
            f"events: unknown event type(s) {', '.join(unknown)}; known: {', '.join(EVENT_TYPES)}."
        )
    if not names:
        raise InputInvalidError("events: name at least one event type, or leave it out for all.")
    return sorted(set(names))


def _seal(box: CredentialBox, secret: str) -> str:
    return box.seal({"secret": secret})


def open_secret(box: CredentialBox, sealed: str) -> str:
    return str(box.open(sealed)["secret"])


def create_endpoint(
    repo: WebhookRepository, box: CredentialBox, environment_id: str, url: str, events: list[str] | None
) -> tuple[Endpoint, str]:
    """Register an endpoint; returns it and its secret (shown once, stored encrypted)."""
    secret = new_secret()
    endpoint = Endpoint(
        id=new_id(),
        environment_id=environment_id,
        url=check_url(url),
        secret=_seal(box, secret),
        events=check_events(events),
        created_at=utc_now(),
        disabled_at=None,
    )
    repo.insert_endpoint(endpoint)
    return endpoint, secret


def rotate_callback_secret(repo: WebhookRepository, box: CredentialBox, environment_id: str) -> str:
    """Create (or replace) the secret that signs the environment's task callbacks; shown once."""
    secret = new_secret()
    repo.set_callback_secret(environment_id, _seal(box, secret))
    return secret


def endpoint_view(endpoint: Endpoint) -> dict[str, Any]:
    return {
        "id": endpoint.id,
        "url": endpoint.url,
        "events": endpoint.events if endpoint.events is not None else list(EVENT_TYPES),
        "created_at": to_wire(endpoint.created_at),
        "disabled_at": to_wire(endpoint.disabled_at),
    }


def delivery_view(delivery: Delivery, attempts: list[Attempt], public_url: str) -> dict[str, Any]:
    return {
        "id": delivery.id,
        "event_id": delivery.event_id,
        "endpoint_id": delivery.endpoint_id,
        "url": delivery.url,
        "state": delivery.state,
        "attempts": delivery.attempts,
        "next_attempt_at": to_wire(delivery.next_attempt_at) if delivery.state == "pending" else None,
        "last_status": delivery.last_status,
        "last_error": delivery.last_error,
        "created_at": to_wire(delivery.created_at),
        "delivered_at": to_wire(delivery.delivered_at),
        "log_url": f"{public_url}/logs/webhooks/{delivery.id}",
        "attempt_log": [
            {
                "number": a.number,
                "started_at": to_wire(a.started_at),
                "duration_ms": a.duration_ms,
                "status_code": a.status_code,
                "error": a.error,
            }
            for a in attempts
        ],
    }


def fan_out(store: Store, settings: WebhookSettings, batch: int = FANOUT_BATCH) -> int:
    """Turn events no fan-out handled yet into deliveries for the endpoints that want them (and
    the task's callback_url for `task-completed`), each with a job; returns deliveries created.
    Exactly once per (event, endpoint): the unique constraint drops what a concurrent fan-out
    already inserted, and an event is marked handled in the same transaction."""
    since = utc_now() - timedelta(seconds=settings.retry_window_seconds)
    with store.read() as conn:
        if not EventOutbox(conn).not_fanned_out(since, 1):
            return 0
    created = 0
    with store.write() as conn:
        repo = WebhookRepository(conn)
        pending = EventOutbox(conn).not_fanned_out(since, batch)
        if not pending:
            return 0
        by_env: dict[str, list[Endpoint]] = {}
        for endpoint in repo.active_endpoints_in(sorted({e.environment_id for e in pending})):
            by_env.setdefault(endpoint.environment_id, []).append(endpoint)
        callbacks = repo.task_callbacks(
            [str(e.payload["data"]["task_id"]) for e in pending if e.type == EventType.TASK_COMPLETED]
        )
        now = utc_now()
        rows: list[dict[str, Any]] = []

        def add(event_id: str, environment_id: str, endpoint_id: str, url: str) -> None:
            rows.append(
                {
                    "id": new_id(),
                    "event_id": event_id,
                    "endpoint_id": endpoint_id,
                    "environment_id": environment_id,
                    "url": url,
                    "state": "pending",
                    "attempts": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                }
            )

        for event in pending:
            for endpoint in by_env.get(event.environment_id, []):
                if endpoint.created_at <= event.created_at and endpoint.wants(event.type):
                    add(event.id, event.environment_id, endpoint.id, endpoint.url)
            if event.type == "task-completed":
                url = callbacks.get(str(event.payload["data"]["task_id"]))
                if url is not None:
                    add(event.id, event.environment_id, CALLBACK, url)
        for delivery_id in repo.insert_deliveries(rows):
            enqueue(conn, DELIVER_JOB, {"delivery_id": delivery_id})
            created += 1
        repo.mark_fanned([e.id for e in pending])
    if created:
        wake_workers()
        log.info("webhooks: %d deliveries for %d events", created, len(pending))
    return created
