"""A Udemy Business organization behind Udemy's REST API (`/api-2.0/organizations/{id}/`), for
the Udemy connector's tests and for trying lmsbridge without a Udemy account
(`lmsbridge emulate udemy`). No machine-readable spec is published; every shape follows
reference section 4 (see docs/connectors/udemy.md)."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from lmsbridge.testing.emulators.udemy.app import create_app
from lmsbridge.testing.emulators.udemy.site import UdemySite, seeded_site

if TYPE_CHECKING:
    from lmsbridge.testing.emulators.kit.emulation import Emulation

API_VERSION_FOLLOWED = "Udemy Business REST API v2.0 (api-2.0, organization courses and reporting)"

__all__ = ["API_VERSION_FOLLOWED", "UdemySite", "create_app", "emulation", "seeded_site"]


def emulation(seed: int, url: str, secret: str | None, options: dict[str, str] | None = None) -> Emulation:
    """What `lmsbridge emulate udemy` serves, and the connection that reaches it."""
    from lmsbridge.testing.emulators.kit.emulation import Connection, Emulation

    if options:  # nothing to choose: one API version is served
        raise ValueError(f"unknown setting {sorted(options)[0]!r} (known: none)")

    client_secret = secret or secrets.token_hex(16)
    site = seeded_site(seed=seed, client_id="lmsbridge-demo", client_secret=client_secret)
    return Emulation(
        create_app(site),
        Connection(
            "udemy",
            {"site_url": url, "account_id": site.account_id},
            {"client_id": site.client_id, "client_secret": client_secret},
        ),
        f'Inject faults: POST {url}/_emulator/faults  {{"kind": "status", "status": 503, "times": 2}}',
        API_VERSION_FOLLOWED,
    )
