"""The asyncio client: the same resources and methods as `Client`, awaited."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from datetime import date, datetime
from typing import Any, Generic, TypeVar

import httpx

from lmsbridge.client import _base
from lmsbridge.client._base import BULK_PATHS, LISTS, RETRY_STATUSES, RetryPolicy, TaskKind
from lmsbridge.client._sync import Page
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


class AsyncPager(Generic[T]):
    """`async for record in client.users.list(...)`: pages fetched on demand; `pages()` yields
    the pages themselves."""

    def __init__(self, fetch: Callable[[str | None], Awaitable[dict[str, Any]]], model: Any) -> None:
        self._fetch = fetch
        self._model = model

    async def pages(self) -> AsyncIterator[Page[T]]:
        cursor: str | None = None
        while True:
            data = await self._fetch(cursor)
            yield Page([self._model.from_wire(r) for r in data["results"]], data.get("next"))
            cursor = data.get("next")
            if not cursor:
                return

    async def __aiter__(self) -> AsyncIterator[T]:
        async for page in self.pages():
            for record in page.results:
                yield record

    async def to_list(self) -> list[T]:
        return [record async for record in self]


class AsyncClient:
    """The asyncio twin of `Client` (same arguments, same resources)."""

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
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        self.base_url, self.api_key = _base.settings_from_env(base_url, api_key)
        self.integration_id = _base.integration_from_env(integration_id)
        self.on_retry = on_retry
        self._answered = False
        self.retry = retry or RetryPolicy(max_retries=max_retries)
        self._owns_http = http_client is None
        self._http = http_client or httpx.AsyncClient(base_url=self.base_url, timeout=timeout)
        self._sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
        self.integrations = AsyncIntegrations(self)
        self.users = AsyncListResource[User](self, "users")
        self.courses = AsyncCourses(self)
        self.progressions = AsyncProgressions(self)
        self.skills = AsyncSkills(self)
        self.hris_skills = AsyncHrisSkills(self)
        self.tasks = AsyncTasks(self)
        self.syncs = AsyncSyncs(self)

    def for_integration(self, integration_id: str) -> AsyncClient:
        other = AsyncClient(
            self.base_url,
            self.api_key,
            integration_id,
            retry=self.retry,
            on_retry=self.on_retry,
            http_client=self._http,
        )
        other._sleep = self._sleep
        return other

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        json: Any = None,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        all_headers = {**_base.headers(self.api_key, self.integration_id), **(headers or {})}
        attempt = 0
        while True:
            try:
                response = await self._http.request(
                    method, path, params=params, json=json, headers=all_headers
                )
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
                    await self._sleep(delay)
                    attempt += 1
                    continue
                return dict(_base.decode(response))
            if attempt >= self.retry.max_retries:
                raise failure
            delay = self.retry.delay(attempt)
            self._notify(method, path, str(failure), attempt, delay)
            await self._sleep(delay)
            attempt += 1

    def _notify(self, method: str, path: str, reason: str, attempt: int, delay: float) -> None:
        if self.on_retry is not None:
            self.on_retry(_base.retry_notice(method, path, reason, attempt, self.retry.max_retries, delay))

    async def check_api_key(self) -> ApiKeyInfo:
        return ApiKeyInfo.from_wire((await self.request("GET", "/v1/check-api-key"))["data"])

    async def force_sync(self, type: str = "FULL") -> SyncRequested:
        return await self.syncs.trigger(type)


class _Resource:
    def __init__(self, client: AsyncClient) -> None:
        self._client = client


class AsyncIntegrations(_Resource):
    async def get(self, integration_id: str | None = None) -> Integration:
        integration_id = integration_id or self._client.integration_id
        if not integration_id:
            raise ValueError("no integration id given")
        body = await self._client.request("GET", f"/v1/integrations/{integration_id}")
        return Integration.from_wire(body["data"])


class AsyncListResource(_Resource, Generic[T]):
    def __init__(self, client: AsyncClient, name: str) -> None:
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
    ) -> AsyncPager[T]:
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

        async def fetch(cursor: str | None) -> dict[str, Any]:
            query = {**params, "cursor": cursor} if cursor else params
            data: dict[str, Any] = (await self._client.request("GET", self._path, params=query))["data"]
            return data

        return AsyncPager(fetch, self._model)


async def _submit(
    client: AsyncClient, kind: TaskKind, items: Iterable[Any], idempotency_key: str | None
) -> TaskCreated:
    key = idempotency_key or _base.new_idempotency_key()
    body = await client.request(
        "POST", BULK_PATHS[kind], json=_base.bulk_body(items, kind), headers={"Idempotency-Key": key}
    )
    return _base.task_created(body, kind)


class AsyncCourses(AsyncListResource[Course]):
    def __init__(self, client: AsyncClient) -> None:
        super().__init__(client, "courses")

    async def bulk_upsert(self, items: Iterable[Any], *, idempotency_key: str | None = None) -> TaskCreated:
        return await _submit(self._client, "courses", items, idempotency_key)

    async def deactivate(self, course_id: str) -> Course:
        body = await self._client.request("POST", f"/v1/lms/courses/{course_id}/deactivate")
        return Course.from_wire(body["data"])


class AsyncSkills(AsyncListResource[Skill]):
    def __init__(self, client: AsyncClient) -> None:
        super().__init__(client, "skills")

    async def bulk_upsert(self, items: Iterable[Any], *, idempotency_key: str | None = None) -> TaskCreated:
        return await _submit(self._client, "skills", items, idempotency_key)


class AsyncHrisSkills(AsyncListResource[HrisSkill]):
    def __init__(self, client: AsyncClient) -> None:
        super().__init__(client, "hris_skills")


class AsyncProgressions(AsyncListResource[CourseProgression]):
    def __init__(self, client: AsyncClient) -> None:
        super().__init__(client, "progressions")

    async def enrol(self, user_id: str, course_revision_id: str) -> CourseProgression:
        body = {"user_id": user_id, "course_revision_id": course_revision_id}
        answer = await self._client.request("POST", "/v1/lms/course-progressions", json=body)
        return CourseProgression.from_wire(answer["data"])

    async def complete(
        self,
        course_progression_id: str,
        *,
        completed_at: datetime | date | str | None = None,
        score: int | None = None,
    ) -> CourseProgression:
        path = f"/v1/lms/course-progressions/{course_progression_id}/complete"
        answer = await self._client.request("POST", path, json=_base.complete_body(completed_at, score))
        return CourseProgression.from_wire(answer["data"])


class AsyncTasks(_Resource):
    async def get(self, task_id: str, kind: TaskKind = "courses") -> Task:
        return task_from_wire((await self._client.request("GET", f"{BULK_PATHS[kind]}/{task_id}"))["data"])

    async def wait(
        self,
        task_id: str,
        kind: TaskKind = "courses",
        *,
        timeout: float = 600.0,  # noqa: ASYNC109 (the same signature as Client's)
        poll_interval: float = 0.2,
        max_poll_interval: float = 5.0,
        on_progress: Callable[[Task], None] | None = None,
    ) -> Task:
        deadline = time.monotonic() + timeout
        interval = poll_interval
        while True:
            task = await self.get(task_id, kind)
            if on_progress is not None:
                on_progress(task)
            if task.finished:
                return task
            left = deadline - time.monotonic()
            if left <= 0:
                raise WaitTimeoutError(f"task {task_id} still PENDING after {timeout}s", task)
            await self._client._sleep(min(interval, left))
            interval = min(max_poll_interval, interval * 1.5)


class AsyncSyncs(_Resource):
    async def trigger(self, type: str = "FULL") -> SyncRequested:
        data = (await self._client.request("POST", "/v1/force-sync", json={"type": type}))["data"]
        return SyncRequested.from_wire(data)

    async def get(self, sync_id: str) -> SyncRun:
        return SyncRun.from_wire((await self._client.request("GET", f"/v1/syncs/{sync_id}"))["data"])

    async def wait(
        self,
        sync_id: str,
        *,
        timeout: float = 3600.0,  # noqa: ASYNC109 (the same signature as Client's)
        poll_interval: float = 0.2,
        max_poll_interval: float = 5.0,
    ) -> SyncRun:
        deadline = time.monotonic() + timeout
        interval = poll_interval
        while True:
            run = await self.get(sync_id)
            if run.finished:
                return run
            left = deadline - time.monotonic()
            if left <= 0:
                raise WaitTimeoutError(f"sync {sync_id} still {run.state} after {timeout}s", run)
            await self._client._sleep(min(interval, left))
            interval = min(max_poll_interval, interval * 1.5)
