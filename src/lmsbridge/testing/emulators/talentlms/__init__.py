"""A TalentLMS portal behind TalentLMS's API v1 and Public API v2, for the TalentLMS connector's
tests and for trying lmsbridge without a TalentLMS account (`lmsbridge emulate talentlms`).

It follows the vendor as of the Public API v2 OpenAPI file (info.version 1.0.0, requests
carrying `X-API-Version`) and the v1 REST API (`/api/v1`). See `site` for the seeded portal,
`v1` and `v2` for the protocols, `spec` for the check of v2 answers against the vendor's file."""

from __future__ import annotations

import secrets
from importlib.util import find_spec
from typing import TYPE_CHECKING

from lmsbridge.testing.emulators.talentlms.app import create_app
from lmsbridge.testing.emulators.talentlms.site import TalentLmsSite, seeded_site
from lmsbridge.testing.emulators.talentlms.spec import SpecCheck

if TYPE_CHECKING:
    from lmsbridge.testing.emulators.kit.emulation import Emulation

API_VERSION_FOLLOWED = "TalentLMS API v1 and Public API v2 (OpenAPI info.version 1.0.0)"

__all__ = ["API_VERSION_FOLLOWED", "TalentLmsSite", "create_app", "emulation", "seeded_site"]


def emulation(seed: int, url: str, secret: str | None, options: dict[str, str] | None = None) -> Emulation:
    """What `lmsbridge emulate talentlms` serves, and the connection that reaches it. It takes no
    options (the seed sizes the portal)."""
    from lmsbridge.testing.emulators.kit.emulation import Connection, Emulation

    if options:
        raise ValueError(f"unknown setting {sorted(options)[0]!r} (known: none)")
    key = secret or secrets.token_hex(15)
    site = seeded_site(seed=seed, api_key=key)
    site.limiter.set(40.0, 200.0)  # 200 calls per 5 seconds, as the vendor limits them
    site.spec_check = SpecCheck.load() if find_spec("jsonschema") else None  # where the file is at hand
    return Emulation(
        create_app(site),
        Connection("talentlms", {"site_url": url}, {"api_key": key}),
        f'Inject faults: POST {url}/_emulator/faults  {{"kind": "status", "status": 503, "times": 2}}',
        API_VERSION_FOLLOWED,
    )
