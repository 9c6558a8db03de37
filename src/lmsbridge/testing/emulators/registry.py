"""Every registered tool's emulator, as `lmsbridge emulate TOOL` serves it: an ASGI app seeded
for `--seed`, and the connection (settings and credentials) that reaches it, which
`--connection-file` writes for `lmsbridge integrations create --connection-file`. A tool whose
remote lives inside lmsbridge (the Sandbox) has no app, only its connection."""

from __future__ import annotations

import secrets

from lmsbridge.testing.emulators.kit.emulation import (
    Connection,
    Emulation,
    EmulatorFactory,
    no_options,
)
from lmsbridge.testing.emulators.linkedinlearning import emulation as _linkedinlearning
from lmsbridge.testing.emulators.talentlms import emulation as _talentlms
from lmsbridge.testing.emulators.threesixtylearning import emulation as _threesixtylearning
from lmsbridge.testing.emulators.udemy import emulation as _udemy


def _sandbox(seed: int, _url: str, _secret: str | None, options: dict[str, str]) -> Emulation:
    no_options(options)
    return Emulation(
        None,
        Connection("sandbox", {"seed": seed}, {}),
        "The Sandbox runs inside lmsbridge: there is nothing to serve.",
    )


def _moodle(seed: int, url: str, secret: str | None, options: dict[str, str]) -> Emulation:
    from lmsbridge.testing.emulators.moodle import NEWEST, VERSIONS, create_app, seeded_site

    no_options(options, ("version", "debug"))
    version = options.get("version", NEWEST)
    if version not in VERSIONS:
        raise ValueError(f"version must be one of {', '.join(VERSIONS)}")
    token = secret or secrets.token_hex(16)
    site = seeded_site(seed=seed, token=token, version=version, debug=options.get("debug") in ("1", "true"))
    return Emulation(
        create_app(site),
        Connection("moodle", {"site_url": url}, {"token": token}),
        f'Inject faults: POST {url}/_emulator/faults  {{"kind": "http_status", "status": 503, "times": 2}}',
        f"Moodle {VERSIONS[version][0]} REST web services",
    )


EMULATORS: dict[str, EmulatorFactory] = {
    "sandbox": _sandbox,
    "moodle": _moodle,
    "talentlms": _talentlms,
    "360learning": _threesixtylearning,
    "udemy": _udemy,
    "linkedinlearning": _linkedinlearning,
}
DEFAULT_PORTS: dict[str, int] = {
    "moodle": 9001,
    "talentlms": 9013,
    "360learning": 9014,
    "udemy": 9018,
    "linkedinlearning": 9019,
}
