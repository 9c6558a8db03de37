"""What the sync and async clients share: settings, the retry policy, how filters and bodies are
encoded and how answers are decoded. No I/O here."""

from __future__ import annotations

import os
import random
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Literal

import httpx

from lmsbridge.client.errors import error_for, parse_retry_after
from lmsbridge.client.models import (
    Course,
    CourseInput,
    CourseProgression,
    HrisSkill,
    Skill,
    SkillInput,
    TaskCreated,
    User,
)
from lmsbridge.schemas.models import LIST_PATHS

DEFAULT_URL = "http://127.0.0.1:8000"
DEFAULT_TIMEOUT = 30.0
# 429 (rate or concurrency limit), 503 (service or remote unavailable), and the gateway's 502/504
# and 408: answers that say "try again". Connection errors are retried too.
RETRY_STATUSES = frozenset({408, 429, 502, 503, 504})
TaskKind = Literal["courses", "skills"]

# Read endpoints and the model of their records.
_RECORDS: dict[str, Any] = {
    "users": User,
    "courses": Course,
    "progressions": CourseProgression,
    "skills": Skill,
    "hris_skills": HrisSkill,
}
LISTS: dict[str, tuple[str, Any]] = {name: (path, _RECORDS[name]) for name, path in LIST_PATHS.items()}
BULK_PATHS: dict[str, str] = {"courses": "/v1/lms/courses/bulk", "skills": "/v1/hris/skills/bulk"}


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter: attempt n waits a random time in
    [delay/2, delay] with delay = min(max_delay, initial_delay * 2**n); a Retry-After header
    (capped at max_retry_after) replaces the computed delay when it is longer."""

    max_retries: int = 2
    initial_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 60.0
    # False: a connection refused before the server has ever answered this client is raised at
    # once (nothing listens there; the command line's choice), not retried.
    retry_refused_first_call: bool = True

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        computed = min(self.max_delay, self.initial_delay * 2**attempt)
        computed = random.uniform(computed / 2, computed)
        if retry_after is not None:
            return max(computed, min(retry_after, self.max_retry_after))
        return computed


def settings_from_env(base_url: str | None, api_key: str | None) -> tuple[str, str]:
    url = base_url or os.environ.get("LMSBRIDGE_URL") or DEFAULT_URL
    key = api_key or os.environ.get("LMSBRIDGE_API_KEY")
    if not key:
        raise ValueError("an API key is required (api_key=... or LMSBRIDGE_API_KEY)")
    return url.rstrip("/"), key


def integration_from_env(integration_id: str | None) -> str | None:
    return integration_id or os.environ.get("LMSBRIDGE_INTEGRATION_ID") or None


def retry_notice(method: str, path: str, reason: str, attempt: int, retries: int, delay: float) -> str:
    """What an `on_retry` callback is told: `GET /v1/lms/users: HTTP 503; retry 1 of 5 in 0.6s`."""
    return f"{method} {path}: {reason}; retry {attempt + 1} of {retries} in {delay:.1f}s"


def headers(api_key: str, integration_id: str | None) -> dict[str, str]:
    values = {"Authorization": f"Bearer {api_key}", "Accept": "application/json"}
    if integration_id:
        values["X-Integration-Id"] = integration_id
    return values


def wire_time(value: datetime | date | str) -> str:
    """A date-time as the API writes them: YYYY-MM-DDTHH:mm:ss.sssZ (naive means UTC)."""
    if isinstance(value, str):
        if len(value) <= 10:  # a date alone goes as it is
            return value
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return str(value)  # the server explains what it expects
    if not isinstance(value, datetime):
        return value.isoformat()
    value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value.isoformat(timespec="milliseconds")[:23] + "Z"


def list_params(filters: Mapping[str, Any]) -> dict[str, str]:
    """Query parameters of a list call: lists comma-joined, booleans 'true'/'false', date-times
    in the wire format; None dropped."""
    params: dict[str, str] = {}
    for name, value in filters.items():
        if value is None:
            continue
        if isinstance(value, bool):
            params[name] = "true" if value else "false"
        elif isinstance(value, datetime | date) or name == "updated_after":
            params[name] = wire_time(value)
        elif isinstance(value, list | tuple | set | frozenset):
            params[name] = ",".join(str(v) for v in value)
        else:
            params[name] = str(value)
    return params


def decode(response: httpx.Response) -> Any:
    """The `data` of a success answer; raises the matching APIStatusError for an error answer."""
    try:
        body = response.json()
    except ValueError:
        body = response.text
    if response.is_success and isinstance(body, dict):
        return body
    raise error_for(response.status_code, body, dict(response.headers))


def retry_after(response: httpx.Response) -> float | None:
    return parse_retry_after(response.headers.get("retry-after"))


def bulk_body(items: Iterable[Any], kind: TaskKind) -> dict[str, Any]:
    wire: list[dict[str, Any]] = []
    for item in items:
        if isinstance(item, CourseInput | SkillInput):
            wire.append(item.to_wire())
        elif isinstance(item, Mapping):
            wire.append(dict(item))
        else:
            raise TypeError(f"a bulk {kind} item must be a mapping or a {kind[:-1]} input, not {item!r}")
    return {"items": wire}


def new_idempotency_key() -> str:
    return f"lmsbridge-client-{uuid.uuid4().hex}"


def task_created(body: dict[str, Any], kind: TaskKind) -> TaskCreated:
    warnings = [str(w.get("message", w)) for w in body.get("warnings") or []]
    return TaskCreated(task_id=str(body["data"]["task_id"]), warnings=warnings, kind=kind)


def complete_body(completed_at: datetime | date | str | None, score: int | None) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if completed_at is not None:
        body["completed_at"] = wire_time(completed_at)
    if score is not None:
        body["score"] = score
    return body
