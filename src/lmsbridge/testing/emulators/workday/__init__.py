"""A Workday tenant's Learning and Human_Resources SOAP web services (Workday Web Services
`WWS_VERSION`), for the Workday connector's tests and for trying lmsbridge without a tenant
(`lmsbridge emulate workday`). Workday publishes its WSDL but no copy is stored here; element
names follow reference section 3 and code generated from the Learning WSDL (see
docs/connectors/workday.md)."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from lmsbridge.testing.emulators.workday.app import create_app
from lmsbridge.testing.emulators.workday.site import WWS_VERSION, WorkdaySite, seeded_site

if TYPE_CHECKING:
    from lmsbridge.testing.emulators.kit.emulation import Emulation

API_VERSION_FOLLOWED = f"Workday Web Services {WWS_VERSION} (Learning, Human_Resources; SOAP 1.1)"

__all__ = ["API_VERSION_FOLLOWED", "WWS_VERSION", "WorkdaySite", "create_app", "emulation", "seeded_site"]


def emulation(seed: int, url: str, secret: str | None, options: dict[str, str] | None = None) -> Emulation:
    """What `lmsbridge emulate workday` serves, and the connection that reaches it
    (`--setting auth_mode=oauth` for the OAuth2 refresh-token mode)."""
    from lmsbridge.testing.emulators.kit.emulation import Connection, Emulation

    options = dict(options or {})
    mode = options.pop("auth_mode", "ws_security")
    if options or mode not in ("ws_security", "oauth"):
        raise ValueError("known settings: auth_mode=ws_security|oauth")
    password = secret or secrets.token_hex(16)
    site = seeded_site(seed=seed, password=password)
    credentials = (
        {"username": site.user_name, "password": password}
        if mode == "ws_security"
        else {"client_id": site.client_id, "client_secret": password, "refresh_token": f"refresh-{password}"}
    )
    return Emulation(
        create_app(site),
        Connection(
            "workday",
            {"base_url": url, "tenant": site.tenant, "auth_mode": mode},
            credentials,
        ),
        f'Inject faults: POST {url}/_emulator/faults  {{"kind": "status", "status": 503, "times": 2}}',
        API_VERSION_FOLLOWED,
    )
