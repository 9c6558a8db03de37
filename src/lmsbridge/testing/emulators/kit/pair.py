"""The conformance battery's line for a connector whose remote is one of the project's emulators:
the emulator app served in-process (`Served`) once per pair class, a freshly seeded remote behind
it for each test, and the remote's failures staged through the kit's faults. A pair names only
what is its vendor's: the app, the seeded remote, the settings, the credentials and the vendor's
own answer when it throttles."""

from __future__ import annotations

from abc import abstractmethod
from typing import Any, ClassVar

from lmsbridge.testing.conformance.pair import ConformancePair
from lmsbridge.testing.emulators.kit.faults import Fault
from lmsbridge.testing.emulators.kit.served import Served

# Retries stay real but quick: a test must not sleep for seconds.
QUICK: dict[str, Any] = {"retry_base_delay_seconds": 0.01, "max_attempts": 3, "timeout_seconds": 5.0}


class EmulatedPair(ConformancePair):
    client_id: ClassVar[str] = "conformance-client"
    # The settings that keep a test quick (a pair adds its own: a poll interval, an unpaced limiter).
    quick: ClassVar[dict[str, Any]] = QUICK
    # The remote call a course write goes through, for `drop_after_create` (None: not staged).
    create_call: ClassVar[str | None] = None
    # Each pair class's own emulator (read from the class's own __dict__, never a base's).
    _served: ClassVar[Served | None] = None
    # The remote of the running test: an emulator's site, portal or company.
    remote: Any

    @classmethod
    @abstractmethod
    def serve(cls) -> Served:
        """The emulator app, served with an empty remote."""

    @abstractmethod
    def seeded(self) -> Any:
        """A freshly seeded remote whose credentials carry `secret`."""

    @abstractmethod
    def base_settings(self, url: str) -> dict[str, Any]:
        """The integration's settings against the emulator at `url` (without `quick`)."""

    @abstractmethod
    def rate_limit_fault(self) -> Fault:
        """The vendor's own 429 answer, twice, on a call a sync makes."""

    @classmethod
    def shared(cls) -> Served:
        """The pair's emulator for the process, started on first use."""
        served: Served | None = cls.__dict__.get("_served")
        if served is None:
            served = cls.serve()
            cls._served = served  # on the pair's own class: one emulator each
        return served

    def start(self) -> None:
        self.remote = self.shared().use(self.seeded())

    def stop(self) -> None:
        self.shared().reset()

    def settings(self, scenario: str) -> dict[str, Any] | None:
        base = {**self.base_settings(self.shared().url), **self.quick}
        scenarios = {
            "default": base,
            "auth_invalid": base,  # the credentials are wrong, not the settings
            "small_pages": {**base, "page_size": self.small_page_size},
        }
        return scenarios.get(scenario)

    def credentials(self, valid: bool = True) -> dict[str, Any] | None:
        return {
            "client_id": self.client_id,
            "client_secret": self.secret if valid else "wrong-" + self.secret[::-1],
        }

    def repeat_page(self) -> None:
        """The remote answers its first page again where the second belongs."""
        self.remote.repeat_first_page = True

    def inject(self, scenario: str) -> bool:
        faults = self.remote.faults
        if scenario == "repeat_page":
            self.repeat_page()
        elif scenario == "rate_limited":
            faults.add(self.rate_limit_fault())
        elif scenario == "outage_burst":
            faults.add(Fault("status", None, 2, 503))
        elif scenario == "lasting_outage":
            faults.add(Fault("status", None, None, 503))
        elif scenario == "drop_after_create" and self.create_call is not None:
            faults.add(Fault("drop_after_write", self.create_call, 1))
        else:
            return False
        return True
