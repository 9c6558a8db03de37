"""Wire shapes of the webhook extensions (`/v1/webhooks`)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class WebhookEndpoint(BaseModel):
    id: str
    url: str
    events: list[str]
    created_at: datetime
    disabled_at: datetime | None


class WebhookEndpointCreated(WebhookEndpoint):
    secret: str  # shown this once


class DeliveryAttempt(BaseModel):
    number: int
    started_at: datetime
    duration_ms: int
    status_code: int | None
    error: str | None


class WebhookDelivery(BaseModel):
    id: str
    event_id: str
    endpoint_id: str
    url: str
    state: str
    attempts: int
    next_attempt_at: datetime | None
    last_status: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None
    log_url: str
    attempt_log: list[DeliveryAttempt]


class CallbackSecret(BaseModel):
    secret: str  # shown this once
