"""Paginators: what the next page's request is, from the page just read. Each is pure (a page in,
the next position out) and remembers the positions it has given and the pages it has seen, so a
remote that hands out the same position or answers the same page again raises `PagingLoopError`
instead of paging forever. An empty page ends."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from lmsbridge.connectors.errors import ConnectorError
from lmsbridge.connectors.http.client import RemoteHttpClient
from lmsbridge.connectors.http.resolution import DEFAULT, ResolutionTable
from lmsbridge.errors import ErrorCode


class PagingLoopError(ConnectorError):
    """The remote gave a position already read: it would page forever."""

    code = ErrorCode.REMOTE_UNKNOWN_HTTP_ERROR


@dataclass(frozen=True)
class Page:
    """One answer as a paginator sees it: the rows extracted from it, its body and headers."""

    rows: Sequence[Any]
    body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, response: httpx.Response, rows: Sequence[Any]) -> Page:
        body = response.json() if response.content else None
        return cls(rows, body, response.headers)


class Paginator(ABC):
    """`first()` is the parameters of the first request; `next(page)` those of the next one, or
    None when the page was the last."""

    def __init__(self) -> None:
        self._seen: set[str] = set()
        self._pages: set[int] = set()

    @abstractmethod
    def first(self) -> dict[str, Any]: ...

    @abstractmethod
    def advance(self, page: Page) -> dict[str, Any] | None: ...

    def next(self, page: Page) -> dict[str, Any] | None:
        if not page.rows:
            return None
        fingerprint = hash(repr(page.rows))
        if fingerprint in self._pages:
            raise PagingLoopError("The remote answered the same page twice; paging stopped.")
        self._pages.add(fingerprint)
        following = self.advance(page)
        if following is None:
            return None
        key = repr(sorted(following.items()))
        if key in self._seen:
            raise PagingLoopError(f"The remote answered a page already read ({following}); paging stopped.")
        self._seen.add(key)
        return following


class OffsetPaginator(Paginator):
    """`offset`/`limit` (names configurable); a short page is the last."""

    def __init__(
        self, limit: int, offset_param: str = "offset", limit_param: str = "limit", start: int = 0
    ) -> None:
        super().__init__()
        self.limit, self.offset_param, self.limit_param, self.offset = limit, offset_param, limit_param, start

    def first(self) -> dict[str, Any]:
        return {self.offset_param: self.offset, self.limit_param: self.limit}

    def advance(self, page: Page) -> dict[str, Any] | None:
        if len(page.rows) < self.limit:
            return None
        self.offset += len(page.rows)
        return {self.offset_param: self.offset, self.limit_param: self.limit}


class PageNumberPaginator(Paginator):
    """`page`/`per_page`, from 1 (or `start`); ends on a short page, or at `total_pages` when the
    body says how many there are (`total_pages_key`)."""

    def __init__(
        self,
        size: int,
        page_param: str = "page",
        size_param: str = "per_page",
        start: int = 1,
        total_pages_key: str | None = None,
    ) -> None:
        super().__init__()
        self.size, self.page_param, self.size_param = size, page_param, size_param
        self.number, self.total_pages_key = start, total_pages_key

    def first(self) -> dict[str, Any]:
        return {self.page_param: self.number, self.size_param: self.size}

    def advance(self, page: Page) -> dict[str, Any] | None:
        total = _dig(page.body, self.total_pages_key) if self.total_pages_key else None
        if total is not None and self.number >= int(total):
            return None
        if total is None and len(page.rows) < self.size:
            return None
        self.number += 1
        return {self.page_param: self.number, self.size_param: self.size}


class NextLinkPaginator(Paginator):
    """The next page's URL in the body (`next`, `paging.next`, OData's `@odata.nextLink`...):
    the position is `{"url": ...}` and the caller requests it as it is."""

    def __init__(self, path: str = "next") -> None:
        super().__init__()
        self.path = path

    def first(self) -> dict[str, Any]:
        return {}

    def advance(self, page: Page) -> dict[str, Any] | None:
        link = _dig(page.body, self.path)
        return {"url": str(link)} if link else None


class ODataPaginator(NextLinkPaginator):
    """OData v4 (`@odata.nextLink`) and v2 (`d.__next`) server-driven paging."""

    def __init__(self, version: int = 4) -> None:
        super().__init__("@odata.nextLink" if version == 4 else "d.__next")


class LinkHeaderPaginator(Paginator):
    """RFC 8288 `Link: <...>; rel="next"`."""

    def first(self) -> dict[str, Any]:
        return {}

    def advance(self, page: Page) -> dict[str, Any] | None:
        header = page.headers.get("link") or page.headers.get("Link")
        if not header:
            return None
        links = httpx.Response(200, headers={"Link": header}).links
        target = links.get("next", {}).get("url")
        return {"url": target} if target else None


class CursorPaginator(Paginator):
    """A cursor token in the body (`next_cursor`, `paging.cursor`...) sent back as `param`."""

    def __init__(self, path: str, param: str = "cursor", extra: Mapping[str, Any] | None = None) -> None:
        super().__init__()
        self.path, self.param, self.extra = path, param, dict(extra or {})

    def first(self) -> dict[str, Any]:
        return dict(self.extra)

    def advance(self, page: Page) -> dict[str, Any] | None:
        token = _dig(page.body, self.path)
        return {**self.extra, self.param: token} if token else None


class SoapPagePaginator(Paginator):
    """SOAP page/count (Workday's `Page` and `Total_Pages` in `Response_Results`): the body given
    is the parsed results element as a mapping."""

    def __init__(self, count: int, page_key: str = "Page", total_key: str = "Total_Pages") -> None:
        super().__init__()
        self.count, self.page_key, self.total_key = count, page_key, total_key
        self.number = 1

    def first(self) -> dict[str, Any]:
        return {"Page": 1, "Count": self.count}

    def advance(self, page: Page) -> dict[str, Any] | None:
        total = int(_dig(page.body, self.total_key) or 0)
        current = int(_dig(page.body, self.page_key) or self.number)
        if current >= total:
            return None
        self.number = current + 1
        return {"Page": self.number, "Count": self.count}


def _dig(body: Any, path: str | None) -> Any:
    """A value by dotted path (`paging.next`); a key that itself holds dots (`@odata.nextLink`)
    is tried whole first."""
    if path is None or not isinstance(body, Mapping):
        return None
    if path in body:
        return body[path]
    head, _, rest = path.partition(".")
    return _dig(body.get(head), rest) if rest else None


def paginate(
    client: RemoteHttpClient,
    path: str,
    paginator: Paginator,
    rows: Callable[[Any], Sequence[Any]],
    *,
    params: Mapping[str, Any] | None = None,
    resolution: ResolutionTable = DEFAULT,
) -> Iterator[Sequence[Any]]:
    """Every page of a GET, each answer checked against `resolution`, until the paginator says
    the last page was read; a position holding a `url` (next links) is requested as it is."""
    position = paginator.first()
    while True:
        if "url" in position:
            response = client.request("GET", str(position["url"]))
        else:
            response = client.request("GET", path, params={**(params or {}), **position})
        resolution.check(response, client.service)
        body = response.json() if response.content else None
        page = Page(rows(body), body, response.headers)
        if page.rows:
            yield page.rows
        following = paginator.next(page)
        if following is None:
            return
        position = following
