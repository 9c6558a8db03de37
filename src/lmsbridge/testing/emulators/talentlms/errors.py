"""TalentLMS's error answers, per API: v1 wraps them (`{"error": {"type", "message"}}`), v2 puts
`type` and `message` at the top [T3, T4, T7, T8 of the reference's section 2]. The messages are
the vendor's own strings where the reference lists them. Which API a request is for travels in a
context variable, so the kit's rate limiter answers in the right shape."""

from __future__ import annotations

import time
from contextvars import ContextVar

from starlette.responses import JSONResponse, Response

current_api: ContextVar[str] = ContextVar("talentlms_api", default="v2")

INVALID_REQUEST = "invalid_request_error"
API_ERROR = "api_error"

USER_MISSING = "The requested user does not exist"
USER_GONE = "The requested user is no longer available"
COURSE_MISSING = "The requested course does not exist"
INVALID_ARGUMENTS = "Invalid arguments provided"
NO_SUCH_ACTION = "The requested API action does not exist"
ALREADY_ENROLLED = "The requested user is already enrolled in this course"
NOT_ENROLLED = "The requested user is not enrolled in this course"
INVALID_KEY = "Invalid API key provided"  # the emulator's wording (the reference gives none)


class TalentLmsError(Exception):
    def __init__(self, status: int, message: str, kind: str = INVALID_REQUEST) -> None:
        super().__init__(message)
        self.status, self.message, self.kind = status, message, kind


def answer(error: TalentLmsError, api: str | None = None) -> Response:
    if (api or current_api.get()) == "v1":
        return JSONResponse({"error": {"type": error.kind, "message": error.message}}, error.status)
    return JSONResponse({"type": error.kind, "message": error.message}, error.status)


def throttled(wait: float) -> Response:
    """Over 200 calls in 5 seconds: 429 in the API's error shape, with v2's rate-limit headers
    (no Retry-After is documented: the reset moment is the signal)."""
    response = answer(TalentLmsError(429, "Rate limit exceeded", API_ERROR))
    response.headers.update(
        {
            "X-RateLimit-Limit": "200",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": str(int(time.time() + max(1.0, wait + 0.49))),
        }
    )
    return response
