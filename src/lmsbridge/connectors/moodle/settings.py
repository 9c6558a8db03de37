"""The Moodle connector's settings: the site, where courses go, the role enrolments give, and the
shared HTTP settings with Moodle's bounds and wording."""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import Field, field_validator

from lmsbridge.connectors.http.settings import HttpConnectorSettings


class MoodleSettings(HttpConnectorSettings):
    site_url: str = Field(
        description="The Moodle site's address (its wwwroot), e.g. https://lms.example.com."
    )
    category_id: int = Field(1, ge=1, description="The course category where upserted courses are created.")
    student_role_id: int = Field(
        5,
        ge=1,
        description="The role given to users enrolled through lmsbridge (5 is Student on a standard site).",
    )
    page_size: int = Field(
        200, ge=1, le=5000, description="Records per call where Moodle pages (enrolled users, competencies)."
    )
    write_batch_size: int = Field(50, ge=1, le=500, description="Courses per create or update call.")
    rate_limit_per_second: float | None = Field(
        None,
        gt=0,
        le=10_000,
        description="Calls per second the site accepts from lmsbridge, all workers together. Core "
        "Moodle declares no limit (a web server or WAF in front may): unset, calls are paced only "
        "by the 429s the site answers.",
    )

    @field_validator("site_url")
    @classmethod
    def _site_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
            raise ValueError("must be the site's http(s) address, such as https://lms.example.com")
        return value
