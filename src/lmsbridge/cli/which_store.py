"""Which store an admin command works on. `sqlite:///lmsbridge.db` is relative to the working
directory, so the same command run from another folder reaches another (new, empty) store: every
admin command names the store it used, and one that is about to create a SQLite file says so."""

from __future__ import annotations

from pathlib import Path

import click
from sqlalchemy.engine import make_url

from lmsbridge.config import get_settings
from lmsbridge.db import Store, open_store


def database_url() -> str:
    return get_settings().database_url


def sqlite_path(url: str) -> Path | None:
    """The absolute path of a SQLite store's file; None for PostgreSQL and in-memory SQLite."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database).expanduser().resolve()


def describe(url: str | None = None) -> str:
    """The store in words a user can act on, with no password: `SQLite file /abs/lmsbridge.db`."""
    url = url or database_url()
    path = sqlite_path(url)
    if path is not None:
        return f"SQLite file {path}"
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return "SQLite in memory"
    plain = parsed.set(drivername=parsed.get_backend_name())
    return f"PostgreSQL {plain.render_as_string(hide_password=True)}"


def is_missing() -> bool:
    """True when the configured store is a SQLite file that does not exist yet."""
    path = sqlite_path(database_url())
    return path is not None and not path.exists()


def open_for_command(*, announce: bool = True) -> Store:
    """The store of an admin command; says on stderr when it will create a new SQLite file."""
    if announce and is_missing():
        click.echo(
            f"lmsbridge: creating a new store: {describe()} does not exist yet "
            "(LMSBRIDGE_DATABASE_URL names another; relative paths are from the working directory)",
            err=True,
        )
    return open_store()


def nothing_to_list(what: str) -> None:
    """An empty list says so, and where it looked (on stderr: stdout stays one row a line)."""
    where = describe()
    hint = ""
    if is_missing():
        hint = (
            "; no store exists there: run this from the folder you serve from, or set LMSBRIDGE_DATABASE_URL"
        )
    click.echo(f"no {what} in the store at {where}{hint}", err=True)
