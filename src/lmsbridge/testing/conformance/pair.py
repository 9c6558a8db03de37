"""What a connector's battery line names: how to connect lmsbridge to its remote, and how to
make that remote misbehave. A scenario the remote cannot stage answers None/False, and the
battery skips that test saying why."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar

# Scenarios staged through the integration's settings (the connector reads them) or injected into
# the running emulator (its /_emulator routes).
SETTINGS_SCENARIOS = ("default", "auth_invalid", "small_pages", "lasting_outage")
INJECTED_SCENARIOS = ("repeat_page", "rate_limited", "outage_burst", "lasting_outage", "drop_after_create")


class ConformancePair(ABC):
    tool: ClassVar[str]
    secret: ClassVar[str] = "conformance-secret-0f1e2d3c4b5a6978"
    small_page_size: ClassVar[int] = 5

    def start(self) -> None:  # noqa: B027 (optional hook)
        """Before each test (a fresh remote)."""

    def stop(self) -> None:  # noqa: B027 (optional hook)
        """After each test."""

    @abstractmethod
    def settings(self, scenario: str) -> dict[str, Any] | None:
        """Integration settings for a scenario of SETTINGS_SCENARIOS; None: not stageable."""

    @abstractmethod
    def credentials(self, valid: bool = True) -> dict[str, Any] | None:
        """Credentials that carry `secret`; with valid=False, ones the remote rejects (None:
        the remote accepts anything, use the auth_invalid settings scenario)."""

    def inject(self, scenario: str) -> bool:
        """Makes the running remote misbehave (INJECTED_SCENARIOS); False: not possible."""
        return False

    def change_remote(self, integration_id: str, store: Any) -> bool:
        """Changes some records in the remote, for a delta sync to find; False: not possible."""
        return False


class SandboxPair(ConformancePair):
    """The Sandbox: its remote lives in the store; its settings stage what they can, and no
    HTTP fault can be injected (there is no HTTP remote)."""

    tool: ClassVar[str] = "sandbox"

    def settings(self, scenario: str) -> dict[str, Any] | None:
        small = {"users": 23, "courses": 7, "progressions": 30}
        scenarios: dict[str, dict[str, Any]] = {
            "default": small,
            "auth_invalid": {**small, "auth_invalid": True},
            "small_pages": {**small, "page_size": self.small_page_size},
            "lasting_outage": {**small, "page_size": self.small_page_size, "fail_read_models": "lms_users"},
        }
        return scenarios.get(scenario)

    def credentials(self, valid: bool = True) -> dict[str, Any] | None:
        return {"api_key": self.secret} if valid else None

    def change_remote(self, integration_id: str, store: Any) -> bool:
        from lmsbridge.connectors.sandbox.settings import SandboxSettings
        from lmsbridge.sandbox.generator import SandboxSize
        from lmsbridge.sandbox.repository import SandboxStateRepository

        s = SandboxSettings.model_validate(self.settings("default"))
        size = SandboxSize(users=s.users, courses=s.courses, progressions=s.progressions, seed=s.seed)
        SandboxStateRepository(store).evolve(integration_id, 5, size)
        return True
