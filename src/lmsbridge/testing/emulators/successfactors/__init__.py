"""A SuccessFactors Learning tenant behind its OData v4 services and token endpoints, for the
SuccessFactors connector's tests and for trying lmsbridge without a tenant (`lmsbridge emulate
successfactors`). SAP publishes no machine-readable spec outside a tenant; shapes follow
reference section 1 and the vendor-specs JSON schemas (see docs/connectors/successfactors.md)."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from lmsbridge.testing.emulators.successfactors.app import create_app
from lmsbridge.testing.emulators.successfactors.site import SuccessFactorsSite, seeded_site

if TYPE_CHECKING:
    from lmsbridge.testing.emulators.kit.emulation import Emulation

API_VERSION_FOLLOWED = (
    "SAP SuccessFactors Learning OData v4 (searchStudent, searchItem, learningplan-service, "
    "userlearning-service, OCN, learningevent-service v1)"
)
OPTIONS = ("ocn_pace_seconds",)

__all__ = ["API_VERSION_FOLLOWED", "SuccessFactorsSite", "create_app", "emulation", "seeded_site"]


def emulation(seed: int, url: str, secret: str | None, options: dict[str, str] | None = None) -> Emulation:
    """What `lmsbridge emulate successfactors` serves, and the connection that reaches it. Option
    `ocn_pace_seconds` shortens OCN's one-course-per-500-seconds pace (for trying upserts)."""
    from lmsbridge.testing.emulators.kit.emulation import Connection, Emulation

    options = dict(options or {})
    unknown = sorted(set(options) - set(OPTIONS))
    if unknown:
        raise ValueError(f"unknown setting {unknown[0]!r} (known: {', '.join(OPTIONS)})")
    pace = float(options.get("ocn_pace_seconds", "500"))
    client_secret = secret or secrets.token_hex(16)
    # The connection keeps `pace` between its OCN slots; the emulator refuses posts closer than
    # half of it, which leaves room for a request's latency on a busy machine.
    site = seeded_site(
        seed=seed, client_id="lmsbridge-demo", client_secret=client_secret, ocn_pace_seconds=pace * 0.5
    )
    return Emulation(
        create_app(site),
        Connection(
            "successfactors",
            {"learning_url": url, "company_id": site.company_id, "ocn_pace_seconds": pace},
            {"client_id": site.client_id, "client_secret": client_secret},
        ),
        f'Inject faults: POST {url}/_emulator/faults  {{"kind": "status", "status": 503, "times": 2}}',
        API_VERSION_FOLLOWED,
    )
