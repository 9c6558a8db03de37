"""The generation of "who may call what" in this process: every change to an API key or an
integration row made here moves it on, once when the change is made and once when its
transaction has committed. The API's caller cache keeps an entry only while the generation it was
read under is current, so a change made through this process is seen by the next request; a
change made by another process is seen when the entry's short lifetime ends."""

from __future__ import annotations

import threading

from sqlalchemy import Connection

# Set on the DBAPI connection's info by a change; the store moves the generation on after the
# transaction that made it commits (`Store._transaction`).
CHANGED = "lmsbridge_access_changed"

_lock = threading.Lock()  # only changes take it; a read of the generation is one load
_current = 0


def generation() -> int:
    return _current


def move_on() -> None:
    global _current
    with _lock:
        _current += 1


def changed(conn: Connection) -> None:
    """Call with the connection that changes an API key or an integration."""
    move_on()
    conn.info[CHANGED] = True
