"""`lmsbridge webhooks`: register, list and remove webhook endpoints, see their deliveries, and
create the environment's callback secret. Secrets are printed once, alone on the last line."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from lmsbridge.clock import to_wire

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from lmsbridge.db import Store
    from lmsbridge.integration_store.credentials import CredentialBox


def _store_and_box() -> tuple[Store, CredentialBox]:
    from lmsbridge.cli import which_store
    from lmsbridge.config import get_settings
    from lmsbridge.db.migrations import migrate
    from lmsbridge.integration_store.credentials import CredentialBox, SecretKeyMissingError, load_secret_key

    settings = get_settings()
    try:
        box = CredentialBox(load_secret_key(settings, create=True))
    except SecretKeyMissingError as error:
        raise click.ClickException(str(error)) from error
    store = which_store.open_for_command()
    migrate(store)
    return store, box


def _where() -> str:
    from lmsbridge.cli import which_store

    return which_store.describe()


def _environment_id(conn: Connection, name: str, *, create: bool) -> str:
    from lmsbridge.auth.repository import AuthRepository

    env_id = AuthRepository(conn).environment_id(name, create=create)
    if env_id is None:
        raise click.ClickException(f"no environment named {name!r}")
    return env_id


@click.group()
def webhooks() -> None:
    """Register, list and remove webhook endpoints; see their deliveries."""


@webhooks.command("add")
@click.argument("url")
@click.option(
    "--events",
    default=None,
    metavar="TYPES",
    help="Comma-separated event types: data-changed, sync-finished, task-completed, integration-created, "
    "integration-deleted, integration-state-changed [default: all].",
)
@click.option(
    "--environment", default="default", show_default=True, help="The environment whose events it gets."
)
def webhooks_add(url: str, events: str | None, environment: str) -> None:
    """Register an endpoint; prints its signing secret alone on the last line (shown once)."""
    from lmsbridge.errors import LmsBridgeError
    from lmsbridge.webhooks.repository import WebhookRepository
    from lmsbridge.webhooks.service import create_endpoint

    store, box = _store_and_box()
    names = [e.strip() for e in events.split(",") if e.strip()] if events is not None else None
    try:
        with store.write() as conn:
            env_id = _environment_id(conn, environment, create=True)
            endpoint, secret = create_endpoint(WebhookRepository(conn), box, env_id, url, names)
    except LmsBridgeError as error:
        raise click.ClickException(error.message) from error
    shown = ",".join(endpoint.events) if endpoint.events else "all events"
    click.echo(
        f"created webhook endpoint {endpoint.id} -> {endpoint.url} ({shown}) in environment "
        f"{environment!r} in the store at {_where()}; its signing secret is shown once:",
        err=True,
    )
    click.echo(secret)


@webhooks.command("list")
@click.option("--environment", default=None, help="Only this environment's endpoints.")
def webhooks_list(environment: str | None) -> None:
    """List endpoints, with how many of their deliveries are in each state."""
    from lmsbridge.auth.repository import AuthRepository
    from lmsbridge.webhooks.repository import WebhookRepository

    store, _ = _store_and_box()
    with store.read() as conn:
        env_id = _environment_id(conn, environment, create=False) if environment else None
        repo = WebhookRepository(conn)
        endpoints = repo.endpoints(env_id)
        names = AuthRepository(conn).environment_names()
        counts = repo.delivery_counts()
    for e in endpoints:
        state = f"removed {to_wire(e.disabled_at)}" if e.disabled_at else "active"
        kinds = ",".join(e.events) if e.events else "all"
        tally = " ".join(f"{k}={v}" for k, v in sorted(counts.get(e.id, {}).items())) or "no deliveries"
        click.echo(f"{e.id}  {e.url}  events={kinds}  env={names.get(e.environment_id)}  {state}  {tally}")
    if not endpoints:
        from lmsbridge.cli import which_store

        which_store.nothing_to_list("webhook endpoints")


@webhooks.command("remove")
@click.argument("endpoint_id")
def webhooks_remove(endpoint_id: str) -> None:
    """Stop delivering to an endpoint; its pending deliveries are cancelled."""
    from lmsbridge.webhooks.repository import WebhookRepository

    store, _ = _store_and_box()
    with store.write() as conn:
        removed = WebhookRepository(conn).disable_endpoint(endpoint_id)
    if not removed:
        raise click.ClickException(f"no active webhook endpoint with id {endpoint_id!r}")
    click.echo(f"removed {endpoint_id}")


@webhooks.command("deliveries")
@click.argument("endpoint_id")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 1000))
def webhooks_deliveries(endpoint_id: str, limit: int) -> None:
    """An endpoint's latest deliveries and their attempts."""
    from lmsbridge.webhooks.repository import WebhookRepository

    store, _ = _store_and_box()
    with store.read() as conn:
        repo = WebhookRepository(conn)
        endpoint = repo.endpoint(endpoint_id)
        if endpoint is None:
            raise click.ClickException(f"no webhook endpoint with id {endpoint_id!r}")
        deliveries = repo.deliveries(
            environment_id=endpoint.environment_id, endpoint_id=endpoint_id, limit=limit
        )
        attempts = repo.attempts([d.id for d in deliveries])
    for d in deliveries:
        click.echo(
            f"{d.id}  event={d.event_id}  {d.state}  attempts={d.attempts}  last_status={d.last_status}"
        )
        for a in attempts[d.id]:
            click.echo(
                f"    #{a.number} {to_wire(a.started_at)} {a.duration_ms}ms "
                f"status={a.status_code} {a.error or ''}".rstrip()
            )


@webhooks.command("callback-secret")
@click.option("--environment", default="default", show_default=True)
def webhooks_callback_secret(environment: str) -> None:
    """Create (or rotate) the secret that signs tasks' callback_url deliveries; printed once."""
    from lmsbridge.webhooks.repository import WebhookRepository
    from lmsbridge.webhooks.service import rotate_callback_secret

    store, box = _store_and_box()
    with store.write() as conn:
        env_id = _environment_id(conn, environment, create=True)
        secret = rotate_callback_secret(WebhookRepository(conn), box, env_id)
    click.echo(
        f"callback secret of environment {environment!r} (shown once; replaces any earlier one):", err=True
    )
    click.echo(secret)
