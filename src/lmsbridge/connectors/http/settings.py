"""The settings every HTTP connector shares, so none redeclares them: timeouts, attempts and
backoff, the remote's rate limit, page and batch sizes. A connector subclasses it, adds its own
fields and changes defaults to its vendor's documented limits."""

from __future__ import annotations

from pydantic import Field

from lmsbridge.connectors.base import ConnectorSettings
from lmsbridge.connectors.http.client import RetryPolicy
from lmsbridge.connectors.pacing import Pace


class HttpConnectorSettings(ConnectorSettings):
    timeout_seconds: float = Field(30.0, gt=0, le=600, description="Seconds to wait for one answer.")
    max_attempts: int = Field(4, ge=1, le=10, description="Attempts per call on timeouts, 429 and 5xx.")
    retry_base_delay_seconds: float = Field(
        1.0, ge=0, le=60, description="First retry delay; each next one doubles, with jitter."
    )
    rate_limit_per_second: float | None = Field(
        None,
        gt=0,
        le=10_000,
        description="Calls per second the remote accepts from lmsbridge, all workers together; unset, "
        "calls are paced only by the 429s it answers.",
    )
    rate_limit_burst: float = Field(1.0, ge=1, le=10_000, description="Calls that may go at once.")
    page_size: int = Field(200, ge=1, le=10_000, description="Records per page where the remote pages.")
    write_batch_size: int = Field(50, ge=1, le=10_000, description="Items per write call.")

    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(attempts=self.max_attempts, base_delay=self.retry_base_delay_seconds)

    def pace(self) -> Pace:
        return Pace(self.rate_limit_per_second, self.rate_limit_burst)
