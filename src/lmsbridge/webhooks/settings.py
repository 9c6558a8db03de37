"""Webhook settings, read from `LMSBRIDGE_WEBHOOK_*` environment variables."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class WebhookSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LMSBRIDGE_WEBHOOK_", extra="ignore")

    timeout_seconds: float = Field(5.0, gt=0, description="HTTP timeout of one delivery attempt.")
    retry_base_seconds: float = Field(10.0, gt=0, description="Wait after the first failed attempt.")
    retry_max_seconds: float = Field(3600.0, gt=0, description="Longest wait between attempts.")
    retry_window_seconds: float = Field(
        24 * 3600.0, gt=0, description="No attempt is made later than this after the event."
    )
    fanout_seconds: float = Field(1.0, gt=0, description="How often a worker looks for new events.")

    def delay(self, failed_attempts: int) -> float:
        """The wait after `failed_attempts` failures: base, doubling, capped."""
        exponent = min(max(failed_attempts - 1, 0), 40)
        return float(min(self.retry_base_seconds * 2**exponent, self.retry_max_seconds))
