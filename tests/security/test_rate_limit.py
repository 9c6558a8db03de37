"""Per-API-key rate limiting (DESIGN.md section 5), through HTTP: a token bucket per key that answers
429 PLATFORM.RATE_LIMIT_EXCEEDED in the contract's envelope, with Retry-After, and the three
ratelimit-* headers on every counted response."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from lmsbridge.api.ratelimit import PRUNE_ABOVE, RateLimiter, TokenBuckets
from lmsbridge.app import create_app
from lmsbridge.outbound import verifying_tls
from tests.conftest import Server, make_settings, make_tenant, running
from tests.contract import checked


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@contextmanager
def limited_server(server: Server, tmp_path: Any, per_minute: int) -> Iterator[str]:
    """The app as `serve` builds it, with its own rate limit, on the session's store."""
    settings = make_settings(server.settings.database_url, tmp_path, rate_limit_per_minute=per_minute)
    with running(create_app(server.store, settings)) as url:
        yield url


@contextmanager
def clocked_server(server: Server, tmp_path: Any, per_minute: int, clock: FakeClock) -> Iterator[str]:
    """The app without its own limiter, wrapped in one whose clock the test moves."""
    settings = make_settings(server.settings.database_url, tmp_path, rate_limit_per_minute=0)
    with running(RateLimiter(create_app(server.store, settings), per_minute=per_minute, clock=clock)) as url:
        yield url


def get(url: str, key: str, path: str = "/v1/check-api-key") -> httpx.Response:
    return httpx.get(
        url + path, headers={"Authorization": f"Bearer {key}"}, timeout=10, verify=verifying_tls()
    )


def test_a_key_gets_its_limit_then_429_in_the_contract_envelope(clean_server: Server, tmp_path: Any) -> None:
    tenant = make_tenant(clean_server)
    with limited_server(clean_server, tmp_path, per_minute=3) as url:
        remaining = []
        for _ in range(3):
            response = checked(get(url, tenant.key))
            assert response.status_code == 200
            assert response.headers["ratelimit-limit"] == "3"
            assert 0 < int(response.headers["ratelimit-reset"]) <= 60
            remaining.append(int(response.headers["ratelimit-remaining"]))
        assert remaining == [2, 1, 0]

        refused = checked(get(url, tenant.key))
        assert refused.status_code == 429
        error = refused.json()["error"]
        assert error["code"] == "PLATFORM.RATE_LIMIT_EXCEEDED"
        assert error["title"] and "3 requests a minute" in error["message"]
        assert 1 <= int(refused.headers["Retry-After"]) <= 20
        assert refused.headers["ratelimit-limit"] == "3"
        assert refused.headers["ratelimit-remaining"] == "0"
        assert int(refused.headers["ratelimit-reset"]) >= int(refused.headers["Retry-After"])


def test_every_route_under_v1_counts_and_error_responses_carry_the_headers(
    clean_server: Server, tmp_path: Any
) -> None:
    tenant = make_tenant(clean_server)
    with limited_server(clean_server, tmp_path, per_minute=2) as url:
        missing_integration = get(url, tenant.key, "/v1/lms/users")
        assert missing_integration.status_code == 400
        assert missing_integration.headers["ratelimit-remaining"] == "1"
        unknown_route = get(url, tenant.key, "/v1/no-such-route")
        assert unknown_route.status_code == 404
        assert unknown_route.headers["ratelimit-remaining"] == "0"
        assert get(url, tenant.key, "/v1/lms/courses").status_code == 429


def test_keys_have_separate_buckets(clean_server: Server, tmp_path: Any) -> None:
    first, second = make_tenant(clean_server), make_tenant(clean_server, environment="other")
    with limited_server(clean_server, tmp_path, per_minute=2) as url:
        assert [get(url, first.key).status_code for _ in range(3)] == [200, 200, 429]
        assert [get(url, second.key).status_code for _ in range(2)] == [200, 200]
        # Unknown keys have buckets of their own too: guessing keys cannot drain a real one.
        assert [get(url, "lmsb_guessed").status_code for _ in range(3)] == [401, 401, 429]
        assert get(url, first.key).status_code == 429


def test_the_bucket_refills_at_the_limit_per_minute(clean_server: Server, tmp_path: Any) -> None:
    tenant = make_tenant(clean_server)
    clock = FakeClock()
    with clocked_server(clean_server, tmp_path, per_minute=60, clock=clock) as url:
        assert all(get(url, tenant.key).status_code == 200 for _ in range(60))
        refused = get(url, tenant.key)
        assert refused.status_code == 429
        assert refused.headers["Retry-After"] == "1"
        assert refused.headers["ratelimit-reset"] == "60"

        clock.now += 1.0  # one token back
        again = get(url, tenant.key)
        assert again.status_code == 200
        assert again.headers["ratelimit-remaining"] == "0"
        assert get(url, tenant.key).status_code == 429

        clock.now += 3600  # never more than a full bucket
        assert get(url, tenant.key).headers["ratelimit-remaining"] == "59"


def test_calls_without_a_key_and_outside_v1_are_not_counted(clean_server: Server, tmp_path: Any) -> None:
    tenant = make_tenant(clean_server)
    with limited_server(clean_server, tmp_path, per_minute=1) as url:
        for _ in range(3):
            anonymous = httpx.get(url + "/v1/check-api-key", timeout=10)
            assert anonymous.status_code == 401
            assert "ratelimit-limit" not in anonymous.headers
            health = httpx.get(url + "/healthz", headers={"Authorization": f"Bearer {tenant.key}"})
            assert health.status_code == 200
            assert "ratelimit-limit" not in health.headers
        assert get(url, tenant.key).status_code == 200


def test_zero_turns_the_limit_off(clean_server: Server, tmp_path: Any) -> None:
    tenant = make_tenant(clean_server)
    with limited_server(clean_server, tmp_path, per_minute=0) as url:
        for _ in range(20):
            response = get(url, tenant.key)
            assert response.status_code == 200
            assert "ratelimit-limit" not in response.headers


def test_the_default_is_6000_a_minute(server: Server) -> None:
    assert server.settings.rate_limit_per_minute == 6000


@pytest.mark.parametrize("spread", [1, 10])
def test_buckets_of_many_keys_stay_bounded(spread: int) -> None:
    clock = FakeClock()
    buckets = TokenBuckets(60, clock)
    for n in range(PRUNE_ABOVE * 2):
        buckets.take(f"key-{n}")
        clock.now += spread  # by then every earlier bucket has refilled
    assert len(buckets._buckets) <= PRUNE_ABOVE
    # A bucket still in use is never forgotten.
    busy = TokenBuckets(1, clock)
    assert busy.take("busy").allowed
    for n in range(PRUNE_ABOVE + 5):
        busy.take(f"other-{n}")
    assert not busy.take("busy").allowed
