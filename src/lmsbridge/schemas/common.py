"""Envelopes shared by every endpoint."""

from __future__ import annotations

from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict

from lmsbridge.schemas.errors import ErrorBody

DataT = TypeVar("DataT")


def _whole(value: Any) -> Any:
    # JSON Schema counts 93.0 as an integer; clients that write numbers as floats send it.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


WholeNumber = Annotated[int, BeforeValidator(_whole)]


class Warning_(BaseModel):
    message: str


class ErrorResponse(BaseModel):
    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    status: Literal["error"] = "error"
    error: ErrorBody


class Success(BaseModel, Generic[DataT]):
    # `status` is always sent: required in the response schema although it has a default.
    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    status: Literal["success"] = "success"
    data: DataT


class SuccessWithWarnings(Success[DataT], Generic[DataT]):
    warnings: list[Warning_]


class Page(BaseModel, Generic[DataT]):
    """One page of a list endpoint: `next` is the cursor of the following page, null on the last."""

    next: str | None
    results: list[DataT]
