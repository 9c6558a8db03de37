"""A LinkedIn Learning account behind LinkedIn's Learning API (`/v2`, Rest.li) and its OAuth2
token endpoint, for the LinkedIn Learning connector's tests and for trying lmsbridge without a
LinkedIn Learning account (`lmsbridge emulate linkedinlearning`). No machine-readable spec is
published; every shape follows reference section 5 (see docs/connectors/linkedinlearning.md)."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from lmsbridge.testing.emulators.linkedinlearning.app import create_app
from lmsbridge.testing.emulators.linkedinlearning.site import LinkedInSite, seeded_site

if TYPE_CHECKING:
    from lmsbridge.testing.emulators.kit.emulation import Emulation

API_VERSION_FOLLOWED = (
    "LinkedIn Learning API v2 (Rest.li protocol 2.0.0; learningAssets, learningClassifications, "
    "learningActivityReports)"
)

__all__ = ["API_VERSION_FOLLOWED", "LinkedInSite", "create_app", "emulation", "seeded_site"]


def emulation(seed: int, url: str, secret: str | None, options: dict[str, str] | None = None) -> Emulation:
    """What `lmsbridge emulate linkedinlearning` serves, and the connection that reaches it."""
    from lmsbridge.testing.emulators.kit.emulation import Connection, Emulation

    if options:  # nothing to choose: one API version is served
        raise ValueError(f"unknown setting {sorted(options)[0]!r} (known: none)")

    client_secret = secret or secrets.token_hex(16)
    site = seeded_site(seed=seed, client_id="lmsbridge-demo", client_secret=client_secret)
    return Emulation(
        create_app(site),
        Connection(
            "linkedinlearning",
            {"api_url": url, "oauth_url": url},
            {"client_id": site.client_id, "client_secret": client_secret},
        ),
        f'Inject faults: POST {url}/_emulator/faults  {{"kind": "status", "status": 503, "times": 2}}',
        API_VERSION_FOLLOWED,
    )
