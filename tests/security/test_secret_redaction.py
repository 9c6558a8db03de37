"""Secrets never reach a log, an error message or a stored interaction (DESIGN.md section 4). A
known secret is fed through every way a client or a remote can carry one: the Authorization
header, X-Api-Key and other secret-named headers, query parameters named token, api_key or
password, body fields with such names, remote credentials, a remote that echoes them; then every
output is searched: HTTP responses, the stored interactions and every other table, the log pages
and the server's own log records."""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest
from sqlalchemy import select

from lmsbridge.db.tables import interactions
from lmsbridge.integrations.service import create_integration
from lmsbridge.jobs import wake_workers
from lmsbridge.outbound import verifying_tls
from lmsbridge.testing.emulators.moodle import create_app as moodle_app
from lmsbridge.testing.emulators.moodle import seeded_site
from tests.api.helpers import COURSES, course, wait
from tests.conftest import Server, Tenant, running
from tests.security.helpers import echoing_moodle, found_in, store_text, wait_first_run

SECRET_PARAMS = ("token", "api_key", "password", "access_token", "client_secret")
FAST_MOODLE = {"retry_base_delay_seconds": 0.01, "max_attempts": 1, "timeout_seconds": 5.0}


@dataclass
class Outputs:
    """Everything the service showed or kept while the secrets went through it."""

    responses: list[httpx.Response] = field(default_factory=list)

    def keep(self, response: httpx.Response) -> httpx.Response:
        self.responses.append(response)
        return response

    def texts(self, server: Server, caplog: pytest.LogCaptureFixture) -> dict[str, str]:
        server.app.state.interactions.flush()
        texts = {
            f"response {r.request.method} {r.request.url.path} ({r.status_code})": _shown(r)
            for r in self.responses
        }
        texts |= {f"table {name}": value for name, value in store_text(server.store).items()}
        texts |= {f"log page {r.url}": r.text for r in self._log_pages(server)}
        # The server's records: those of its threads (uvicorn's, the worker's, the interaction
        # writer's), not the test's own HTTP client logging the URLs it calls.
        texts["server log"] = "\n".join(
            caplog.handler.format(record)
            for record in caplog.records
            if record.thread != threading.get_ident()
        )
        return texts

    def _log_pages(self, server: Server) -> Iterator[httpx.Response]:
        urls = set()
        for response in self.responses:
            try:
                body = response.json()
            except ValueError:
                continue
            error = body.get("error") if isinstance(body, dict) else None
            if isinstance(error, dict) and error.get("log_url"):
                urls.add(error["log_url"])
        with server.store.read() as conn:
            urls |= {f"{server.url}/logs/{i}" for i in conn.scalars(select(interactions.c.id))}
        for url in sorted(urls):
            yield httpx.get(url, timeout=10, verify=verifying_tls())


def _shown(response: httpx.Response) -> str:
    headers = "\n".join(f"{k}: {v}" for k, v in response.headers.items())
    return f"{headers}\n\n{response.text}"


@pytest.fixture
def outputs(caplog: pytest.LogCaptureFixture) -> Outputs:
    caplog.set_level(logging.DEBUG)
    return Outputs()


def test_secrets_sent_by_a_client_are_redacted_everywhere(
    clean_server: Server, tenant: Tenant, outputs: Outputs, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "sekret-" + secrets.token_hex(12)
    url = clean_server.url
    auth = {"Authorization": f"Bearer {tenant.key}", "X-Integration-Id": tenant.integration}
    query = dict.fromkeys(SECRET_PARAMS, secret)
    with httpx.Client(base_url=url, timeout=30) as http:
        # As the API key itself, with and without a scheme.
        outputs.keep(http.get("/v1/check-api-key", headers={"Authorization": f"Bearer {secret}"}))
        outputs.keep(http.get("/v1/check-api-key", headers={"Authorization": secret}))
        outputs.keep(http.get("/v1/check-api-key", headers={"Authorization": f"Basic {secret}"}))
        # In secret-named headers and query parameters, on reads, writes and unknown routes.
        headers = {**auth, "X-Api-Key": secret, "X-Auth-Token": secret, "Cookie": f"session={secret}"}
        outputs.keep(http.get("/v1/lms/users", params=query, headers=headers))
        outputs.keep(http.get("/v1/check-api-key", params=query, headers=headers))
        outputs.keep(http.get("/v1/no-such-route", params=query, headers=headers))
        outputs.keep(http.get("/v1/lms/users", params={**query, "page_size": "0"}, headers=headers))
        # In body fields named as secrets, at any depth, in valid and invalid bodies.
        item = {**course("redaction-1"), "password": secret, "api_key": secret}
        item["course"] |= {"client_secret": secret, "auth": {"token": secret}}
        created = outputs.keep(
            http.post(COURSES, params=query, headers=headers, json={"items": [item], "secret": secret})
        )
        assert created.status_code == 200, created.text
        with httpx.Client(base_url=url, headers=auth) as api:
            wait(api, created.json()["data"]["task_id"])
        invalid = {**item, "origin_id": 5}
        outputs.keep(http.post(COURSES, headers=headers, json={"items": [invalid], "password": secret}))
        outputs.keep(
            http.post(
                COURSES,
                headers={**headers, "Content-Type": "application/json"},
                content=f'{{"items": [{{"origin_id": "x", "password": "{secret}", "course": {{"title": "t',
            )
        )
        outputs.keep(
            http.post(
                COURSES,
                headers={**headers, "Content-Type": "application/x-www-form-urlencoded"},
                content=f"password={secret}&token={secret}&origin_id=x",
            )
        )
        outputs.keep(http.post("/v1/force-sync", headers=headers, json={"type": "FULL", "token": secret}))

    texts = outputs.texts(clean_server, caplog)
    leaks = found_in(texts, [secret, tenant.key])
    assert not leaks, "\n".join(leaks)
    # The calls were recorded (the search above searched them), with the secrets blanked.
    with clean_server.store.read() as conn:
        queries = list(conn.scalars(select(interactions.c.query).where(interactions.c.query != "")))
    assert any("token=%5Bredacted%5D" in q or "token=[redacted]" in q for q in queries), queries


def test_secrets_the_service_issues_are_shown_once_and_never_recorded(
    clean_server: Server, tenant: Tenant, outputs: Outputs, caplog: pytest.LogCaptureFixture
) -> None:
    with clean_server.client(tenant.key) as api:
        webhook = outputs.keep(api.post("/v1/webhooks", json={"url": "https://receiver.example.com/hook"}))
        if webhook.status_code == 404:
            pytest.skip("the webhooks extension is not installed")
        callback = outputs.keep(api.post("/v1/webhooks/callback-secret"))
    issued = [webhook.json()["data"]["secret"], callback.json()["data"]["secret"]]
    outputs.responses.clear()  # the caller sees them once; nothing else may
    leaks = found_in(outputs.texts(clean_server, caplog), [*issued, tenant.key])
    assert not leaks, "\n".join(leaks)


def moodle_tenant(server: Server, site_url: str, token: str) -> Tenant:
    from lmsbridge.auth.service import create_key

    with server.store.write() as conn:
        key = create_key(conn, name="moodle", environment="moodle-redaction")
        integration = create_integration(
            conn,
            server.box,
            tool="moodle",
            environment="moodle-redaction",
            settings={"site_url": site_url, **FAST_MOODLE},
            credentials={"token": token},
        )
    wake_workers()
    return Tenant(key.secret, key.environment_id, integration.id)


def exercise_remote(server: Server, tenant: Tenant, outputs: Outputs) -> None:
    """A sync, a bulk task and a direct action, each calling the remote with the token."""
    run = wait_first_run(server, tenant.integration)
    assert run.state == "AUTHENTICATION_FAILED", (run.state, run.error)
    with server.client(tenant.key, tenant.integration) as api:
        outputs.keep(api.get(f"/v1/syncs/{run.id}"))
        outputs.keep(httpx.get(f"{server.url}/logs/syncs/{run.id}", timeout=10))
        created = outputs.keep(api.post(COURSES, json={"items": [course("remote-1")]}))
        assert created.status_code == 200, created.text
        task_id = created.json()["data"]["task_id"]
        assert wait(api, task_id)["status"] == "FAILED"
        outputs.keep(api.get(f"{COURSES}/{task_id}"))
        outputs.keep(httpx.get(f"{server.url}/logs/tasks/{task_id}", timeout=10))
        outputs.keep(
            api.post(
                "/v1/lms/course-progressions", json={"user_id": "remote:2", "course_revision_id": "remote:2"}
            )
        )
        outputs.keep(api.post("/v1/lms/courses/remote:2/deactivate"))


def test_remote_credentials_rejected_by_the_remote_never_surface(
    clean_server: Server, outputs: Outputs, caplog: pytest.LogCaptureFixture
) -> None:
    token = "moodletoken" + secrets.token_hex(12)
    with running(
        moodle_app(seeded_site(token="the-right-token", completion_task_interval=None, debug=True))
    ) as url:
        tenant = moodle_tenant(clean_server, url, token)
        exercise_remote(clean_server, tenant, outputs)
        leaks = found_in(outputs.texts(clean_server, caplog), [token, tenant.key])
    assert not leaks, "\n".join(leaks)


def test_remote_credentials_echoed_by_the_remote_never_surface(
    clean_server: Server, outputs: Outputs, caplog: pytest.LogCaptureFixture
) -> None:
    token = "moodletoken" + secrets.token_hex(12)
    with running(echoing_moodle()) as url:
        tenant = moodle_tenant(clean_server, url, token)
        exercise_remote(clean_server, tenant, outputs)
        leaks = found_in(outputs.texts(clean_server, caplog), [token, tenant.key])
    assert not leaks, "\n".join(leaks)
