"""Request bodies of the bulk endpoints, validated by pydantic, and the envelopes of their answers.
The answers' shapes are the pydantic-free dataclasses of schemas/tasks.py, which the client shares."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

from lmsbridge.schemas.common import Success, SuccessWithWarnings, WholeNumber
from lmsbridge.schemas.tasks import TaskCreated, TaskStatus

LanguageTag = Annotated[str, Field(pattern=r"^[a-z]{2,3}(-[A-Z]{2})?$")]
OriginId = Annotated[str, Field(min_length=1, max_length=255)]


class _Strict(BaseModel):
    # Strict: "45" is not a duration and 1 is not a title. Unknown fields are ignored, as Kombo does.
    model_config = ConfigDict(strict=True, extra="ignore")


class ExternalCourse(_Strict):
    type: Literal["EXTERNAL"]
    title: str = Field(min_length=1)
    description: str | None = None
    course_url: str = Field(min_length=1)
    thumbnail_url: str | None = None
    duration: WholeNumber | None = Field(None, gt=0, description="Minutes.")
    languages: list[LanguageTag] | None = None

    @field_validator("course_url")
    @classmethod
    def _absolute_url(cls, value: str) -> str:
        _absolute_http_url(value)
        return value


# A URL this matches is one urlsplit reads as http(s) with a host (ASCII host characters, no
# brackets, nothing urlsplit would strip): the common case, checked without urlsplit, which
# costs several microseconds a call and a bulk body has 10,000 URLs. Others go to urlsplit.
_PLAIN_HTTP_URL = re.compile(r"https?://[A-Za-z0-9\-._~%!$&'()*+,;=:@]+(?:[/?#][^\x00-\x20\x7f]*)?")


def _absolute_http_url(value: str | None) -> str | None:
    if value is None or _PLAIN_HTTP_URL.fullmatch(value):
        return value
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("must be an absolute http(s) URL")
    return value


CallbackUrl = Annotated[
    str | None,
    Field(
        None,
        max_length=2000,
        description="Extension: receives the task's `task-completed` event once it ends, signed "
        "with the environment's callback secret (X-Kombo-Signature).",
    ),
]


class CourseBulkItem(_Strict):
    origin_id: OriginId
    course: ExternalCourse


class CoursesBulkRequest(_Strict):
    items: list[CourseBulkItem]
    callback_url: CallbackUrl = None

    check_callback_url = field_validator("callback_url")(_absolute_http_url)


class SkillBulkItem(_Strict):
    origin_id: OriginId
    name: str = Field(min_length=1)
    status: Literal["ACTIVE", "INACTIVE"] = "ACTIVE"


class SkillsBulkRequest(_Strict):
    items: list[SkillBulkItem]
    callback_url: CallbackUrl = None

    check_callback_url = field_validator("callback_url")(_absolute_http_url)


class TaskCreatedResponse(SuccessWithWarnings[TaskCreated]):
    pass


class TaskStatusResponse(Success[TaskStatus]):
    pass


def canonical_items(request: CoursesBulkRequest | SkillsBulkRequest) -> list[dict[str, Any]]:
    """Items with defaults filled in, for hashing and storing (one serialisation of the list, not
    one call per item)."""
    items: list[dict[str, Any]] = request.model_dump(mode="json", include={"items"})["items"]
    return items
