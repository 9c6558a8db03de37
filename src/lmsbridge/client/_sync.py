"""The blocking client."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Generic, TypeVar

import httpx

from lmsbridge.client import _base
from lmsbridge.client._base import BULK_PATHS, LISTS, RETRY_STATUSES, RetryPolicy, TaskKind
from lmsbridge.client.errors import APIConnectionError, APITimeoutError, WaitTimeoutError
from lmsbridge.client.models import (
    ApiKeyInfo,
    Course,
    CourseProgression,
    HrisSkill,
    Integration,
    Skill,
    SyncRequested,
    SyncRun,
    Task,
    TaskCreated,
    User,
    task_from_wire,
)

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    results: list[T]
    next: str | None


class Pager(Generic[T]):
    """The records of a list call. Iterating fetches one page at a time, on demand, re-sending the
    call's filters with each cursor; `pages()` yields the pages themselves."""

    def __init__(self, fetch: Callable[[str | None], dict[str, Any]], model: Any) -> None:
        self._fetch = fetch
        self._model = model

    def pages(self) -> Iterator[Page[T]]:
        cursor: str | None = None
        while True:
            data = self._fetch(cursor)
            yield Page([self._model.from_wire(r) for r in data["results"]], data.get("next"))
            cursor = data.get("next")
            if not cursor:
                return

    def __iter__(self) -> Iterator[T]:
        for page in self.pages():
            yield from page.results


class Client:
    """A client of an lmsbridge (or Kombo-compatible) server.

    `base_url`, `api_key` and `integration_id` default to LMSBRIDGE_URL, LMSBRIDGE_API_KEY and
    LMSBRIDGE_INTEGRATION_ID. Calls about an integration send `integration_id` as X-Integration-Id;
    `for_integration` gives a client for another one sharing this one's connections. Retries 429,
    503 (and 408, 502, 504) and connection errors up to `max_retries` times with exponential
    backoff and jitter, honouring Retry-After; `on_retry`, when given, is told each retry in one
    sentence before its wait."""

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        integration_id: str | None = None,
        *,
        timeout: float = _base.DEFAULT_TIMEOUT,
        max_retries: int = 2,
        retry: RetryPolicy | None = None,
        on_retry: Callable[[str], None] | None = None,
        http_client: httpx.Client | None = None,
    ) -> None:
        self.base_url, self.api_key = _base.settings_from_env(base_url, api_key)
        self.integration_id = _base.integration_from_env(integration_id)
        self.on_retry = on_retry
        self._answered = False
        self.retry = retry or RetryPolicy(max_retries=max_retries)
        self._owns_http = http_client is None
        self._http = http_client or httpx.Client(base_url=self.base_url, timeout=timeout)
        self._sleep: Callable[[float], None] = time.sleep
        self.integrations = Integrations(self)
        self.users = ListResource[User](self, "users")
        self.courses = Courses(self)
        self.progressions = Progressions(self)
        self.skills = Skills(self)
        self.hris_skills = HrisSkills(self)
        self.tasks = Tasks(self)
        self.syncs = Syncs(self)

    def for_integration(self, integration_id: str) -> Client:
        other = Client(
            self.base_url,
            self.api_key,
            integration_id,
            retry=self.retry,
            on_retry=self.on_retry,
            http_client=self._http,
        )
        other._sleep = self._sleep
        return other

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        json: Any = None,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """Send one call with retries; the decoded success body (`{"status", "data", ...}`)."""
        all_headers = {**_base.headers(self.api_key, self.integration_id), **(headers or {})}
        attempt = 0
        while True:
            try:
                response = self._http.request(method, path, params=params, json=json, headers=all_headers)
            except httpx.TimeoutException as error:
                failure: APIConnectionError = APITimeoutError(f"{method} {path}: timed out ({error})")
            except httpx.TransportError as error:
                failure = APIConnectionError(f"{method} {path}: {type(error).__name__}: {error}")
                if isinstance(error, httpx.ConnectError) and not self._answered:
                    failure = APIConnectionError(
                        f"cannot connect to {self.base_url} ({type(error).__name__}: {error}); "
                        "is the server running there?"
                    )
                    if not self.retry.retry_refused_first_call:
                        raise failure from None
            else:
                self._answered = True
                if response.status_code in RETRY_STATUSES and attempt < self.retry.max_retries:
                    delay = self.retry.delay(attempt, _base.retry_after(response))
                    self._notify(method, path, f"HTTP {response.status_code}", attempt, delay)
                    self._sleep(delay)
                    attempt += 1
                    continue
                return dict(_base.decode(response))
            if attempt >= self.retry.max_retries:
                raise failure
            delay = self.retry.delay(attempt)
            self._notify(method, path, str(failure), attempt, delay)
            self._sleep(delay)
            attempt += 1

    def _notify(self, method: str, path: str, reason: str, attempt: int, delay: float) -> None:
        if self.on_retry is not None:
            self.on_retry(_base.retry_notice(method, path, reason, attempt, self.retry.max_retries, delay))

    def check_api_key(self) -> ApiKeyInfo:
        return ApiKeyInfo.from_wire(self.request("GET", "/v1/check-api-key")["data"])

    def force_sync(self, type: str = "FULL") -> SyncRequested:
        """Queue a sync of the integration (FULL or DELTA); an already queued or running one is
        returned instead (`already_queued`)."""
        return self.syncs.trigger(type)


class _Resource:
    def __init__(self, client: Client) -> None:
        self._client = client


class Integrations(_Resource):
    def get(self, integration_id: str | None = None) -> Integration:
        integration_id = integration_id or self._client.integration_id
        if not integration_id:
            raise ValueError("no integration id given")
        return Integration.from_wire(
            self._client.request("GET", f"/v1/integrations/{integration_id}")["data"]
        )


class ListResource(_Resource, Generic[T]):
    def __init__(self, client: Client, name: str) -> None:
        super().__init__(client)
        self._path, self._model = LISTS[name]

    def list(
        self,
        *,
        page_size: int | None = None,
        updated_after: datetime | str | None = None,
        include_deleted: bool | None = None,
        ignore_unsupported_filters: bool | None = None,
        ids: Iterable[str] | None = None,
        remote_ids: Iterable[str] | None = None,
        **filters: Any,
    ) -> Pager[T]:
        """Every record matching the filters (AND; a list's values OR), paged on demand."""
        params = _base.list_params(
            {
                "page_size": page_size,
                "updated_after": updated_after,
                "include_deleted": include_deleted,
                "ignore_unsupported_filters": ignore_unsupported_filters,
                "ids": None if ids is None else list(ids),
                "remote_ids": None if remote_ids is None else list(remote_ids),
                **{k: list(v) if isinstance(v, list | tuple | set) else v for k, v in filters.items()},
            }
        )

        def fetch(cursor: str | None) -> dict[str, Any]:
            query = {**params, "cursor": cursor} if cursor else params
            data: dict[str, Any] = self._client.request("GET", self._path, params=query)["data"]
            return data

        return Pager(fetch, self._model)


def _submit(client: Client, kind: TaskKind, items: Iterable[Any], idempotency_key: str | None) -> TaskCreated:
    # One key per logical submit, reused by every retry of it: a retried submit returns the task
    # the first attempt created instead of making a second one.
    key = idempotency_key or _base.new_idempotency_key()
    body = client.request(
        "POST", BULK_PATHS[kind], json=_base.bulk_body(items, kind), headers={"Idempotency-Key": key}
    )
    return _base.task_created(body, kind)


class Courses(ListResource[Course]):
    def __init__(self, client: Client) -> None:
        super().__init__(client, "courses")

    def bulk_upsert(self, items: Iterable[Any], *, idempotency_key: str | None = None) -> TaskCreated:
        """Submit courses (CourseInput or the API's item mappings) as one task."""
        return _submit(self._client, "courses", items, idempotency_key)

    def deactivate(self, course_id: str) -> Course:
        return Course.from_wire(
            self._client.request("POST", f"/v1/lms/courses/{course_id}/deactivate")["data"]
        )


class Skills(ListResource[Skill]):
    def __init__(self, client: Client) -> None:
        super().__init__(client, "skills")

    def bulk_upsert(self, items: Iterable[Any], *, idempotency_key: str | None = None) -> TaskCreated:
        """Submit skills (SkillInput or `{origin_id, name, status}` mappings) as one task at
        POST /v1/hris/skills/bulk."""
        return _submit(self._client, "skills", items, idempotency_key)


class HrisSkills(ListResource[HrisSkill]):
    def __init__(self, client: Client) -> None:
        super().__init__(client, "hris_skills")


class Progressions(ListResource[CourseProgression]):
    def __init__(self, client: Client) -> None:
        super().__init__(client, "progressions")

    def enrol(self, user_id: str, course_revision_id: str) -> CourseProgression:
        body = {"user_id": user_id, "course_revision_id": course_revision_id}
        return CourseProgression.from_wire(
            self._client.request("POST", "/v1/lms/course-progressions", json=body)["data"]
        )

    def complete(
        self,
        course_progression_id: str,
        *,
        completed_at: datetime | date | str | None = None,
        score: int | None = None,
    ) -> CourseProgression:
        path = f"/v1/lms/course-progressions/{course_progression_id}/complete"
        body = _base.complete_body(completed_at, score)
        return CourseProgression.from_wire(self._client.request("POST", path, json=body)["data"])


class Tasks(_Resource):
    def get(self, task_id: str, kind: TaskKind = "courses") -> Task:
        return task_from_wire(self._client.request("GET", f"{BULK_PATHS[kind]}/{task_id}")["data"])

    def wait(
        self,
        task_id: str,
        kind: TaskKind = "courses",
        *,
        timeout: float = 600.0,
        poll_interval: float = 0.2,
        max_poll_interval: float = 5.0,
        on_progress: Callable[[Task], None] | None = None,
    ) -> Task:
        """Poll until the task is COMPLETED or FAILED, waiting longer between polls (x1.5 up to
        `max_poll_interval`); returns the final task, or raises WaitTimeoutError."""
        deadline = time.monotonic() + timeout
        interval = poll_interval
        while True:
            task = self.get(task_id, kind)
            if on_progress is not None:
                on_progress(task)
            if task.finished:
                return task
            left = deadline - time.monotonic()
            if left <= 0:
                raise WaitTimeoutError(f"task {task_id} still PENDING after {timeout}s", task)
            self._client._sleep(min(interval, left))
            interval = min(max_poll_interval, interval * 1.5)


class Syncs(_Resource):
    def trigger(self, type: str = "FULL") -> SyncRequested:
        data = self._client.request("POST", "/v1/force-sync", json={"type": type})["data"]
        return SyncRequested.from_wire(data)

    def get(self, sync_id: str) -> SyncRun:
        """Extension: GET /v1/syncs/{sync_id}."""
        return SyncRun.from_wire(self._client.request("GET", f"/v1/syncs/{sync_id}")["data"])

    def wait(
        self,
        sync_id: str,
        *,
        timeout: float = 3600.0,
        poll_interval: float = 0.2,
        max_poll_interval: float = 5.0,
    ) -> SyncRun:
        """Poll until the sync run has ended; returns it, or raises WaitTimeoutError."""
        deadline = time.monotonic() + timeout
        interval = poll_interval
        while True:
            run = self.get(sync_id)
            if run.finished:
                return run
            left = deadline - time.monotonic()
            if left <= 0:
                raise WaitTimeoutError(f"sync {sync_id} still {run.state} after {timeout}s", run)
            self._client._sleep(min(interval, left))
            interval = min(max_poll_interval, interval * 1.5)
