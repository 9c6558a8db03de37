"""What a job kind does when its handler fails: each kind declares a `RetryPolicy`, which reads the
failure's intent (`errors.Intent`, carried by the error classes) instead of one rule for all:

- configuration (credentials rejected, a permission missing, a secret key that opens nothing):
  fail now, since trying again cannot help until a person changes something;
- transient (a store outage, a remote timeout or 5xx) and failures of unknown intent (a bug, an
  error raised by a library): try again later, with exponential backoff, until the job's
  `max_attempts`."""

from __future__ import annotations

from dataclasses import dataclass

from lmsbridge.errors import Intent, intent_of


@dataclass(frozen=True)
class RetryPolicy:
    first_delay_seconds: float = 2.0
    max_delay_seconds: float = 300.0
    # False: a failure of unknown intent ends the job at once (for kinds whose retries are costly).
    retry_unknown: bool = True

    def delay(self, attempt: int) -> float:
        """Seconds before attempt `attempt + 1`: doubling from the first delay, capped."""
        return float(min(self.max_delay_seconds, self.first_delay_seconds * 2 ** max(0, attempt - 1)))

    def after_failure(self, error: BaseException, attempt: int, max_attempts: int) -> float | None:
        """Seconds until the job runs again, or None: the job fails now."""
        intent = intent_of(error)
        if intent is Intent.CONFIGURATION or attempt >= max_attempts:
            return None
        if intent is None and not self.retry_unknown:
            return None
        return self.delay(attempt)


DEFAULT_RETRY = RetryPolicy()
