"""Where lmsbridge may send a request whose address a user typed (webhook endpoints, a task's
`callback_url`, an integration's `site_url`). Any API key holder types these, so the worker must
not become their way into cloud metadata or an internal port:

- link-local, metadata, multicast, unspecified and reserved addresses are always refused;
- loopback and private ranges are refused unless LMSBRIDGE_OUTBOUND_ALLOW_PRIVATE is on (the
  embedded default, so local receivers and emulators work; off in production settings).

The check runs when the connection is made, on every address the name resolves to then, and the
connection goes to the address that was checked: a name that resolves elsewhere later (or a
redirect, which is a new connection) is checked again."""

from __future__ import annotations

import ipaddress
import socket
import ssl
from functools import cache
from typing import Any

import httpcore
import httpx

from lmsbridge.errors import InputInvalidError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Cloud metadata services outside the link-local range (Alibaba; AWS over IPv6).
METADATA_ADDRESSES = frozenset(
    {ipaddress.ip_address("100.100.100.200"), ipaddress.ip_address("fd00:ec2::254")}
)


class AddressRefusedError(InputInvalidError):
    """An outbound request aimed at an address lmsbridge does not call."""


def allow_private_from_env() -> bool:
    """LMSBRIDGE_OUTBOUND_ALLOW_PRIVATE as it is now (read when a client is built, so a worker
    and the tests see the value of their own environment)."""
    from lmsbridge.config import Settings

    return Settings().outbound_allow_private


def refusal(address: IPAddress, *, allow_private: bool) -> str | None:
    """Why `address` may not be called, or None when it may."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address in METADATA_ADDRESSES:
        return "a cloud metadata address"
    if address.is_link_local:
        return "a link-local address (cloud metadata lives there)"
    if address.is_multicast or address.is_unspecified or address.is_reserved:
        return "not a unicast address"
    if address.is_global:
        return None
    if allow_private:
        return None
    kind = "a loopback" if address.is_loopback else "a private"
    return f"{kind} address, refused while LMSBRIDGE_OUTBOUND_ALLOW_PRIVATE is off"


def checked_address(host: str, port: int, *, allow_private: bool) -> str:
    """The address to connect to for host:port, after checking every address it resolves to."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise httpcore.ConnectError(f"cannot resolve {host!r}: {error}") from None
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    for address in addresses:
        why = refusal(address, allow_private=allow_private)
        if why is not None:
            named = host if host == str(address) else f"{host} ({address})"
            raise AddressRefusedError(f"lmsbridge does not call {named}: {why}.")
    return str(addresses[0])


class _GuardedBackend(httpcore.NetworkBackend):
    def __init__(self, allow_private: bool) -> None:
        self.allow_private = allow_private
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.NetworkStream:
        address = checked_address(host, port, allow_private=self.allow_private)
        return self._inner.connect_tcp(address, port, timeout, local_address, socket_options)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> httpcore.NetworkStream:
        raise AddressRefusedError("lmsbridge does not call Unix sockets for a user-given address.")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


@cache
def verifying_tls() -> ssl.SSLContext:
    """httpx's default TLS context (certifi's roots), made once per process: loading the roots
    costs about 30 ms of CPU, and every connector, sync and webhook delivery builds a client."""
    return httpx.create_ssl_context()


def guarded_transport(allow_private: bool | None = None, **options: Any) -> httpx.HTTPTransport:
    """An httpx transport whose every connection passes the check above. TLS still verifies the
    name the URL gave (the host name travels separately from the address connected to)."""
    if allow_private is None:
        allow_private = allow_private_from_env()
    options.setdefault("verify", verifying_tls())
    transport = httpx.HTTPTransport(**options)
    # httpx takes no network backend of its own; its connection pool does.
    transport._pool._network_backend = _GuardedBackend(allow_private)
    return transport
