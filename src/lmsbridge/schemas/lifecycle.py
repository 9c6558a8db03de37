"""Request bodies (and the passthrough answer) of the integration lifecycle routes, passthrough and
the HRIS skill writes. Pydantic models, kept apart from the pydantic-free shapes the client shares."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    # Lifecycle bodies refuse unknown fields: a misspelt `credentails` must not pass silently.
    model_config = ConfigDict(strict=True, extra="forbid")


class UpdateIntegrationRequest(_Strict):
    settings: dict[str, Any] | None = Field(
        None, description="Connector settings to change; merged over the current ones, null removes a key."
    )
    credentials: dict[str, Any] | None = Field(
        None, description="The remote credentials, replaced whole; stored encrypted."
    )
    name: str | None = Field(None, min_length=1, max_length=200, description="The organisation's name.")


class EnabledRequest(_Strict):
    value: bool = Field(description="false pauses the integration (INACTIVE), true resumes it.")


class IntegrationDeleted(BaseModel):
    """`DELETE /integrations/{id}` answers an empty object."""

    model_config = ConfigDict(extra="forbid")


class EmptyRequest(BaseModel):
    """The contract's empty request body (`{}`), which may also be left out; unknown fields are
    ignored, as Kombo does."""

    model_config = ConfigDict(extra="ignore")


class PassthroughBody(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")

    method: Literal["GET", "POST", "DELETE", "PUT", "PATCH"]
    path: str = Field(max_length=8000, description="Relative to the API's base URL.")
    headers: dict[str, str] | None = None
    params: dict[str, str] | None = None
    data: Any = None
    response_as_base64: bool | None = None
    multipart_form_data: list[Any] | None = None
    api_options: dict[str, str] | None = None


class PassthroughAnswer(BaseModel):
    """The remote's answer to a passthrough request, relayed as it came (secrets redacted)."""

    url: str
    status: int
    headers: dict[str, Any]
    data: Any = None


class SkillCreateRequest(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")

    name: str = Field(min_length=1, max_length=1000, description="The name of the skill.")
    levels: list[str] | None = Field(None, max_length=100, description="The skill's levels, in order.")


class SkillUpdateRequest(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")

    name: str | None = Field(None, min_length=1, max_length=1000)
    levels: list[str] | None = Field(None, max_length=100)
