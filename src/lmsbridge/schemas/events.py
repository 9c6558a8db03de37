"""Wire shapes of the events the outbox holds and webhooks deliver (`X-Kombo-Signature`-signed
POSTs). `/openapi.json` lists them under `webhooks`."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from lmsbridge.schemas.integrations import EndUser
from lmsbridge.schemas.tasks import TaskProgress

Category = Literal["HRIS", "ATS", "ASSESSMENT", "LMS"]


class ChangedModel(BaseModel):
    name: str


class DataChangedData(BaseModel):
    integration_id: str
    integration_tool: str
    integration_category: Category
    changed_models: list[ChangedModel]


class DataChangedWebhookPayload(BaseModel):
    id: str
    type: Literal["data-changed"]
    data: DataChangedData


class SyncFinishedData(BaseModel):
    sync_id: str
    sync_state: str
    sync_started_at: datetime
    sync_ended_at: datetime
    sync_duration_seconds: int = Field(ge=0)
    integration_id: str
    integration_tool: str
    integration_category: Category
    end_user: EndUser
    log_url: str | None


class SyncFinishedWebhookPayload(BaseModel):
    id: str
    type: Literal["sync-finished"]
    data: SyncFinishedData


class TaskCompletedData(BaseModel):
    task_id: str
    integration_id: str
    status: Literal["COMPLETED", "FAILED"]
    completed_at: datetime | None
    progress: TaskProgress


class TaskCompletedWebhookPayload(BaseModel):
    """Extension: a bulk task ended (also sent once to the task's `callback_url`)."""

    id: str
    type: Literal["task-completed"]
    data: TaskCompletedData


class IntegrationData(BaseModel):
    id: str
    tool: str
    category: Category
    end_user: EndUser


class IntegrationCreatedWebhookPayload(BaseModel):
    """An integration was created (CLI, API or connection link)."""

    id: str
    type: Literal["integration-created"]
    data: IntegrationData


class IntegrationDeletedWebhookPayload(BaseModel):
    """An integration was deleted with everything of it."""

    id: str
    type: Literal["integration-deleted"]
    data: IntegrationData


class IntegrationStateChangedData(BaseModel):
    integration_tool: str
    integration_id: str
    integration_category: Category
    end_user: EndUser
    qa_status: Literal["IN_PROGRESS", "PASSED", "FAILED"]
    setup_status: Literal["INCOMPLETE", "FINAL_SYNC_PENDING", "COMPLETED"]
    state: Literal["ACTIVE", "INVALID", "INACTIVE"]
    updated_at: datetime


class IntegrationStateChangedWebhookPayload(BaseModel):
    """An integration turned ACTIVE, INVALID (credentials rejected) or INACTIVE (paused)."""

    id: str
    type: Literal["integration-state-changed"]
    data: IntegrationStateChangedData


WEBHOOK_PAYLOADS: dict[str, type[BaseModel]] = {
    "data-changed": DataChangedWebhookPayload,
    "sync-finished": SyncFinishedWebhookPayload,
    "task-completed": TaskCompletedWebhookPayload,
    "integration-created": IntegrationCreatedWebhookPayload,
    "integration-deleted": IntegrationDeletedWebhookPayload,
    "integration-state-changed": IntegrationStateChangedWebhookPayload,
}
