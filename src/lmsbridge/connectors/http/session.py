"""A connector's session with its remote: one remote client is opened per read, write or action,
shared by everything inside it, and closed at its end.

`RemoteSession` is the session itself; a connector builds its client in `connect` (and refuses,
with `AuthenticationInvalidError`, when its credentials lack what the remote needs).
`ClientCredentialsSession` is the one of a remote that takes an API client's id and secret
(credentials `{"client_id", "client_secret"}`), as Udemy Business, LinkedIn Learning, 360Learning
and Cornerstone do: without both nothing is called."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from lmsbridge.connectors.base import WriteAction
from lmsbridge.connectors.errors import AuthenticationInvalidError


class RemoteApi(Protocol):
    def close(self) -> None: ...


ApiT = TypeVar("ApiT", bound=RemoteApi)


class RemoteSession(Generic[ApiT]):
    """Mixed into a `BaseConnector` before it: `class WorkdayConnector(RemoteSession[WorkdayApi],
    BaseConnector[WorkdaySettings])`."""

    # Given by BaseConnector.
    label: ClassVar[str]

    _api: ApiT | None = None

    def connect(self) -> ApiT:
        """The remote's client for this integration's credentials (with the context's transport
        and pacer); AuthenticationInvalidError when they lack what the remote needs."""
        raise NotImplementedError

    @contextmanager
    def session(self, operation: WriteAction | None = None) -> Iterator[ApiT]:
        if self._api is not None:  # a session inside a session shares the open client
            yield self._api
            return
        self._api = self.connect()
        try:
            yield self._api
        finally:
            self._api.close()
            self._api = None

    @property
    def api(self) -> ApiT:
        if self._api is None:
            raise RuntimeError(f"{self.label} calls run inside session()")
        return self._api


class ClientCredentialsSession(RemoteSession[ApiT]):
    """Mixed into a `BaseConnector` before it: `class UdemyConnector(ClientCredentialsSession[UdemyApi],
    BaseConnector[UdemySettings])`. The connector builds its client in `open_api`."""

    # Given by BaseConnector.
    credentials: dict[str, Any]
    # What the remote calls the id and secret, in the message that asks for them.
    credentials_name: ClassVar[str] = "API client"

    def open_api(self, client_id: str, client_secret: str) -> ApiT:
        """The remote's client for these credentials (with the context's transport and pacer)."""
        raise NotImplementedError

    def connect(self) -> ApiT:
        client_id, client_secret = self._credential("client_id"), self._credential("client_secret")
        if client_id is None or client_secret is None:
            raise AuthenticationInvalidError(
                f"The integration has no {self.label} {self.credentials_name}: give credentials as "
                '{"client_id": "...", "client_secret": "..."}.'
            )
        return self.open_api(client_id, client_secret)

    def _credential(self, name: str) -> str | None:
        value = self.credentials.get(name)
        return value.strip() if isinstance(value, str) and value.strip() else None
