"""`Tagged`: marks a union of wire shapes as told apart by one field (a discriminated union), without
importing pydantic. The client ignores it (it picks the variant by the field's Literal itself); the
server's response models read it, so `/openapi.json` says `oneOf` with a `discriminator`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any


@dataclass(frozen=True)
class Tagged:
    field: str

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> Any:
        # Called only when pydantic builds a schema, so only the server ever imports it from here.
        from pydantic import Field

        return handler(Annotated[source, Field(discriminator=self.field)])
