"""The emulator kit: what every emulated remote shares, so an emulator package holds only its
vendor's protocol. Faults, a vendor-shaped rate limiter, a call log, the `/_emulator/*` control
routes, an OAuth2 token endpoint, paging helpers and one seeded world."""

from __future__ import annotations

from lmsbridge.testing.emulators.kit.calls import Call, CallLog
from lmsbridge.testing.emulators.kit.control import Emulator, control_routes
from lmsbridge.testing.emulators.kit.faults import Fault, FaultPlan
from lmsbridge.testing.emulators.kit.limiter import RateLimiter
from lmsbridge.testing.emulators.kit.oauth import TokenIssuer, token_route
from lmsbridge.testing.emulators.kit.world import World

__all__ = [
    "Call",
    "CallLog",
    "Emulator",
    "Fault",
    "FaultPlan",
    "RateLimiter",
    "TokenIssuer",
    "World",
    "control_routes",
    "token_route",
]
