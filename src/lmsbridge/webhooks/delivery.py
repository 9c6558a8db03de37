"""The job handler that makes one delivery attempt: POST the event's stored payload (so a
redelivery carries the same event id), signed with X-Kombo-Signature, with a short timeout; then,
in one transaction, record the attempt and either finish the delivery or schedule the next
attempt as a new job (base delay doubling, capped, until the retry window after the event ends)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import timedelta

import httpx
import orjson

from lmsbridge import __version__
from lmsbridge.clock import utc_now
from lmsbridge.db import Store
from lmsbridge.events.outbox import Event, EventOutbox
from lmsbridge.integration_store.credentials import CredentialBox
from lmsbridge.jobs import Job, JobContext, enqueue
from lmsbridge.outbound import AddressRefusedError, guarded_transport
from lmsbridge.webhooks.repository import CALLBACK, Attempt, Delivery, WebhookRepository
from lmsbridge.webhooks.service import DELIVER_JOB, open_secret
from lmsbridge.webhooks.settings import WebhookSettings
from lmsbridge.webhooks.signing import SIGNATURE_HEADER, sign

log = logging.getLogger("lmsbridge.webhooks")


@dataclass(frozen=True)
class _Target:
    delivery: Delivery
    event: Event
    secret: str | None  # sealed; None: no secret to sign with (the delivery cannot proceed)
    disabled: bool


class DeliveryRunner:
    def __init__(self, store: Store, box: CredentialBox, settings: WebhookSettings) -> None:
        self.store = store
        self.box = box
        self.settings = settings
        # One pooled client for every thread (httpx.Client is thread-safe); no redirects followed;
        # every connection checked (outbound.py), so no proxy from the environment either.
        self.http = httpx.Client(
            timeout=httpx.Timeout(settings.timeout_seconds),
            follow_redirects=False,
            transport=guarded_transport(),
            trust_env=False,
            headers={"User-Agent": f"lmsbridge-webhooks/{__version__}"},
        )

    def _load(self, delivery_id: str) -> _Target | None:
        with self.store.read() as conn:
            repo = WebhookRepository(conn)
            delivery = repo.delivery(delivery_id)
            if delivery is None or delivery.state != "pending":
                return None
            event = EventOutbox(conn).get(delivery.event_id)
            if event is None:
                return None
            if delivery.endpoint_id == CALLBACK:
                return _Target(delivery, event, repo.callback_secret(delivery.environment_id), False)
            endpoint = repo.endpoint(delivery.endpoint_id)
            if endpoint is None:
                return _Target(delivery, event, None, True)
            return _Target(delivery, event, endpoint.secret, endpoint.disabled_at is not None)

    def run(self, job: Job, ctx: JobContext) -> None:
        target = self._load(job.payload["delivery_id"])
        if target is None:
            return
        delivery = target.delivery
        if target.disabled:
            with self.store.write() as conn:
                WebhookRepository(conn).advance(
                    delivery, state="cancelled", next_attempt_at=None, last_error="the endpoint was removed"
                )
            return
        if delivery.next_attempt_at is not None and delivery.next_attempt_at > utc_now() + timedelta(
            seconds=1
        ):
            return  # a stale job: the delivery's own next attempt has its own job
        body = orjson.dumps(target.event.payload)
        started = utc_now()
        clock = time.monotonic()
        status, error = self._post(delivery, body, target.secret)
        duration_ms = int((time.monotonic() - clock) * 1000)
        self._record(target, Attempt(delivery.attempts + 1, started, duration_ms, status, error))

    def _post(self, delivery: Delivery, body: bytes, sealed: str | None) -> tuple[int | None, str | None]:
        if sealed is None:
            return None, "no callback secret exists for this environment"
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(open_secret(self.box, sealed), body),
            "X-Lmsbridge-Delivery-Id": delivery.id,
        }
        try:
            # Streamed and closed unread: a receiver's body is never waited for.
            with self.http.stream("POST", delivery.url, content=body, headers=headers) as response:
                status = response.status_code
        except AddressRefusedError as refused:
            return None, refused.message
        except httpx.TimeoutException:
            return None, f"timed out after {self.settings.timeout_seconds:g}s"
        except httpx.HTTPError as failure:
            return None, f"{type(failure).__name__}: {failure}"[:500]
        if 200 <= status < 300:
            return status, None
        return status, f"the receiver answered HTTP {status}"

    def _record(self, target: _Target, attempt: Attempt) -> None:
        delivery, event = target.delivery, target.event
        now = utc_now()
        with self.store.write() as conn:
            repo = WebhookRepository(conn)
            repo.record_attempt(delivery.id, attempt)
            common = {
                "attempts": attempt.number,
                "last_status": attempt.status_code,
                "last_error": attempt.error,
            }
            if attempt.error is None:
                repo.advance(delivery, state="delivered", delivered_at=now, next_attempt_at=None, **common)
                return
            next_at = now + timedelta(seconds=self.settings.delay(attempt.number))
            give_up_at = event.created_at + timedelta(seconds=self.settings.retry_window_seconds)
            if next_at > give_up_at:
                repo.advance(delivery, state="failed", next_attempt_at=None, **common)
                log.warning(
                    "webhook delivery %s failed for good after %d attempts", delivery.id, attempt.number
                )
                return
            if repo.advance(delivery, next_attempt_at=next_at, **common):
                enqueue(conn, DELIVER_JOB, {"delivery_id": delivery.id}, run_after=next_at)

    def give_up(self, job: Job, error: str) -> None:
        with self.store.write() as conn:
            repo = WebhookRepository(conn)
            delivery = repo.delivery(job.payload["delivery_id"])
            if delivery is not None and delivery.state == "pending":
                repo.advance(
                    delivery, state="failed", next_attempt_at=None, last_error=f"internal error: {error}"
                )
