"""The socket `serve` listens on, bound before anything else starts: a busy port is reported in
one line, instead of after a worker has started and a "listening" line has been printed."""

from __future__ import annotations

import errno
import socket


class PortBusyError(OSError):
    pass


def bind(host: str, port: int) -> socket.socket:
    """A bound, listening TCP socket for host:port (SO_REUSEADDR, as uvicorn binds)."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as error:
        raise PortBusyError(f"cannot listen on {host}:{port}: {host!r} is not an address ({error})") from None
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
        sock.listen(2048)
    except OSError as error:
        sock.close()
        if error.errno == errno.EADDRINUSE:
            raise PortBusyError(
                f"port {port} on {host} is already in use (another lmsbridge serve?); "
                "stop it or choose another with --port"
            ) from None
        raise PortBusyError(f"cannot listen on {host}:{port}: {error.strerror or error}") from None
    sock.set_inheritable(True)
    return sock
