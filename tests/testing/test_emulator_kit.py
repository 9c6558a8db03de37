"""The emulator kit and the HTTP toolkit together, over real HTTP: a small REST LMS built only
from the kit (tests/testing/tiny_lms.py), read and written with the toolkit's auth flows,
paginators and resolution table, while the kit injects faults and throttles."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from lmsbridge.connectors.errors import AuthenticationInvalidError, ConnectorError, ItemError
from lmsbridge.connectors.http import RemoteHttpClient, RetryPolicy
from lmsbridge.connectors.http.auth import OAuth2
from lmsbridge.connectors.http.paging import (
    CursorPaginator,
    LinkHeaderPaginator,
    OffsetPaginator,
    PagingLoopError,
    paginate,
)
from lmsbridge.connectors.http.resolution import DEFAULT
from lmsbridge.errors import ErrorCode
from lmsbridge.testing.emulators.kit import Fault, World
from tests.conftest import running
from tests.testing.tiny_lms import CLIENT_ID, CLIENT_SECRET, TinyLms, create_app


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[str, Any]]:
    app = create_app(TinyLms())
    with running(app) as url:
        yield url, app


@pytest.fixture
def lms(served: tuple[str, Any]) -> TinyLms:
    fresh = TinyLms()
    served[1].state.lms = fresh
    return fresh


@pytest.fixture
def url(served: tuple[str, Any]) -> str:
    return served[0]


def client(url: str, auth: httpx.Auth | None = None, **kwargs: Any) -> RemoteHttpClient:
    return RemoteHttpClient(
        url,
        service="Tiny LMS",
        retry=RetryPolicy(attempts=3, base_delay=0.01, max_retry_after=5),
        auth=auth or OAuth2.client_credentials(f"{url}/oauth/token", CLIENT_ID, CLIENT_SECRET),
        secrets=[CLIENT_SECRET],
        **kwargs,
    )


def users(remote: RemoteHttpClient, paginator: Any = None, **params: Any) -> list[dict[str, Any]]:
    pages = paginate(
        remote, "/users", paginator or OffsetPaginator(10), lambda body: body["data"], params=params
    )
    return [row for page in pages for row in page]


def test_the_world_is_the_sandbox_s_for_the_same_seed() -> None:
    from lmsbridge.sandbox.generator import SandboxSize, generate

    world = World.seeded(seed=3, users=5, courses=2, enrolments=4)
    sandbox = [d for m, _, d in generate(SandboxSize(5, 2, 4, 3)) if m == "lms_users"]
    assert [u.email for u in world.users] == [d["email"] for d in sandbox]
    assert len(world.courses) == 2 and len(world.enrolments) == 4


def test_offset_cursor_and_link_paging_read_every_user_once(url: str, lms: TinyLms) -> None:
    with client(url) as remote:
        expected = [u.key for u in lms.world.users]
        assert [u["id"] for u in users(remote)] == expected
        assert [u["id"] for u in users(remote, CursorPaginator("next_cursor"), style="cursor")] == expected
        assert [u["id"] for u in users(remote, LinkHeaderPaginator(), style="link", limit=10)] == expected
    assert lms.issuer.issued == 1  # one token, cached for every page


def test_a_remote_that_repeats_its_first_page_is_caught(url: str, lms: TinyLms) -> None:
    lms.repeat_first_page = True
    with client(url) as remote, pytest.raises(PagingLoopError):
        users(remote)
    assert len(lms.calls.of("GET /users")) == 2


def test_an_expired_token_is_fetched_again_once_on_401(url: str, lms: TinyLms) -> None:
    with client(url) as remote:
        users(remote)
        lms.issuer.revoke_all()
        assert len(users(remote)) == 23
    assert lms.issuer.issued == 2


def test_a_token_endpoint_answering_a_form_body_works(url: str, lms: TinyLms) -> None:
    auth = OAuth2.client_credentials(f"{url}/oauth/form-token", CLIENT_ID, CLIENT_SECRET, in_body=True)
    with client(url, auth) as remote:
        assert len(users(remote)) == 23


def test_rejected_client_credentials_are_an_authentication_error(url: str, lms: TinyLms) -> None:
    auth = OAuth2.client_credentials(f"{url}/oauth/token", CLIENT_ID, "wrong")
    with client(url, auth) as remote, pytest.raises(AuthenticationInvalidError):
        users(remote)


def test_the_vendor_shaped_429_is_waited_out_and_no_user_is_lost(url: str, lms: TinyLms) -> None:
    lms.limiter.set(per_second=20, burst=1)
    with client(url) as remote:
        assert len(users(remote, OffsetPaginator(5))) == 23
    throttled = [c for c in lms.calls.all() if c.status == 429]
    assert throttled and lms.limiter.throttled == len(throttled)


def test_a_burst_of_503_is_ridden_out_and_a_lasting_one_is_unavailable(url: str, lms: TinyLms) -> None:
    with client(url) as remote:
        lms.faults.add(Fault("status", target="GET /users", times=2, status=503))
        assert len(users(remote)) == 23
        lms.faults.add(Fault("status", target="GET /users", times=None, status=502))
        with pytest.raises(ConnectorError) as raised:
            users(remote)
    assert raised.value.code is ErrorCode.REMOTE_SERVICE_UNAVAILABLE


def test_a_dropped_answer_after_the_write_leaves_the_write_done(url: str, lms: TinyLms) -> None:
    lms.faults.add(Fault("drop_after_write", target="POST /courses"))
    with client(url) as remote:
        again = remote.request("POST", "/courses", json={"origin_id": "o-1", "title": "T"})
    # The first attempt created it and lost its answer; the client's retry finds it (409 with its
    # id, which the connector reads as "already there") instead of creating a duplicate.
    assert list(lms.courses) == ["o-1"]
    assert again.status_code == 409 and again.json()["id"] == "c1"
    assert [c.fault for c in lms.calls.of("POST /courses")] == ["drop_after_write", None]
    with pytest.raises(ItemError):
        DEFAULT.check(again, "Tiny LMS")


def test_the_control_routes_inject_faults_and_show_calls(url: str, lms: TinyLms) -> None:
    added = httpx.post(f"{url}/_emulator/faults", json={"kind": "status", "status": 500, "times": 1})
    assert added.status_code == 200 and added.json()["status"] == 500
    assert httpx.post(f"{url}/_emulator/faults", json={"kind": "nonsense"}).status_code == 400
    assert httpx.get(f"{url}/users").status_code == 500
    assert httpx.get(f"{url}/users").status_code == 401
    calls = httpx.get(f"{url}/_emulator/calls").json()["calls"]
    assert [(c["status"], c["fault"]) for c in calls] == [(500, "status"), (401, None)]
    assert httpx.delete(f"{url}/_emulator/calls").json() == {"calls": []}
    httpx.post(f"{url}/_emulator/rate-limit", json={"per_second": 1, "burst": 1})
    httpx.get(f"{url}/users")
    throttled = httpx.get(f"{url}/users")
    assert throttled.status_code == 429 and throttled.json()["error"]["code"] == "rate_limited"
    assert int(throttled.headers["Retry-After"]) >= 1


def test_no_secret_reaches_an_error_message(url: str, lms: TinyLms, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG", logger="lmsbridge")
    lms.faults.add(Fault("status", times=None, status=503))
    with client(url) as remote, pytest.raises(ConnectorError) as raised:
        users(remote)
    assert CLIENT_SECRET not in raised.value.message
    assert CLIENT_SECRET not in caplog.text


def test_a_refresh_token_grant_rotates_its_refresh_token(url: str, lms: TinyLms) -> None:
    lms.issuer.add_refresh_token("first-refresh")
    seen: list[str] = []
    auth = OAuth2.refresh_token(f"{url}/oauth/token", CLIENT_ID, CLIENT_SECRET, "first-refresh")
    auth.on_refresh_token = seen.append
    with client(url, auth) as remote:
        assert len(users(remote)) == 23
        lms.issuer.revoke_all()
        assert len(users(remote)) == 23  # the rotated refresh token worked; the first would not
    assert len(seen) == 2 and "first-refresh" not in seen
    assert not lms.issuer.use_refresh_token("first-refresh")
