"""What the security tests search: every stored value of every table, as text, and a remote that
echoes whatever it is sent (as careless servers do in their error messages)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import inspect, select, text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from lmsbridge.db import Store
from lmsbridge.db.tables import sync_runs
from tests.conftest import Server
from tests.waiting import wait_until

FINISHED = ("SUCCEEDED", "PARTIALLY_FAILED", "FAILED", "AUTHENTICATION_FAILED")


def store_text(store: Store) -> dict[str, str]:
    """Every row of every table, each table as one text: on PostgreSQL each row cast to its text
    form (every column, JSON included); on SQLite every column's value."""
    with store.read() as conn:
        names = inspect(conn).get_table_names()
        dumped = {}
        for name in names:
            if conn.dialect.name == "postgresql":
                rows = conn.execute(text(f'SELECT CAST(t AS text) FROM "{name}" AS t')).scalars()
                dumped[name] = "\n".join(str(row) for row in rows)
            else:
                rows = conn.execute(text(f'SELECT * FROM "{name}"'))
                dumped[name] = "\n".join(" | ".join(str(v) for v in row) for row in rows)
    return dumped


def found_in(texts: dict[str, str], secrets: list[str]) -> list[str]:
    return [
        f"{secret!r} in {where}" for where, value in texts.items() for secret in secrets if secret in value
    ]


def wait_first_run(server: Server, integration: str, timeout: float = 60.0) -> Any:
    """The integration's first sync run, once it has finished (bounded)."""

    def finished() -> Any:
        with server.store.read() as conn:
            run = conn.execute(
                select(sync_runs)
                .where(sync_runs.c.integration_id == integration)
                .order_by(sync_runs.c.created_at)
            ).first()
        return run if run is not None and run.state in FINISHED else None

    return wait_until(finished, timeout=timeout, message=f"the first sync of {integration} did not finish")


def echoing_moodle() -> Starlette:
    """A 'Moodle' that refuses every call with an access exception whose debug info repeats the
    request it was sent, token included."""

    async def rest(request: Request) -> Response:
        body = (await request.body()).decode("utf-8", "replace")
        return JSONResponse(
            {
                "exception": "webservice_access_exception",
                "errorcode": "accessexception",
                "message": "Access control exception",
                "debuginfo": f"Invalid token - token expired; request was {body} ?{request.url.query}",
            }
        )

    return Starlette(routes=[Route("/webservice/rest/server.php", rest, methods=["GET", "POST"])])
