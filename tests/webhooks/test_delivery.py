"""Webhooks delivered to a real receiver on loopback: signed as Kombo signs, in the contract's
shapes, retried with backoff after failures, every attempt recorded and visible, task-completed
after bulk tasks, and a task's callback_url receiving its final state once."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from datetime import datetime
from itertools import pairwise
from typing import Any

import httpx
from sqlalchemy import select

from lmsbridge.client.webhooks import parse_event, verify_and_parse, verify_signature
from lmsbridge.db.tables import events, interactions, webhook_deliveries, webhook_endpoints
from lmsbridge.webhooks.settings import WebhookSettings
from tests.contract import validate_schema
from tests.waiting import wait_until
from tests.webhooks.conftest import WEBHOOKS, Caller, Stack, new_integration
from tests.webhooks.receiver import Receiver

Hook = tuple[Receiver, str]


def register(api: httpx.Client, url: str, events_: list[str] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"url": url}
    if events_ is not None:
        body["events"] = events_
    response = api.post("/v1/webhooks", json=body)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    assert data["secret"].startswith("whsec_")
    return data


def own_hmac(secret: str, body: bytes) -> str:
    """The documented scheme, computed here independently of lmsbridge's code."""
    return (
        base64.urlsafe_b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest())
        .decode()
        .rstrip("=")
    )


def assert_signed(secret: str, headers: dict[str, str], body: bytes) -> None:
    header = headers["x-kombo-signature"]
    assert "=" not in header
    assert header == own_hmac(secret, body)
    assert verify_signature(secret, body, header)
    assert not verify_signature(secret, body + b" ", header)
    assert not verify_signature("whsec_another", body, header)


def deliveries_of(api: httpx.Client, endpoint_id: str) -> list[dict[str, Any]]:
    response = api.get(f"/v1/webhooks/{endpoint_id}/deliveries")
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


def test_sync_events_arrive_signed_and_in_the_contract_shapes(
    stack: Stack, caller: Caller, hook: Hook
) -> None:
    receiver, base = hook
    with caller.client(stack) as api:
        endpoint = register(api, f"{base}/hooks/all")
        integration = new_integration(stack)
        receiver.wait_for(
            lambda: {"sync-finished", "data-changed"} <= {e["type"] for e in receiver.events("/hooks/all")},
            60,
            "sync-finished and data-changed",
        )
        for request in receiver.on("/hooks/all"):
            assert request.headers["content-type"] == "application/json"
            assert_signed(endpoint["secret"], request.headers, request.body)
            event = verify_and_parse(endpoint["secret"], request.body, request.headers["x-kombo-signature"])
            assert event == parse_event(request.body)
        [finished] = receiver.events("/hooks/all", "sync-finished")
        [changed] = receiver.events("/hooks/all", "data-changed")
        validate_schema("SyncFinishedWebhookPayload", finished)
        validate_schema("DataChangedWebhookPayload", changed)
        assert finished["data"]["integration_id"] == integration
        assert finished["data"]["sync_state"] == "SUCCEEDED"
        assert changed["data"]["integration_id"] == integration
        assert {m["name"] for m in changed["data"]["changed_models"]} >= {"lms_users", "lms_courses"}

        # What arrives is the outbox's event, with its id: the payload stored in the same
        # transaction as the sync's outcome.
        with stack.store.read() as conn:
            stored = {row.id: row.payload for row in conn.execute(select(events))}
        assert stored[finished["id"]] == finished
        assert stored[changed["id"]] == changed

        wait_until(
            lambda: all(d["state"] == "delivered" for d in deliveries_of(api, endpoint["id"])),
            timeout=10,
            message="deliveries not marked delivered",
        )
        listed = deliveries_of(api, endpoint["id"])
        [created] = receiver.events("/hooks/all", "integration-created")
        assert {d["event_id"] for d in listed} == {created["id"], finished["id"], changed["id"]}
        for delivery in listed:
            assert delivery["attempts"] == 1
            [attempt] = delivery["attempt_log"]
            assert attempt["status_code"] == 200 and attempt["error"] is None
            assert attempt["duration_ms"] >= 0


def test_a_failing_receiver_gets_retries_with_the_same_event_until_it_answers(
    stack: Stack, caller: Caller, hook: Hook
) -> None:
    receiver, base = hook
    receiver.reset(fail_first=3)
    with caller.client(stack) as api:
        endpoint = register(api, f"{base}/hooks/flaky", ["sync-finished"])
        new_integration(stack)
        receiver.wait_for(lambda: any(r.answered == 200 for r in receiver.on("/hooks/flaky")), 60, "success")
        requests = receiver.on("/hooks/flaky")
        assert [r.answered for r in requests] == [500, 500, 500, 200]
        ids = {r.event["id"] for r in requests}
        assert len(ids) == 1  # every retry is the same event
        for request in requests:
            assert_signed(endpoint["secret"], request.headers, request.body)

        wait_until(
            lambda: deliveries_of(api, endpoint["id"])[0]["state"] == "delivered",
            timeout=10,
            message="not delivered",
        )
        [delivery] = deliveries_of(api, endpoint["id"])
        assert delivery["attempts"] == 4
        log = delivery["attempt_log"]
        assert [a["status_code"] for a in log] == [500, 500, 500, 200]
        assert [a["number"] for a in log] == [1, 2, 3, 4]
        assert log[0]["error"] == "the receiver answered HTTP 500"
        # Backoff: 0.2 s, then 0.4 s, then 0.8 s (base doubling) between attempts.
        starts = [datetime.fromisoformat(a["started_at"].replace("Z", "+00:00")) for a in log]
        gaps = [(b - a).total_seconds() for a, b in pairwise(starts)]
        assert [round(g, 1) >= d for g, d in zip(gaps, (0.2, 0.4, 0.8), strict=True)] == [True] * 3, gaps

        page = httpx.get(delivery["log_url"])
        assert page.status_code == 200
        assert "the receiver answered HTTP 500" in page.text
        assert delivery["event_id"] in page.text


def test_a_receiver_that_never_answers_2xx_is_given_up_after_the_retry_window(
    stack: Stack, caller: Caller, hook: Hook
) -> None:
    receiver, base = hook
    receiver.reset(fail_first=1000)
    with caller.client(stack) as api:
        endpoint = register(api, f"{base}/hooks/down", ["sync-finished"])
        new_integration(stack)
        wait_until(
            lambda: [d["state"] for d in deliveries_of(api, endpoint["id"])] == ["failed"],
            timeout=WEBHOOKS.retry_window_seconds + 15,
            message="the delivery did not fail for good",
        )
        [delivery] = deliveries_of(api, endpoint["id"])
        assert delivery["attempts"] == len(receiver.on("/hooks/down")) >= 4
        assert delivery["next_attempt_at"] is None
        assert len({r.event["id"] for r in receiver.on("/hooks/down")}) == 1


def test_the_backoff_doubles_from_10_seconds_capped_at_an_hour_for_24_hours() -> None:
    defaults = WebhookSettings()
    delays = [defaults.delay(n) for n in range(1, 16)]
    assert delays[:4] == [10, 20, 40, 80]
    assert max(delays) == 3600 == delays[-1]
    assert defaults.retry_window_seconds == 24 * 3600
    # Attempts until 24 hours after the event: about 30 of them.
    elapsed, attempts = 0.0, 1
    while elapsed + defaults.delay(attempts) <= defaults.retry_window_seconds:
        elapsed += defaults.delay(attempts)
        attempts += 1
    assert 25 <= attempts <= 35


def test_task_completed_reaches_endpoints_and_the_callback_url_gets_the_final_state_once(
    stack: Stack, caller: Caller, hook: Hook
) -> None:
    receiver, base = hook
    with caller.client(stack) as api:
        callback_secret = api.post("/v1/webhooks/callback-secret").json()["data"]["secret"]
        endpoint = register(api, f"{base}/hooks/tasks", ["task-completed"])
        integration = new_integration(stack)
    with caller.client(stack, integration) as api:
        items = [
            {
                "origin_id": f"c-{n}",
                "course": {"type": "EXTERNAL", "title": f"C {n}", "course_url": f"https://x.example/{n}"},
            }
            for n in range(3)
        ]
        response = api.post("/v1/lms/courses/bulk", json={"items": items, "callback_url": f"{base}/callback"})
        assert response.status_code == 200, response.text
        task_id = response.json()["data"]["task_id"]
        receiver.wait_for(
            lambda: receiver.on("/callback") and receiver.on("/hooks/tasks"), 60, "task-completed"
        )
        status = api.get(f"/v1/lms/courses/bulk/{task_id}").json()["data"]

    [event] = receiver.events("/hooks/tasks")
    assert event["type"] == "task-completed"
    assert set(event) == {"id", "type", "data"}
    assert event["data"] == {
        "task_id": task_id,
        "integration_id": integration,
        "status": "COMPLETED",
        "completed_at": status["completed_at"],
        "progress": {"total": 3, "succeeded": 3, "failed": 0, "percent": 100},
    }
    assert all(e["type"] == "task-completed" for e in receiver.events("/hooks/tasks"))  # filtered
    [tasks_request] = receiver.on("/hooks/tasks")
    assert_signed(endpoint["secret"], tasks_request.headers, tasks_request.body)

    time.sleep(1.0)  # anything more would have arrived by now
    [callback] = receiver.on("/callback")
    assert callback.event == event  # the same event, id included
    assert_signed(callback_secret, callback.headers, callback.body)
    with stack.store.read() as conn:
        rows = conn.execute(
            select(webhook_deliveries).where(webhook_deliveries.c.event_id == event["id"])
        ).all()
    assert sorted(r.endpoint_id for r in rows) == sorted(["callback", endpoint["id"]])


def test_a_failed_task_sends_task_completed_with_status_failed(
    stack: Stack, caller: Caller, hook: Hook
) -> None:
    receiver, base = hook
    with caller.client(stack) as api:
        register(api, f"{base}/hooks/failed", ["task-completed"])
    integration = new_integration(stack, auth_invalid="true")
    with caller.client(stack, integration) as api:
        response = api.post("/v1/hris/skills/bulk", json={"items": [{"origin_id": "s-1", "name": "Python"}]})
        assert response.status_code == 200, response.text
        task_id = response.json()["data"]["task_id"]
        receiver.wait_for(lambda: receiver.on("/hooks/failed"), 60, "task-completed")
    [event] = receiver.events("/hooks/failed")
    assert event["data"]["task_id"] == task_id
    assert event["data"]["status"] == "FAILED"
    assert event["data"]["progress"] == {"total": 1, "succeeded": 0, "failed": 0, "percent": 0}


def test_callback_url_is_checked_before_anything_is_stored(stack: Stack, caller: Caller, hook: Hook) -> None:
    _, base = hook
    integration = new_integration(stack)
    items = [{"origin_id": "s-1", "name": "Python"}]
    with caller.client(stack, integration) as api:
        missing_secret = api.post("/v1/hris/skills/bulk", json={"items": items, "callback_url": f"{base}/cb"})
        assert missing_secret.status_code == 400
        assert "callback secret" in missing_secret.json()["error"]["message"]
        api.post("/v1/webhooks/callback-secret")
        relative = api.post("/v1/hris/skills/bulk", json={"items": items, "callback_url": "/relative"})
        assert relative.status_code == 400
        assert "callback_url" in relative.json()["error"]["message"]


def test_endpoints_are_per_environment_listed_without_secrets_and_removable(
    stack: Stack, caller: Caller, hook: Hook
) -> None:
    _, base = hook
    from lmsbridge.auth.service import create_key

    with stack.store.write() as conn:
        other = create_key(conn, name="other", environment="other")
    with caller.client(stack) as api, Caller(other.secret, other.environment_id).client(stack) as stranger:
        created = register(api, f"{base}/hooks/crud", ["sync-finished", "data-changed"])
        assert created["events"] == ["data-changed", "sync-finished"]
        listed = api.get("/v1/webhooks").json()["data"]
        assert [e["id"] for e in listed] == [created["id"]]
        assert "secret" not in listed[0]
        assert stranger.get("/v1/webhooks").json()["data"] == []
        assert stranger.delete(f"/v1/webhooks/{created['id']}").status_code == 404
        assert stranger.get(f"/v1/webhooks/{created['id']}/deliveries").status_code == 404

        for bad in ({"url": "ftp://x.example/"}, {"url": "https://x.example/", "events": ["nope"]}, {}):
            response = api.post("/v1/webhooks", json=bad)
            assert response.status_code == 400, (bad, response.text)
            assert response.json()["error"]["code"] == "PLATFORM.INPUT_INVALID"

        removed = api.delete(f"/v1/webhooks/{created['id']}")
        assert removed.status_code == 200
        assert removed.json()["data"]["disabled_at"] is not None
        assert api.delete(f"/v1/webhooks/{created['id']}").json()["data"]["disabled_at"] is not None
        assert api.get("/v1/webhooks").json()["data"][0]["disabled_at"] is not None
        assert api.get("/v1/webhooks/nope/deliveries").status_code == 404

    # The secret was shown once: it is stored encrypted, and not kept in the interaction log.
    def logged() -> list[str]:
        with stack.store.read() as conn:
            query = select(interactions).where(
                interactions.c.path == "/v1/webhooks", interactions.c.method == "POST"
            )
            return [r.response_body or "" for r in conn.execute(query) if r.status_code == 200]

    wait_until(
        lambda: any(created["id"] in body for body in logged()), timeout=10, message="the POST's interaction"
    )
    assert not any(created["secret"] in body for body in logged())
    with stack.store.read() as conn:
        assert all(created["secret"] not in str(row) for row in conn.execute(select(webhook_endpoints)))
