"""What an emulator factory gives `lmsbridge emulate`: the app to serve and the connection that
reaches it. Emulator packages build these; the registry lists the factories."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


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


# (seed, base URL, the secret to accept or None for a random one, options) -> what to serve;
# raises ValueError for an option it does not know.
EmulatorFactory = Callable[[int, str, str | None, dict[str, str]], Emulation]


def no_options(options: dict[str, str], known: tuple[str, ...] = ()) -> None:
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise ValueError(f"unknown setting {unknown[0]!r} (known: {', '.join(known) or 'none'})")
