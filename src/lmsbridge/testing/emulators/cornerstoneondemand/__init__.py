"""A Cornerstone OnDemand portal behind Cornerstone's APIs (`/services/api/...`), for the
Cornerstone connector's tests and for trying lmsbridge without a portal (`lmsbridge emulate
cornerstoneondemand`). Cornerstone publishes no machine-readable spec; every shape follows
reference section 2 and the captured samples under vendor-specs/cornerstone (see
docs/connectors/cornerstoneondemand.md)."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from lmsbridge.testing.emulators.cornerstoneondemand.app import create_app
from lmsbridge.testing.emulators.cornerstoneondemand.site import Portal, seeded_portal

if TYPE_CHECKING:
    from lmsbridge.testing.emulators.kit.emulation import Emulation

API_VERSION_FOLLOWED = (
    "Cornerstone OnDemand: OAuth 2.0, Employee API v2, Reporting API (OData v4), Transcript API v1"
)

__all__ = ["API_VERSION_FOLLOWED", "Portal", "create_app", "emulation", "seeded_portal"]


def emulation(seed: int, url: str, secret: str | None, options: dict[str, str] | None = None) -> Emulation:
    """What `lmsbridge emulate cornerstoneondemand` serves, and the connection that reaches it."""
    from lmsbridge.testing.emulators.kit.emulation import Connection, Emulation

    if options:
        raise ValueError(f"unknown setting {sorted(options)[0]!r} (known: none)")
    client_secret = secret or secrets.token_hex(16)
    portal = seeded_portal(seed=seed, client_id="lmsbridge-demo", client_secret=client_secret)
    return Emulation(
        create_app(portal),
        Connection(
            "cornerstoneondemand",
            {"site_url": url},
            {"client_id": portal.client_id, "client_secret": client_secret},
        ),
        f'Inject faults: POST {url}/_emulator/faults  {{"kind": "status", "status": 503, "times": 2}}',
        API_VERSION_FOLLOWED,
    )
