"""The shared remote HTTP client, over real HTTP on loopback: what it retries, how long it waits,
what it raises after the last attempt, and that secrets never reach a message or a log line."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import anyio
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from lmsbridge.connectors.errors import ConnectorError
from lmsbridge.connectors.http import Redactor, RemoteHttpClient, RetryPolicy, retry_after_seconds
from lmsbridge.errors import ErrorCode
from tests.conftest import free_port, running

SECRET = "s3cr3t-token-value"


@dataclass
class Script:
    """What the scripted remote answers, one entry per request; then 200 "ok"."""

    answers: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    delay: float = 0.0
    seen: list[str] = field(default_factory=list)


@dataclass
class Remote:
    url: str
    script: Script


@pytest.fixture(scope="module")
def remote() -> Iterator[Remote]:
    state = Remote("", Script())

    def answer_now(script: Script, request: Request) -> Response:
        if script.answers:
            status, headers = script.answers.pop(0)
            return PlainTextResponse(f"status {status}", status, headers)
        if request.url.path == "/garbled":
            return Response(b"not gzip at all", headers={"Content-Encoding": "gzip"})
        return PlainTextResponse("ok")

    async def answer(request: Request) -> Response:
        # The answer is chosen from the script of the test that is running when the request
        # arrives: a request a timed-out test left waiting takes nothing from the next test's.
        script = state.script
        script.seen.append(str(request.url))
        response = answer_now(script, request)
        if script.delay:
            await anyio.sleep(script.delay)
        return response

    app = Starlette(routes=[Route("/{path:path}", answer, methods=["GET", "POST"])])
    with running(app) as state.url:
        yield state


@pytest.fixture
def script(remote: Remote) -> Script:
    remote.script = Script()
    return remote.script


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def client(url: str, sleeps: Sleeps, **retry: float) -> RemoteHttpClient:
    policy = RetryPolicy(**{"attempts": 3, "base_delay": 0.05, "jitter": 0.0, **retry})  # type: ignore[arg-type]
    return RemoteHttpClient(
        url,
        service="Remote",
        timeout=2.0,
        retry=policy,
        secrets=[SECRET],
        secret_params=["wstoken"],
        sleep=sleeps,
    )


def test_a_503_is_retried_with_growing_delays_until_the_remote_answers(
    remote: Remote, script: Script
) -> None:
    script.answers += [(503, {}), (502, {})]
    sleeps = Sleeps()
    with client(remote.url, sleeps) as http:
        response = http.request("GET", "/items")
    assert response.status_code == 200
    assert len(script.seen) == 3
    assert sleeps == [0.05, 0.1]


def test_retry_after_is_honoured_when_longer_than_the_backoff(remote: Remote, script: Script) -> None:
    script.answers += [(429, {"Retry-After": "2"}), (503, {"Retry-After": "0"})]
    sleeps = Sleeps()
    with client(remote.url, sleeps) as http:
        assert http.request("GET", "/items").status_code == 200
    assert sleeps == [2.0, 0.1]


def test_a_remote_that_keeps_answering_429_ends_in_rate_limit_exceeded(
    remote: Remote, script: Script
) -> None:
    script.answers += [(429, {"Retry-After": "1"})] * 3
    with client(remote.url, Sleeps()) as http, pytest.raises(ConnectorError) as raised:
        http.request("GET", "/items")
    assert raised.value.code == ErrorCode.REMOTE_RATE_LIMIT_EXCEEDED
    assert "3 attempts" in raised.value.message
    assert len(script.seen) == 3


def test_a_retry_after_beyond_the_limit_is_not_waited_for(remote: Remote, script: Script) -> None:
    later = format_datetime(datetime.now(UTC) + timedelta(hours=1), usegmt=True)
    script.answers += [(503, {"Retry-After": later})]
    sleeps = Sleeps()
    with client(remote.url, sleeps) as http, pytest.raises(ConnectorError) as raised:
        http.request("GET", "/items")
    assert raised.value.code == ErrorCode.REMOTE_SERVICE_UNAVAILABLE
    assert sleeps == [] and len(script.seen) == 1


def test_5xx_until_the_last_attempt_ends_in_service_unavailable(remote: Remote, script: Script) -> None:
    script.answers += [(500, {}), (504, {}), (503, {})]
    with client(remote.url, Sleeps()) as http, pytest.raises(ConnectorError) as raised:
        http.request("POST", "/items", data={"a": "1"})
    assert raised.value.code == ErrorCode.REMOTE_SERVICE_UNAVAILABLE
    assert "HTTP 503 after 3 attempts" in raised.value.message


def test_a_4xx_is_returned_at_once_for_the_caller_to_interpret(remote: Remote, script: Script) -> None:
    script.answers += [(404, {})]
    sleeps = Sleeps()
    with client(remote.url, sleeps) as http:
        assert http.request("GET", "/missing").status_code == 404
    assert sleeps == [] and len(script.seen) == 1


def test_timeouts_are_retried_then_end_in_service_unavailable(remote: Remote, script: Script) -> None:
    script.delay = 1.0
    policy = RetryPolicy(attempts=2, base_delay=0.01, jitter=0.0)
    with (
        RemoteHttpClient(remote.url, service="Remote", timeout=0.2, retry=policy, sleep=Sleeps()) as http,
        pytest.raises(ConnectorError) as raised,
    ):
        http.request("GET", "/slow")
    assert raised.value.code == ErrorCode.REMOTE_SERVICE_UNAVAILABLE
    assert "did not answer in time after 2 attempts" in raised.value.message
    assert len(script.seen) == 2


def test_an_unreadable_answer_is_an_unknown_error_not_retried(remote: Remote, script: Script) -> None:
    sleeps = Sleeps()
    with client(remote.url, sleeps) as http, pytest.raises(ConnectorError) as raised:
        http.request("GET", "/garbled")
    assert raised.value.code == ErrorCode.REMOTE_UNKNOWN_HTTP_ERROR
    assert sleeps == []


def test_an_unreachable_remote_ends_in_service_unavailable() -> None:
    sleeps = Sleeps()
    with client(f"http://127.0.0.1:{free_port()}", sleeps) as http, pytest.raises(ConnectorError) as raised:
        http.request("GET", "/items")
    assert raised.value.code == ErrorCode.REMOTE_SERVICE_UNAVAILABLE
    assert "could not be reached after 3 attempts" in raised.value.message
    assert len(sleeps) == 2


def test_secrets_never_reach_messages_or_logs(
    remote: Remote, script: Script, caplog: pytest.LogCaptureFixture
) -> None:
    script.answers += [(503, {})] * 3
    caplog.set_level(logging.DEBUG, logger="lmsbridge.connectors.http")
    with client(remote.url, Sleeps()) as http, pytest.raises(ConnectorError) as raised:
        http.request("GET", "/items", params={"wstoken": SECRET, "q": "x"})
    assert SECRET in script.seen[0]  # it was sent...
    assert SECRET not in raised.value.message  # ...and is shown nowhere
    assert caplog.records
    assert all(SECRET not in record.getMessage() for record in caplog.records)
    assert any(
        "wstoken=%5Bredacted%5D" in r.getMessage() or "[redacted]" in r.getMessage() for r in caplog.records
    )


def test_backoff_is_exponential_capped_and_jittered_within_bounds() -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=5.0, jitter=0.5)
    for retry, ceiling in ((1, 1.0), (2, 2.0), (3, 4.0), (4, 5.0), (9, 5.0)):
        delay = policy.backoff(retry)
        assert ceiling / 2 <= delay <= ceiling


def test_retry_after_reads_seconds_and_http_dates() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert retry_after_seconds("7") == 7.0
    assert retry_after_seconds(format_datetime(now + timedelta(seconds=30), usegmt=True), now) == 30.0
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None


def test_the_redactor_blanks_secret_values_and_secret_parameters() -> None:
    redactor = Redactor([SECRET], ["wstoken"])
    assert SECRET not in redactor.text(f"failed with {SECRET} inside")
    assert "wstoken=[redacted]" in redactor.text("GET /x?wstoken=abc&b=1")
    assert "abc" not in redactor.url("http://h/x?wstoken=abc&b=1")
