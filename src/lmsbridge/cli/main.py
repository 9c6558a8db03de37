"""`lmsbridge`: run the service and a worker, migrate the store, manage keys and integrations.
Every command takes the store from LMSBRIDGE_DATABASE_URL (default sqlite:///lmsbridge.db)."""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

import click

from lmsbridge.cli import collector, which_store
from lmsbridge.cli.credential_box import credential_box
from lmsbridge.cli.log_lines import LOG_FORMATS, configure_logging
from lmsbridge.config import Settings, get_settings
from lmsbridge.db import Store, open_store
from lmsbridge.db.migrations import migrate
from lmsbridge.errors import LmsBridgeError


def _store() -> Store:
    return which_store.open_for_command()


_box = credential_box


def _log_format_option(f: Any) -> Any:
    return click.option(
        "--log-format",
        type=click.Choice(LOG_FORMATS),
        envvar="LMSBRIDGE_LOG_FORMAT",
        default="text",
        show_default=True,
        help="text: one readable line per event; json: one JSON object per line [env LMSBRIDGE_LOG_FORMAT].",
    )(f)


def _worker(store: Store, settings: Settings, concurrency: int) -> Any:
    from lmsbridge.worker_setup import build_worker

    return build_worker(store, settings, _box(settings), concurrency)


class _Commands(click.Group):
    """Turns an unreachable store into one clear line instead of a traceback, and lists commands
    with their whole first sentence (click cuts them to the terminal's width with "...")."""

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit=1000)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> Any:
        from lmsbridge.errors import StoreTooOldError, StoreUnavailableError

        try:
            return super().invoke(ctx)
        except StoreTooOldError as error:
            raise click.ClickException(error.message) from error
        except StoreUnavailableError as error:
            url = get_settings().database_url.split("@")[-1]
            raise click.ClickException(f"{error.message} (LMSBRIDGE_DATABASE_URL: ...{url})") from error


@click.group(cls=_Commands)
@click.version_option(package_name="lmsbridge")
def cli() -> None:
    """lmsbridge: a self-hosted unified API for learning systems."""


class _UsageError(click.ClickException):
    """One line and the exit code of a usage error (2), without the usage text."""

    exit_code = 2


@cli.command()
def migrate_cmd() -> None:
    """Create or upgrade the store's tables."""
    store = _store()
    applied = migrate(store)
    click.echo(f"applied revisions: {', '.join(applied)}" if applied else "the store is up to date")
    click.echo(f"store: {which_store.describe()}", err=True)


migrate_cmd.name = "migrate"


def _demo(store: Store, settings: Settings, host: str, port: int) -> None:
    from lmsbridge.auth.repository import AuthRepository
    from lmsbridge.auth.service import create_key
    from lmsbridge.integrations.service import create_integration

    with store.write() as conn:
        if AuthRepository(conn).count_keys():
            click.echo(
                "--demo: this store already has API keys (they are shown only once); "
                "create another with `lmsbridge keys create`."
            )
            return
        key = create_key(conn, name="demo")
        integration = create_integration(
            conn,
            _box(settings),
            tool="sandbox",
            environment="default",
            name="Demo Sandbox",
            public_url=settings.public_url or f"http://{host}:{port}",
        )
    url = f"http://{host}:{port}"
    body = json.dumps(
        {
            "items": [
                {
                    "origin_id": "cybersecurity-101",
                    "course": {
                        "type": "EXTERNAL",
                        "title": "Introduction to Cybersecurity",
                        "course_url": "https://your-platform.com/courses/cybersecurity-101",
                    },
                },
            ]
        }
    )
    click.echo(f"""
API key (shown once):  {key.secret}
Sandbox integration:   {integration.id}

Submit a course:
  curl -s -X POST {url}/v1/lms/courses/bulk \\
    -H 'Authorization: Bearer {key.secret}' \\
    -H 'X-Integration-Id: {integration.id}' \\
    -H 'Content-Type: application/json' \\
    -d '{body}'
Then poll:
  curl -s {url}/v1/lms/courses/bulk/TASK_ID \\
    -H 'Authorization: Bearer {key.secret}' -H 'X-Integration-Id: {integration.id}'
""")


def _exit_on_signal(_signum: int, _frame: Any) -> None:
    raise SystemExit(0)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
@click.option("--no-worker", is_flag=True, help="Serve the API only; run workers with `lmsbridge worker`.")
@click.option("--demo", is_flag=True, help="On an empty store, create an API key and a Sandbox integration.")
@_log_format_option
def serve(host: str, port: int, no_worker: bool, demo: bool, log_format: str) -> None:
    """Run the API (and one worker in a child process, unless --no-worker); migrates the store
    first. SIGINT or SIGTERM stops both."""
    import uvicorn

    from lmsbridge.app import create_app
    from lmsbridge.cli.attached_worker import AttachedWorker
    from lmsbridge.cli.listening import PortBusyError, bind

    # The port first: a busy one is a usage error, found before a worker or migration starts.
    try:
        sock = bind(host, port)
    except PortBusyError as error:
        raise _UsageError(str(error)) from error
    configure_logging(log_format)
    settings = get_settings()
    if settings.public_url is None:
        # Links (log_url of syncs queued without a request) name the address this server answers on.
        shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
        settings.listen_url = f"http://{shown}:{port}"
    store = open_store()
    migrate(store)
    _box(settings)  # no usable secret key: one clear line, before a worker starts
    if demo:
        _demo(store, settings, host, port)
    # The worker's process inherits the environment, and the address its links name.
    listen = {"LMSBRIDGE_LISTEN_URL": settings.listen_url} if settings.listen_url else {}
    worker = None if no_worker else AttachedWorker.start(log_format, listen)
    # uvicorn shuts down gracefully on SIGTERM or SIGINT, then raises the signal again; the default
    # handlers would kill the process before `finally` stops the worker (SIGTERM) or end it as an
    # interrupted command ("Aborted!", exit 1: SIGINT), so both exit through `finally`, with 0.
    signal.signal(signal.SIGTERM, _exit_on_signal)
    signal.signal(signal.SIGINT, _exit_on_signal)
    click.echo(f"lmsbridge listening on http://{host}:{port} (store: {which_store.describe()})")
    try:
        app = create_app(store, settings)
        config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False)
        collector.settle()
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        if worker is not None:
            worker.stop()
        store.dispose()


@cli.command()
@click.option(
    "--concurrency",
    type=int,
    default=None,
    help="Jobs run at once [default: LMSBRIDGE_WORKER_CONCURRENCY, 2].",
)
@click.option(
    "--attached",
    is_flag=True,
    hidden=True,
    help="Run as `serve`'s worker: woken by bytes on stdin, stopped at its end.",
)
@_log_format_option
def worker(concurrency: int | None, attached: bool, log_format: str) -> None:
    """Run a worker alone: claims jobs from the store until SIGTERM or SIGINT."""
    configure_logging(log_format)
    settings = get_settings()
    if attached and settings.serve_worker_niceness:
        # `serve`'s worker yields the CPU to the API's requests (a submit waited for running
        # tasks: its p50 went from 35 to 50 ms on 2 cores); alone, it takes whatever is free.
        os.nice(settings.serve_worker_niceness)
    store = _store()
    migrate(store)
    runner = _worker(store, settings, concurrency or settings.worker_concurrency)
    stop = threading.Event()

    def _on_signal(signum: int, _frame: Any) -> None:
        logging.getLogger("lmsbridge.worker").info("signal %d: finishing or releasing jobs", signum)
        stop.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    if attached:
        from lmsbridge.cli.attached_worker import follow_serve

        threading.Thread(target=follow_serve, args=(stop,), name="lmsbridge-serve-pipe", daemon=True).start()
    collector.settle()
    runner.start()
    stop.wait()
    runner.stop()
    store.dispose()


@cli.group()
def keys() -> None:
    """Create, list and revoke API keys."""


@keys.command("create")
@click.option("--name", default="default", show_default=True, help="A label for the key.")
@click.option("--environment", default="default", show_default=True, help="The environment the key sees.")
def keys_create(name: str, environment: str) -> None:
    """Create an API key; prints it alone on the last line (shown once, stored hashed)."""
    from lmsbridge.auth.service import create_key

    store = _store()
    migrate(store)
    with store.write() as conn:
        key = create_key(conn, name=name, environment=environment)
    click.echo(
        f"created key {key.id} in environment {environment!r} ({key.environment_id}) "
        f"in the store at {which_store.describe()}; it is shown once:",
        err=True,
    )
    click.echo(key.secret)


@keys.command("list")
def keys_list() -> None:
    """List API keys (their prefixes only)."""
    from lmsbridge.auth.repository import AuthRepository

    if which_store.is_missing():
        which_store.nothing_to_list("API keys")
        return
    store = _store()
    migrate(store)
    with store.read() as conn:
        records = AuthRepository(conn).list_keys()
    if not records:
        which_store.nothing_to_list("API keys")
    for r in records:
        state = f"revoked {r.revoked_at:%Y-%m-%d}" if r.revoked_at else "active"
        click.echo(f"{r.id}  {r.key_prefix}…  {r.name!r}  env={r.environment_name}  {state}")


@keys.command("revoke")
@click.argument("key_id")
def keys_revoke(key_id: str) -> None:
    """Revoke an API key by its id."""
    from lmsbridge.auth.repository import AuthRepository

    store = _store()
    migrate(store)
    with store.write() as conn:
        revoked = AuthRepository(conn).revoke(key_id)
    if not revoked:
        where = which_store.describe()
        raise click.ClickException(f"no active key with id {key_id!r} in the store at {where}")
    click.echo(f"revoked {key_id} in the store at {which_store.describe()}")


@cli.group()
def integrations() -> None:
    """Create, list, update, pause, resume and delete integrations."""


def _parse_settings(pairs: tuple[str, ...]) -> dict[str, str]:
    settings = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"expected KEY=VALUE, got {pair!r}", param_hint="--setting")
        settings[key.strip()] = value
    return settings


def _json_object(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text())
    except ValueError as error:
        raise click.ClickException(f"{path} is not valid JSON: {error}") from error
    if not isinstance(value, dict):
        raise click.ClickException(f"{path} must hold a JSON object")
    return value


@integrations.command("create")
@click.option("--tool", default=None, help="The connector, e.g. sandbox (or give --connection-file).")
@click.option(
    "--connection-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help='A JSON file {"tool", "settings", "credentials"}, as `emulate --connection-file` writes it.',
)
@click.option("--name", default=None, help="The customer's organisation name.")
@click.option(
    "--setting", "settings_", multiple=True, metavar="KEY=VALUE", help="A connector setting; repeatable."
)
@click.option(
    "--credentials-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A JSON file of the remote credentials; stored encrypted.",
)
@click.option("--environment", default="default", show_default=True, help="The environment that owns it.")
def integrations_create(
    tool: str | None,
    connection_file: Path | None,
    name: str | None,
    settings_: tuple[str, ...],
    credentials_file: Path | None,
    environment: str,
) -> None:
    """Create an integration; prints its id alone on the last line. --setting and
    --credentials-file add to (and win over) what --connection-file gives."""
    from lmsbridge.integrations.service import create_integration

    settings = get_settings()
    connection: dict[str, Any] = _json_object(connection_file) if connection_file is not None else {}
    tool = tool or connection.get("tool")
    if not isinstance(tool, str) or not tool:
        raise click.UsageError("give --tool, or a --connection-file that names the tool")
    if connection.get("tool") not in (None, tool):
        raise click.UsageError(f"--tool {tool} contradicts the connection file's tool {connection['tool']!r}")
    given_settings = connection.get("settings") or {}
    credentials: dict[str, Any] = dict(connection.get("credentials") or {})
    if not isinstance(given_settings, dict) or not isinstance(credentials, dict):
        raise click.ClickException(f"{connection_file}: settings and credentials must be JSON objects")
    if credentials_file is not None:
        credentials.update(_json_object(credentials_file))
    box = _box(settings)  # a missing key is said before any store is opened or created
    store = _store()
    migrate(store)
    try:
        with store.write() as conn:
            integration = create_integration(
                conn,
                box,
                tool=tool,
                environment=environment,
                name=name,
                settings={**given_settings, **_parse_settings(settings_)},
                credentials=credentials,
                # Unset: the first sync's links take the address the server listens on.
                public_url=settings.public_url,
            )
    except LmsBridgeError as error:
        raise click.ClickException(error.message) from error
    click.echo(
        f"created {tool} integration {integration.name!r} in environment {environment!r} "
        f"in the store at {which_store.describe()}",
        err=True,
    )
    click.echo(integration.id)


@integrations.command("list")
def integrations_list() -> None:
    """List integrations."""
    from lmsbridge.integration_store.repository import IntegrationRepository

    if which_store.is_missing():
        which_store.nothing_to_list("integrations")
        return
    store = _store()
    migrate(store)
    with store.read() as conn:
        rows = IntegrationRepository(conn).list_all()
    if not rows:
        which_store.nothing_to_list("integrations")
    for integration, env in rows:
        click.echo(f"{integration.id}  {integration.name!r}  env={env}  {integration.status}")


@cli.group()
def sandbox() -> None:
    """Work with Sandbox integrations' simulated LMS."""


@sandbox.command("evolve")
@click.argument("integration_id")
@click.option(
    "--changes",
    default=10,
    show_default=True,
    type=click.IntRange(1, 1_000_000),
    help="How many records to change, add or remove.",
)
def sandbox_evolve(integration_id: str, changes: int) -> None:
    """Change a Sandbox's data as a living LMS changes: edits, additions, removals."""
    from lmsbridge.connectors.sandbox.connector import SandboxSettings
    from lmsbridge.integration_store.repository import IntegrationRepository
    from lmsbridge.sandbox.generator import SandboxSize
    from lmsbridge.sandbox.repository import SandboxStateRepository

    store = _store()
    migrate(store)
    with store.read() as conn:
        integration = IntegrationRepository(conn).get(integration_id)
    if integration is None or integration.tool != "sandbox":
        raise click.ClickException(
            f"no Sandbox integration with id {integration_id!r} in the store at {which_store.describe()}"
        )
    s = SandboxSettings.model_validate(integration.settings)
    size = SandboxSize(users=s.users, courses=s.courses, progressions=s.progressions, seed=s.seed)
    done = SandboxStateRepository(store).evolve(integration_id, changes, size)
    click.echo(
        f"{done['updated']} changed, {done['added']} added, {done['removed']} removed; "
        f"`curl -X POST .../v1/force-sync` (or wait for the schedule) to sync them"
    )


@cli.group()
def syncs() -> None:
    """Work with sync runs."""


@syncs.command("confirm-deletions")
@click.argument("sync_id")
def syncs_confirm_deletions(sync_id: str) -> None:
    """Apply the deletions a full sync held because they looked like lost access on the remote."""
    from lmsbridge.syncs.deletion_guard import confirm_deletions

    store = _store()
    migrate(store)
    try:
        with store.write() as conn:
            deleted = confirm_deletions(conn, sync_id, None)
    except LmsBridgeError as error:
        raise click.ClickException(error.message) from error
    for model, count in deleted.items():
        click.echo(f"{model}: {count} marked deleted")


def _emulator_tools() -> list[str]:
    from lmsbridge.connectors.registry import tools

    return tools()


@cli.command(
    short_help="Run an emulator of a remote LMS, to try a connector without an account anywhere.",
    help="Serve an emulator of TOOL's remote API, seeded from the shared world, to try its connector "
    f"without an account anywhere. TOOL: {', '.join(_emulator_tools())}.",
)
@click.argument("tool", type=click.Choice(_emulator_tools()), metavar="TOOL")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=None, type=int, help="Port to listen on (default: the tool's, or 9000).")
@click.option("--seed", default=1, show_default=True, type=int, help="Same seed, same seeded data.")
@click.option(
    "--connection-file",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help='Write {"tool", "settings", "credentials"} for `integrations create --connection-file`.',
)
@click.option("--token", default=None, help="The secret the emulator accepts (default: a new random one).")
@click.option(
    "--setting",
    "options",
    multiple=True,
    metavar="KEY=VALUE",
    help="An emulator option; repeatable. Moodle: version=4.4|4.5|5.0|5.1 (default the newest) to "
    "answer as that version, debug=1 for Moodle's debuginfo in error bodies.",
)
def emulate(
    tool: str,
    host: str,
    port: int | None,
    seed: int,
    connection_file: Path | None,
    token: str | None,
    options: tuple[str, ...],
) -> None:
    from lmsbridge.connectors.registry import connector_class
    from lmsbridge.testing.emulators.registry import DEFAULT_PORTS, EMULATORS

    factory = EMULATORS.get(tool)
    if factory is None:
        raise click.ClickException(f"{tool} has no emulator yet")
    port = port or DEFAULT_PORTS.get(tool, 9000)
    url = f"http://{host}:{port}"
    try:
        emulation = factory(seed, url, token, _parse_settings(options))
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--setting") from error
    connection = emulation.connection
    lines = [f"{connector_class(tool).label} emulator listening on {url}"]
    if emulation.app is None:
        lines = [f"{connector_class(tool).label}: {emulation.notes}"]
    lines += [f"  {key}: {value}" for key, value in {**connection.settings, **connection.credentials}.items()]
    if connection_file is not None:
        connection_file.write_text(json.dumps(connection.as_json(), indent=2) + "\n")
        lines += [
            "",
            "Connect lmsbridge to it:",
            f"  lmsbridge integrations create --connection-file {connection_file}",
        ]
    if emulation.app is not None and emulation.notes:
        lines.append(emulation.notes)
    if emulation.follows:
        lines.append(f"Follows: {emulation.follows}")
    click.echo("\n".join(lines))
    if emulation.app is None:
        return
    import uvicorn

    uvicorn.run(emulation.app, host=host, port=port, log_level="warning", access_log=False)


def main() -> None:  # pragma: no cover
    sys.exit(cli())


from lmsbridge.cli.remote import register as _register_remote  # noqa: E402 (after the group exists)

_register_remote(cli)

from lmsbridge.cli.lifecycle import register as _register_lifecycle  # noqa: E402

_register_lifecycle(integrations)

from lmsbridge.cli.webhooks import webhooks as _webhooks  # noqa: E402 (after the group exists)

cli.add_command(_webhooks)

from lmsbridge.cli.connect import connect as _connect  # noqa: E402 (after the group exists)

cli.add_command(_connect)
