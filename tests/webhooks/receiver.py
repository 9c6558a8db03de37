"""A webhook receiver on loopback: a tiny ASGI app that records every request (raw body and
headers, on arrival) and can be told to fail the first N with 500, or to hang on the first N."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.waiting import wait_until


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    answered: int | None = None

    @property
    def event(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.body)
        return value


@dataclass
class Receiver:
    fail_first: int = 0
    hang_first: int = 0
    hang_seconds: float = 8.0
    requests: list[Received] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self, *, fail_first: int = 0, hang_first: int = 0) -> None:
        with self._lock:
            self.requests.clear()
            self.fail_first = fail_first
            self.hang_first = hang_first

    def on(self, path: str) -> list[Received]:
        with self._lock:
            return [r for r in self.requests if r.path == path]

    def events(self, path: str, type_: str | None = None) -> list[dict[str, Any]]:
        return [r.event for r in self.on(path) if type_ is None or r.event["type"] == type_]

    def wait_for(self, condition: Callable[[], bool], timeout: float, what: str) -> None:
        wait_until(
            condition, timeout=timeout, message=lambda: f"waiting for {what}: {self.requests}", interval=0.02
        )

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        record = Received(scope["path"], headers, body)
        with self._lock:
            self.requests.append(record)
            n = len(self.requests)
            hang = n <= self.hang_first
            fail = n <= self.fail_first
        if hang:
            await asyncio.sleep(self.hang_seconds)
        status = 500 if fail else 200
        record.answered = status
        await send(
            {"type": "http.response.start", "status": status, "headers": [(b"content-type", b"text/plain")]}
        )
        await send({"type": "http.response.body", "body": b"ok" if status == 200 else b"failing on purpose"})
