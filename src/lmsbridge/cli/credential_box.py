"""The credential box the CLI's commands open integrations' credentials with (a key is made on
first use), shared by `cli.main` and `cli.lifecycle` without one importing the other."""

from __future__ import annotations

from typing import Any

import click

from lmsbridge.config import Settings


def credential_box(settings: Settings) -> Any:
    from lmsbridge.integration_store.credentials import CredentialBox, SecretKeyMissingError, load_secret_key

    try:
        return CredentialBox(load_secret_key(settings, create=True))
    except SecretKeyMissingError as error:
        raise click.ClickException(str(error)) from error
