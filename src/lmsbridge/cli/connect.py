"""`lmsbridge connect ...`: connection links for customers and the origins allowed to frame the
connection page, from a shell (the dashboard's Connection links page does the same)."""

from __future__ import annotations

import click
from sqlalchemy import Connection

from lmsbridge.config import get_settings
from lmsbridge.db import open_store
from lmsbridge.db.migrations import migrate


def _environment_id(conn: Connection, name: str) -> str:
    from lmsbridge.auth.repository import AuthRepository

    found = AuthRepository(conn).environment_id(name, create=False)
    if found is None:
        raise click.ClickException(f"no environment {name!r} (create a key in it first)")
    return found


@click.group()
def connect() -> None:
    """Connection links and the origins allowed to frame the connection page."""


@connect.command("link")
@click.option(
    "--organization", required=True, help="The customer's organisation (end_user_organization_name)."
)
@click.option("--email", required=True, help="Email of the customer's administrator (end_user_email).")
@click.option("--origin-id", default=None, help="Your own id of the customer (end_user_origin_id).")
@click.option("--tool", default=None, help="The tool to connect; without it the customer picks.")
@click.option(
    "--embedded", is_flag=True, help="An EMBEDDED link (framed by your app) instead of a MAGIC_LINK."
)
@click.option("--environment", default="default", show_default=True, help="The environment it connects into.")
def connect_link(
    organization: str, email: str, origin_id: str | None, tool: str | None, embedded: bool, environment: str
) -> None:
    """Create a single-use connection link; prints it alone on the last line (shown once)."""
    from lmsbridge.connect.service import create_link
    from lmsbridge.errors import LmsBridgeError

    settings = get_settings()
    store = open_store()
    migrate(store)
    try:
        with store.write() as conn:
            link = create_link(
                conn,
                environment_id=_environment_id(conn, environment),
                end_user={"organization_name": organization, "creator_email": email, "origin_id": origin_id},
                tool=tool,
                link_type="EMBEDDED" if embedded else "MAGIC_LINK",
                language="en",
                ttl_seconds=settings.connect_link_ttl_seconds,
                public_url=settings.default_public_url(),
            )
    except LmsBridgeError as error:
        raise click.ClickException(error.message) from error
    click.echo(f"connection link for {organization!r} (single use, shown once):", err=True)
    click.echo(link)


@connect.command("origins")
@click.option("--environment", default="default", show_default=True)
def connect_origins(environment: str) -> None:
    """List the origins allowed to frame the connection page."""
    from lmsbridge.connect.repository import FrameOriginRepository

    store = open_store()
    migrate(store)
    with store.read() as conn:
        for origin in FrameOriginRepository(conn).origins(_environment_id(conn, environment)):
            click.echo(origin)


@connect.command("allow-origin")
@click.argument("origin")
@click.option("--environment", default="default", show_default=True)
def connect_allow_origin(origin: str, environment: str) -> None:
    """Allow ORIGIN (scheme://host[:port]) to frame the connection page."""
    from lmsbridge.connect.repository import FrameOriginRepository
    from lmsbridge.connect.service import normalise_origin
    from lmsbridge.errors import LmsBridgeError

    try:
        clean = normalise_origin(origin)
    except LmsBridgeError as error:
        raise click.ClickException(error.message) from error
    store = open_store()
    migrate(store)
    with store.write() as conn:
        FrameOriginRepository(conn).add(_environment_id(conn, environment), clean)
    click.echo(f"{clean} may frame the connection page")


@connect.command("disallow-origin")
@click.argument("origin")
@click.option("--environment", default="default", show_default=True)
def connect_disallow_origin(origin: str, environment: str) -> None:
    """Stop ORIGIN from framing the connection page."""
    from lmsbridge.connect.repository import FrameOriginRepository

    store = open_store()
    migrate(store)
    with store.write() as conn:
        if not FrameOriginRepository(conn).remove(_environment_id(conn, environment), origin):
            raise click.ClickException(f"{origin} was not allowed")
    click.echo(f"{origin} may no longer frame the connection page")
