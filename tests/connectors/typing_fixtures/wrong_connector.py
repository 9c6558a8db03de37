"""A connector written wrongly on purpose: mypy must reject it (tests/connectors/test_base_connector.py
runs mypy on this file). Not imported by any test."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import ClassVar

from lmsbridge.connectors.base import ConnectorSettings
from lmsbridge.connectors.connector import BaseConnector
from lmsbridge.connectors.records import Record


class WrongConnector(BaseConnector[ConnectorSettings]):
    tool: ClassVar[str] = "wrong"
    label: ClassVar[str] = "Wrong"
    settings_model: ClassVar[type[ConnectorSettings]] = ConnectorSettings

    def perform_enrol(self, user_remote_id: int) -> str:  # wrong parameters and return type
        return str(user_remote_id)

    def read(self, model: str, since: datetime | None) -> Iterator[Sequence[Record]]:  # final in the base
        yield []
