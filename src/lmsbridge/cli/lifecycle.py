"""`lmsbridge integrations update|deactivate|activate|delete`: the lifecycle of an integration,
run against the store as `integrations create` is. An update is checked against the remote
first (the connector's preflight) and saved only if it passes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from lmsbridge.config import get_settings
from lmsbridge.db import Store, open_store
from lmsbridge.db.migrations import migrate
from lmsbridge.errors import LmsBridgeError


def _store() -> Store:
    store = open_store()
    migrate(store)
    return store


def _json_object(path: Path, what: str) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text())
    except ValueError as error:
        raise click.ClickException(f"{path} is not valid JSON: {error}") from error
    if not isinstance(value, dict):
        raise click.ClickException(f"{path} must hold a JSON object ({what})")
    return value


def _environment_of(store: Store, integration_id: str) -> str:
    from lmsbridge.integration_store.repository import IntegrationRepository

    with store.read() as conn:
        integration = IntegrationRepository(conn).get(integration_id)
    if integration is None:
        raise click.ClickException(f"no integration with id {integration_id!r}")
    return integration.environment_id


def _parse_settings(pairs: tuple[str, ...]) -> dict[str, str]:
    settings = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"expected KEY=VALUE, got {pair!r}", param_hint="--setting")
        settings[key.strip()] = value
    return settings


@click.command("update")
@click.argument("integration_id")
@click.option(
    "--setting", "settings_", multiple=True, metavar="KEY=VALUE", help="A setting to change; repeatable."
)
@click.option(
    "--credentials-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A JSON file of the new remote credentials (replaces the stored ones).",
)
@click.option(
    "--connection-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help='A JSON file {"settings": {...}, "credentials": {...}}; --setting values override it.',
)
@click.option("--name", default=None, help="A new organisation name.")
def update(
    integration_id: str,
    settings_: tuple[str, ...],
    credentials_file: Path | None,
    connection_file: Path | None,
    name: str | None,
) -> None:
    """Change an integration's settings or credentials. The remote is asked first whether they
    work (nothing is saved if not); then a full sync is queued. An INVALID integration turns
    ACTIVE when that sync succeeds."""
    from lmsbridge.cli.credential_box import credential_box as _box
    from lmsbridge.integrations.service import merged_settings, run_preflight, update_integration
    from lmsbridge.remote_pacing import StorePacer
    from lmsbridge.sandbox.repository import SandboxStateRepository

    settings: dict[str, Any] | None = None
    credentials: dict[str, Any] | None = None
    if connection_file is not None:
        connection = _json_object(connection_file, "settings and credentials")
        settings = connection.get("settings")
        credentials = connection.get("credentials")
    if settings_:
        settings = {**(settings or {}), **_parse_settings(settings_)}
    if credentials_file is not None:
        credentials = _json_object(credentials_file, "the credentials")
    if settings is None and credentials is None and name is None:
        raise click.UsageError("nothing to update: give --setting, --credentials-file or --connection-file")
    config = get_settings()
    box = _box(config)
    store = _store()
    environment_id = _environment_of(store, integration_id)
    from lmsbridge.integrations.service import get_integration

    try:
        with store.read() as conn:
            integration = get_integration(conn, integration_id, environment_id)
        warnings = run_preflight(
            integration.tool,
            merged_settings(integration, settings),
            credentials if credentials is not None else box.open(integration.credentials),
            integration_id=integration.id,
            sandbox_state=SandboxStateRepository(store),
            pacer=StorePacer(store),
        )
        with store.write() as conn:
            updated = update_integration(
                conn,
                box,
                integration_id,
                environment_id=environment_id,
                settings=settings,
                credentials=credentials,
                name=name,
                public_url=config.public_url,
            )
    except LmsBridgeError as error:
        raise click.ClickException(f"{error.code or 'error'}: {error.message}") from error
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)
    queued = "" if updated.status == "INACTIVE" else "; a full sync is queued"
    click.echo(f"updated {updated.id} ({updated.status}){queued}")


def _set_enabled(integration_id: str, enabled: bool) -> None:
    from lmsbridge.integrations.service import set_enabled

    store = _store()
    environment_id = _environment_of(store, integration_id)
    try:
        with store.write() as conn:
            integration = set_enabled(
                conn,
                integration_id,
                environment_id=environment_id,
                enabled=enabled,
                public_url=get_settings().public_url,
            )
    except LmsBridgeError as error:
        raise click.ClickException(error.message) from error
    click.echo(f"{integration.id} is {integration.status}")


@click.command("deactivate")
@click.argument("integration_id")
def deactivate(integration_id: str) -> None:
    """Pause an integration (INACTIVE): no syncs; writes and passthrough answer INTEGRATION.INACTIVE."""
    _set_enabled(integration_id, False)


@click.command("activate")
@click.argument("integration_id")
def activate(integration_id: str) -> None:
    """Resume a paused integration (ACTIVE); a full sync starts."""
    _set_enabled(integration_id, True)


@click.command("delete")
@click.argument("integration_id")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def delete(integration_id: str, yes: bool) -> None:
    """Delete an integration with its credentials, synced records, syncs, tasks and queued jobs.
    This cannot be undone."""
    from lmsbridge.integrations.service import delete_integration

    store = _store()
    environment_id = _environment_of(store, integration_id)
    if not yes:
        click.confirm(f"Delete {integration_id} and everything synced from it?", abort=True)
    with store.write() as conn:
        removed = delete_integration(conn, integration_id, environment_id=environment_id)
    rows = sum(removed.values())
    click.echo(f"deleted {integration_id} ({rows} rows)")


def register(group: click.Group) -> None:
    for command in (update, deactivate, activate, delete):
        group.add_command(command)
