"""The rules of bulk tasks: validation before anything is stored, idempotency by body or by
`Idempotency-Key`, creation in one transaction with its job, and the status view."""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import orjson
from sqlalchemy import Connection

from lmsbridge.clock import to_wire, utc_now
from lmsbridge.config import Settings
from lmsbridge.connectors.base import WriteAction
from lmsbridge.errors import (
    IdempotencyConflictError,
    InputInvalidError,
    title_of,
)
from lmsbridge.events.outbox import EventOutbox, EventType
from lmsbridge.ids import new_id
from lmsbridge.integration_store.repository import Integration
from lmsbridge.jobs import JobQueue
from lmsbridge.tasks.repository import Task, TaskRepository
from lmsbridge.webhooks.repository import WebhookRepository

RUN_TASK_JOB = "tasks.run_bulk"


@dataclass(frozen=True)
class TaskKind:
    name: str
    action: WriteAction
    model: str  # the unified model whose derived ids the results carry
    label: str

    @property
    def echoes_course_id(self) -> bool:
        return self.model == "lms_courses"


COURSES_BULK = TaskKind("lms_courses_bulk", WriteAction.UPSERT_COURSES, "lms_courses", "Upsert courses")
SKILLS_BULK = TaskKind("hris_skills_bulk", WriteAction.UPSERT_SKILLS, "hris_skills", "Upsert skills")
KINDS = {kind.name: kind for kind in (COURSES_BULK, SKILLS_BULK)}


def check_items(items: list[dict[str, Any]], max_items: int) -> None:
    if not items:
        raise InputInvalidError("items: must contain at least one item.")
    if len(items) > max_items:
        raise InputInvalidError(
            f"items: {len(items)} items given; at most {max_items} are accepted per request. "
            "Split the items into several requests."
        )
    counts = Counter(item["origin_id"] for item in items)
    duplicates = sorted(origin for origin, n in counts.items() if n > 1)
    if duplicates:
        shown = ", ".join(repr(d) for d in duplicates[:10])
        more = f" and {len(duplicates) - 10} more" if len(duplicates) > 10 else ""
        raise InputInvalidError(f"items: origin_id must be unique within a request; repeated: {shown}{more}.")


def body_hash(items: list[dict[str, Any]]) -> str:
    """Canonical JSON: key order and whitespace of the request do not matter."""
    return hashlib.sha256(orjson.dumps(items, option=orjson.OPT_SORT_KEYS)).hexdigest()


def submit(
    conn: Connection,
    queue: JobQueue,
    settings: Settings,
    *,
    integration: Integration,
    kind: TaskKind,
    items: list[dict[str, Any]],
    idempotency_key: str | None,
    public_url: str,
    callback_url: str | None = None,
) -> tuple[str, bool]:
    """Create the task, its items and its job in the caller's transaction, or return the task an
    identical earlier request created. Returns (task_id, created). A `callback_url` (not part of
    the idempotent body) receives the task's `task-completed` event once, signed with the
    environment's callback secret, which must exist."""
    if (
        callback_url is not None
        and WebhookRepository(conn).callback_secret(integration.environment_id) is None
    ):
        raise InputInvalidError(
            "callback_url: this environment has no callback secret to sign callbacks with; create it "
            "first (POST /v1/webhooks/callback-secret or `lmsbridge webhooks callback-secret`)."
        )
    digest = body_hash(items)
    scope = f"key:{idempotency_key}" if idempotency_key is not None else f"body:{digest}"
    repo = TaskRepository(conn)
    existing = repo.find_idempotent(integration.id, kind.name, scope)
    if existing is not None and _failed_before_update(repo, existing[0], integration):
        # The customer fixed the integration since: the same body is a new attempt, not the old failure.
        repo.forget(integration.id, kind.name, scope)
        existing = None
    if existing is not None:
        task_id, existing_hash = existing
        if existing_hash != digest:
            raise IdempotencyConflictError(
                f"Idempotency-Key {idempotency_key!r} was already used with a different request "
                f"body (task {task_id}); use a new key for a new request."
            )
        return task_id, False
    now = utc_now()
    task = Task(
        id=new_id(),
        environment_id=integration.environment_id,
        integration_id=integration.id,
        kind=kind.name,
        status="PENDING",
        total=len(items),
        succeeded=0,
        failed=0,
        error_code=None,
        error_message=None,
        public_url=public_url,
        created_at=now,
        deadline_at=now + timedelta(seconds=settings.task_deadline_seconds),
        completed_at=None,
    )
    repo.insert(task, digest, idempotency_key, [(item["origin_id"], item) for item in items])
    repo.remember(
        integration.id,
        kind.name,
        scope,
        task.id,
        digest,
        now + timedelta(seconds=settings.idempotency_window_seconds),
    )
    if callback_url is not None:
        WebhookRepository(conn).add_task_callback(task.id, callback_url)
    queue.enqueue(conn, RUN_TASK_JOB, {"task_id": task.id})
    return task.id, True


def _failed_before_update(repo: TaskRepository, task_id: str, integration: Integration) -> bool:
    if integration.updated_at is None:
        return False
    task = repo.get(task_id)
    return task is not None and task.status == "FAILED" and task.created_at < integration.updated_at


def progress_of(task: Task) -> dict[str, int]:
    done = task.succeeded + task.failed
    return {
        "total": task.total,
        "succeeded": task.succeeded,
        "failed": task.failed,
        "percent": 100 * done // task.total if task.total else 100,
    }


def record_completed(conn: Connection, task_id: str) -> None:
    """Write the `task-completed` event of a task that has just ended (COMPLETED or FAILED) to the
    events outbox, in the transaction that ended it."""
    task = TaskRepository(conn).get(task_id)
    if task is None or task.status == "PENDING":
        return
    EventOutbox(conn).add(
        task.environment_id,
        task.integration_id,
        EventType.TASK_COMPLETED,
        {
            "task_id": task.id,
            "integration_id": task.integration_id,
            "status": task.status,
            "completed_at": to_wire(task.completed_at),
            "progress": progress_of(task),
        },
    )


def log_url(task: Task) -> str:
    return f"{task.public_url}/logs/tasks/{task.id}"


def _error(code: str | None, message: str, url: str) -> dict[str, Any]:
    return {"code": code, "title": title_of(code), "message": message, "log_url": url}


def status_view(task: Task, results: list[Any] | None) -> dict[str, Any]:
    """The task in the contract's shape for its status, plus the `progress` extension."""
    view: dict[str, Any] = {
        "task_id": task.id,
        "created_at": to_wire(task.created_at),
        "status": task.status,
        "completed_at": to_wire(task.completed_at),
        "progress": progress_of(task),
    }
    url = log_url(task)
    if task.status == "FAILED":
        view["error"] = _error(task.error_code, task.error_message or "The task failed.", url)
    elif task.status == "COMPLETED":
        echo_course_id = KINDS[task.kind].echoes_course_id
        data = []
        for row in results or []:
            if row.status == "SUCCEEDED":
                ids = (
                    {"id": row.result_id, "course_id": row.result_id}
                    if echo_course_id
                    else {"id": row.result_id}
                )
                data.append({"origin_id": row.origin_id, "status": "SUCCEEDED", "data": ids})
            else:
                data.append(
                    {
                        "origin_id": row.origin_id,
                        "status": "FAILED",
                        "error": _error(row.error_code, row.error_message or "The item failed.", url),
                    }
                )
        view["data"] = data
    return view
