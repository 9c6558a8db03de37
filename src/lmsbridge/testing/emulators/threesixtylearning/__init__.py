"""A 360Learning company behind 360Learning's API v2 (Core and Bulk), for the 360Learning
connector's tests and for trying lmsbridge without a 360Learning account
(`lmsbridge emulate 360learning`). It follows the vendor's published OpenAPI 3.1 files (Core API
and Bulk API, info.version 1.0.0, header `360-api-version: v2.0`)."""

from __future__ import annotations

import secrets
from importlib.util import find_spec
from typing import TYPE_CHECKING

from lmsbridge.testing.emulators.threesixtylearning.app import create_app
from lmsbridge.testing.emulators.threesixtylearning.site import Company, seeded_company
from lmsbridge.testing.emulators.threesixtylearning.spec import SpecCheck

if TYPE_CHECKING:
    from lmsbridge.testing.emulators.kit.emulation import Emulation

API_VERSION_FOLLOWED = "360Learning API v2.0 (Core and Bulk OpenAPI 3.1, info.version 1.0.0)"

__all__ = ["API_VERSION_FOLLOWED", "Company", "create_app", "emulation", "seeded_company"]


def emulation(seed: int, url: str, secret: str | None, options: dict[str, str] | None = None) -> Emulation:
    """What `lmsbridge emulate 360learning` serves, and the connection that reaches it."""
    from lmsbridge.testing.emulators.kit.emulation import Connection, Emulation

    if options:
        raise ValueError(f"360learning takes no emulator options (given: {', '.join(sorted(options))})")
    client_secret = secret or secrets.token_hex(16)
    company = seeded_company(seed=seed, client_id="lmsbridge-emulated", client_secret=client_secret)
    company.limiter.set(50.0, 50.0)  # 50 reads per second per company, as the vendor limits them
    company.spec_check = SpecCheck.load() if find_spec("jsonschema") else None
    settings = {"site_url": url, "author_id": company.admin_id, "group_id": company.group_id}
    return Emulation(
        create_app(company),
        Connection(
            "360learning", settings, {"client_id": "lmsbridge-emulated", "client_secret": client_secret}
        ),
        f'Inject faults: POST {url}/_emulator/faults  {{"kind": "status", "status": 503, "times": 2}}',
        API_VERSION_FOLLOWED,
    )
