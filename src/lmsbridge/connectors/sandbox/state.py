"""Where the simulated LMS keeps its records: implemented by `lmsbridge.sandbox.repository` over
the store, handed to the connector as a service of its context (connectors import no store)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any, Protocol


class SandboxState(Protocol):
    def upsert_courses(
        self, integration_id: str, rows: list[tuple[str, dict[str, Any]]]
    ) -> dict[str, Any]: ...

    def upsert_skills(
        self, integration_id: str, rows: list[tuple[str, dict[str, Any]]]
    ) -> dict[str, Any]: ...

    def ensure_generated(self, integration_id: str, size: Any) -> None: ...

    def pages(
        self, integration_id: str, model: str, since: datetime | None, page_size: int
    ) -> Iterator[list[tuple[str, dict[str, Any]]]]: ...

    def written(self, table_name: str, integration_id: str, since: datetime | None) -> list[Any]: ...

    def get(self, integration_id: str, model: str, remote_id: str) -> dict[str, Any] | None: ...

    def find_progression(
        self, integration_id: str, user_remote_id: str, revision_remote_id: str
    ) -> tuple[str, dict[str, Any]] | None: ...

    def put(self, integration_id: str, model: str, remote_id: str, data: dict[str, Any]) -> None: ...

    def set_written_course_active(self, integration_id: str, remote_id: str, active: bool) -> Any: ...

    def remove(self, integration_id: str, model: str, remote_id: str) -> bool: ...
