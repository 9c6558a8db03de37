"""The ceiling of bulk_tasks.py (c): a bare ASGI app in the same server stack as `lmsbridge serve`
(uvicorn with the same settings: httptools and uvloop when installed, log level warning, no
access log, a socket bound the same way), answering `GET /v1/lms/courses/bulk/{task_id}` with the
task's row: ONE single-row SELECT by primary key on the same store, through the database driver
directly, run on the event loop, encoded with orjson. No framework, no authentication, no
middleware, no interaction log: what one Python process serves on this machine for the same
request and the same store read.

    python bench/bare_status.py DATABASE_URL PORT
"""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Callable
from datetime import datetime
from typing import Any

import orjson
import uvicorn

from lmsbridge.cli.listening import bind

# The task row; the same statement on both stores (psycopg and sqlite3 name parameters alike).
SELECT_TASK = "SELECT * FROM tasks WHERE id = %s"
PREFIX = "/v1/lms/courses/bulk/"


def connect(url: str) -> Callable[[str], dict[str, Any] | None]:
    """A function that reads one task row by id, on one connection kept open."""
    if url.startswith("sqlite:///"):
        conn = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        query = SELECT_TASK.replace("%s", "?")

        def read_sqlite(task_id: str) -> dict[str, Any] | None:
            row = conn.execute(query, (task_id,)).fetchone()
            return dict(row) if row is not None else None

        return read_sqlite
    import psycopg
    from psycopg.rows import dict_row

    pg = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True)

    def read_postgres(task_id: str) -> dict[str, Any] | None:
        # psycopg prepares a statement it has run a few times: the ceiling gets that too.
        with pg.cursor(row_factory=dict_row) as cursor:
            row: dict[str, Any] | None = cursor.execute(SELECT_TASK, (task_id,)).fetchone()
        return row

    return read_postgres


def app_for(read: Callable[[str], dict[str, Any] | None]) -> Any:
    def default(value: Any) -> Any:
        if isinstance(value, datetime):
            return value.isoformat()
        raise TypeError

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        path: str = scope["path"]
        row = read(path.removeprefix(PREFIX)) if path.startswith(PREFIX) else None
        if row is None:
            status, body = 404, b'{"status":"error"}'
        else:
            status, body = 200, orjson.dumps({"status": "success", "data": row}, default=default)
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app


def main() -> None:
    url, port = sys.argv[1], int(sys.argv[2])
    sock = bind("127.0.0.1", port)  # as `lmsbridge serve` binds its socket
    config = uvicorn.Config(
        app_for(connect(url)), host="127.0.0.1", port=port, log_level="warning", access_log=False
    )
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main()
