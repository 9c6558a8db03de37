"""Bodies of the direct actions and of force-sync."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from lmsbridge.schemas.common import WholeNumber


class _Body(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")


class EnrolRequest(_Body):
    user_id: str = Field(min_length=1, description="A user id, or remote:<id>.")
    course_revision_id: str = Field(min_length=1, description="A course revision id, or remote:<id>.")


class CompleteRequest(_Body):
    completed_at: str | None = Field(
        None,
        max_length=64,
        description="A date or RFC 3339 date-time (an offset is normalised to UTC); now when omitted.",
    )
    score: WholeNumber | None = Field(None, ge=0, le=100)


class ForceSyncRequest(_Body):
    type: Literal["FULL", "DELTA"] = "FULL"
