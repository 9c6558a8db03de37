"""Every registered tool's emulator, as `lmsbridge emulate TOOL` serves it: an ASGI app seeded
for `--seed`, and the connection (settings and credentials) that reaches it, which
`--connection-file` writes for `lmsbridge integrations create --connection-file`. A tool whose
remote lives inside lmsbridge (the Sandbox) has no app, only its connection."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lmsbridge.testing.emulators.linkedinlearning import emulation as _linkedinlearning
from lmsbridge.testing.emulators.udemy import emulation as _udemy


@dataclass(frozen=True)
class Connection:
    tool: str
    settings: dict[str, Any]
    credentials: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {"tool": self.tool, "settings": self.settings, "credentials": self.credentials}


@dataclass(frozen=True)
class Emulation:
    """`app` None: nothing to serve (the remote is simulated inside lmsbridge)."""

    app: Any
    connection: Connection
    notes: str = ""
    follows: str = ""  # the vendor API version the emulator follows


# (seed, base URL, the secret to accept or None for a random one) -> what to serve
EmulatorFactory = Callable[[int, str, str | None], Emulation]


def _sandbox(seed: int, _url: str, _secret: str | None) -> Emulation:
    return Emulation(
        None,
        Connection("sandbox", {"seed": seed}, {}),
        "The Sandbox runs inside lmsbridge: there is nothing to serve.",
    )


def _moodle(seed: int, url: str, secret: str | None) -> Emulation:
    from lmsbridge.testing.emulators.moodle import RELEASE, create_app, seeded_site

    token = secret or secrets.token_hex(16)
    return Emulation(
        create_app(seeded_site(seed=seed, token=token)),
        Connection("moodle", {"site_url": url}, {"token": token}),
        f'Inject faults: POST {url}/_emulator/faults  {{"kind": "http_status", "status": 503, "times": 2}}',
        f"Moodle {RELEASE} REST web services",
    )


EMULATORS: dict[str, EmulatorFactory] = {
    "sandbox": _sandbox,
    "moodle": _moodle,
    "udemy": _udemy,
    "linkedinlearning": _linkedinlearning,
}
DEFAULT_PORTS: dict[str, int] = {"moodle": 9001, "udemy": 9018, "linkedinlearning": 9019}
