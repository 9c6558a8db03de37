"""Paginators and the resolution table as pure functions of a page or an answer."""

from __future__ import annotations

import httpx
import pytest

from lmsbridge.connectors.errors import AuthenticationInvalidError, IntegrationError, ItemError
from lmsbridge.connectors.http.paging import (
    NextLinkPaginator,
    ODataPaginator,
    OffsetPaginator,
    Page,
    PageNumberPaginator,
    PagingLoopError,
    SoapPagePaginator,
)
from lmsbridge.connectors.http.resolution import DEFAULT, Intent, Resolution
from lmsbridge.errors import ErrorCode


def test_offset_paging_ends_on_a_short_page() -> None:
    paging = OffsetPaginator(2)
    assert paging.first() == {"offset": 0, "limit": 2}
    assert paging.next(Page([1, 2])) == {"offset": 2, "limit": 2}
    assert paging.next(Page([3])) is None


def test_page_numbers_stop_at_the_total_the_body_gives() -> None:
    paging = PageNumberPaginator(2, total_pages_key="meta.pages")
    assert paging.next(Page([1, 2], {"meta": {"pages": 2}})) == {"page": 2, "per_page": 2}
    assert paging.next(Page([3, 4], {"meta": {"pages": 2}})) is None


def test_odata_v4_and_v2_next_links() -> None:
    assert ODataPaginator().next(Page([1], {"@odata.nextLink": "https://x/p2"})) == {"url": "https://x/p2"}
    assert ODataPaginator(version=2).next(Page([1], {"d": {"__next": "https://x/p2"}})) == {
        "url": "https://x/p2"
    }
    assert ODataPaginator().next(Page([1], {"value": [1]})) is None


def test_a_next_link_handed_out_twice_is_a_loop() -> None:
    paging = NextLinkPaginator("paging.next")
    paging.next(Page([1], {"paging": {"next": "https://x/p2"}}))
    with pytest.raises(PagingLoopError):
        paging.next(Page([2], {"paging": {"next": "https://x/p2"}}))


def test_the_same_page_twice_is_a_loop_even_with_new_positions() -> None:
    paging = OffsetPaginator(2)
    paging.next(Page([1, 2]))
    with pytest.raises(PagingLoopError):
        paging.next(Page([1, 2]))


def test_soap_pages_end_at_total_pages() -> None:
    paging = SoapPagePaginator(100)
    assert paging.next(Page([1], {"Page": "1", "Total_Pages": "2"})) == {"Page": 2, "Count": 100}
    assert paging.next(Page([1, 2], {"Page": "2", "Total_Pages": "2"})) is None


def answer(status: int, **headers: str) -> httpx.Response:
    return httpx.Response(status, headers=headers)


def test_the_default_table_resolves_by_intent() -> None:
    assert DEFAULT.resolve(answer(200)).intent is Intent.OK
    assert DEFAULT.resolve(answer(401)).code is ErrorCode.INTEGRATION_AUTHENTICATION_INVALID
    assert DEFAULT.resolve(answer(403)).code is ErrorCode.INTEGRATION_PERMISSION_MISSING
    assert DEFAULT.resolve(answer(422)).intent is Intent.ITEM
    throttled = DEFAULT.resolve(answer(429, **{"Retry-After": "7"}))
    assert (throttled.intent, throttled.retry_after) == (Intent.TRANSIENT, 7.0)
    assert DEFAULT.resolve(answer(599)).code is ErrorCode.REMOTE_SERVICE_UNAVAILABLE
    with pytest.raises(AuthenticationInvalidError):
        DEFAULT.check(answer(401), "Remote")
    with pytest.raises(ItemError):
        DEFAULT.check(answer(404), "Remote")


def test_a_connector_overrides_the_rows_where_its_remote_differs() -> None:
    def expired_token(response: httpx.Response) -> Resolution | None:
        # A vendor that answers 400 with a body naming an expired token.
        if b"invalid_token" in response.content:
            return Resolution(Intent.CONFIGURATION, ErrorCode.INTEGRATION_AUTHENTICATION_INVALID, "expired")
        return None

    table = DEFAULT.override({400: expired_token})
    assert (
        table.resolve(httpx.Response(400, content=b'{"error":"invalid_token"}')).intent
        is Intent.CONFIGURATION
    )
    assert table.resolve(httpx.Response(400, content=b"{}")).intent is Intent.ITEM
    with pytest.raises(IntegrationError):
        table.check(httpx.Response(400, content=b"invalid_token"), "Remote")
