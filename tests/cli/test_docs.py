"""Every command of `lmsbridge` has help text and is documented, in README.md or docs/cli.md."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import click

from lmsbridge.cli.main import cli

ROOT = Path(__file__).resolve().parents[2]


def commands(group: click.Group, prefix: str = "lmsbridge") -> Iterator[tuple[str, click.Command]]:
    for name, command in sorted(group.commands.items()):
        path = f"{prefix} {name}"
        yield path, command
        if isinstance(command, click.Group):
            yield from commands(command, path)


def test_every_command_has_help_text() -> None:
    missing = [path for path, command in commands(cli) if not (command.help or "").strip()]
    assert not missing, f"commands without help text: {missing}"


def test_every_command_is_documented() -> None:
    docs = (ROOT / "README.md").read_text() + (ROOT / "docs" / "cli.md").read_text()
    missing = [path for path, _ in commands(cli) if f"`{path}" not in docs]
    assert not missing, f"commands missing from README.md and docs/cli.md: {missing}"
