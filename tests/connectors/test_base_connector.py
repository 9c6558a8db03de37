"""BaseConnector: capabilities derived from declarations, what the base refuses, the one
"remote became unavailable" rule, the registry's entry points, and mypy rejecting a connector
whose declared signatures are wrong."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import ClassVar

import pytest

from lmsbridge.connectors import registry
from lmsbridge.connectors.base import (
    ConnectorContext,
    ConnectorSettings,
    CourseUpsert,
    Coverage,
    ItemOutcome,
    ModelCoverage,
    WriteAction,
)
from lmsbridge.connectors.connector import BaseConnector
from lmsbridge.connectors.errors import ConnectorError, IntegrationError, ItemError
from lmsbridge.connectors.records import Record, UserRecord
from lmsbridge.connectors.runtime import require_capability
from lmsbridge.connectors.streams import Stream
from lmsbridge.connectors.writers import CourseWriter
from lmsbridge.errors import ActionNotAvailableError, ErrorCode

ROOT = Path(__file__).resolve().parents[2]


class Users(Stream["Ledger", dict[str, str]]):
    model: ClassVar[str] = "lms_users"
    fields: ClassVar[dict[str, Coverage]] = {"remote_created_at": Coverage.UNSUPPORTED}

    def pages(self, since: datetime | None) -> Iterator[Sequence[dict[str, str]]]:
        yield [{"id": "1", "name": "Ada"}, {"id": "guest", "name": "Guest"}]
        yield [{"id": "2", "name": "Grace"}]

    def to_record(self, raw: dict[str, str]) -> Record | None:
        return None if raw["id"] == "guest" else UserRecord(raw["id"], raw["name"], None, None)


class Courses(CourseWriter["Ledger"]):
    batch_size: ClassVar[int] = 2

    def invalid(self, item: CourseUpsert) -> str | None:
        return "a title is needed" if not item.title else None

    def prepare(self, items: Sequence[CourseUpsert]) -> None:
        if self.connector.down_from == 0:
            raise ConnectorError("down before anything", code=ErrorCode.REMOTE_SERVICE_UNAVAILABLE)

    def write_batch(self, batch: Sequence[CourseUpsert]) -> Iterator[ItemOutcome]:
        self.connector.batches += 1
        if self.connector.down_from is not None and self.connector.batches >= self.connector.down_from:
            raise ConnectorError("HTTP 503", code=ErrorCode.REMOTE_SERVICE_UNAVAILABLE)
        for item in batch:
            yield ItemOutcome(item.origin_id, remote_id=f"r-{item.origin_id}")


class Ledger(BaseConnector[ConnectorSettings]):
    tool: ClassVar[str] = "ledger"
    label: ClassVar[str] = "Ledger"
    settings_model: ClassVar[type[ConnectorSettings]] = ConnectorSettings
    streams = (Users,)
    writers = (Courses,)
    model_coverage: ClassVar[dict[str, ModelCoverage]] = {
        "lms_course_providers": ModelCoverage(Coverage.UNSUPPORTED)
    }
    action_coverage: ClassVar[dict[WriteAction, Coverage]] = {WriteAction.UPSERT_SKILLS: Coverage.UNSUPPORTED}

    def __init__(self, context: ConnectorContext, down_from: int | None = None) -> None:
        super().__init__(context)
        self.down_from = down_from
        self.batches = 0


def ledger(down_from: int | None = None) -> Ledger:
    return Ledger(ConnectorContext("ledger:test", {}, {}), down_from)


def items(n: int) -> list[CourseUpsert]:
    return [CourseUpsert(f"o{i}", f"Course {i}", f"https://x/{i}") for i in range(n)]


def test_capabilities_are_derived_from_the_declarations() -> None:
    caps = Ledger.capabilities
    assert caps.reads("lms_users") and not caps.has_field("lms_users", "remote_created_at")
    assert caps.read_models["lms_courses"].coverage is Coverage.NOT_IMPLEMENTED
    assert caps.read_models["lms_course_providers"].coverage is Coverage.UNSUPPORTED
    assert caps.can(WriteAction.UPSERT_COURSES)
    assert caps.write_actions[WriteAction.UPSERT_SKILLS] is Coverage.UNSUPPORTED
    assert caps.write_actions[WriteAction.ENROL] is Coverage.NOT_IMPLEMENTED
    assert not caps.supports_delta


def test_read_drives_the_stream_and_leaves_out_rows_that_are_no_records() -> None:
    pages = list(ledger().read("lms_users", None))
    assert [[r.remote_id for r in page] for page in pages] == [["1"], ["2"]]
    assert list(ledger().read("lms_courses", None)) == []


def test_an_undeclared_action_is_refused_as_action_not_available() -> None:
    with pytest.raises(IntegrationError) as raised:
        ledger().enrol("1", "c1")
    assert raised.value.code is ErrorCode.INTEGRATION_ACTION_NOT_AVAILABLE
    with pytest.raises(IntegrationError) as raised:
        list(ledger().upsert_skills([]))
    assert raised.value.code is ErrorCode.INTEGRATION_ACTION_NOT_AVAILABLE
    with pytest.raises(ActionNotAvailableError, match='"Enroll user" action is not available for Ledger'):
        require_capability_of(WriteAction.ENROL)


def require_capability_of(action: WriteAction) -> None:
    registry.CONNECTORS["ledger"] = Ledger
    try:
        require_capability("ledger", action)
    finally:
        del registry.CONNECTORS["ledger"]


def test_invalid_items_fail_without_a_call_and_the_rest_are_written() -> None:
    connector = ledger()
    outcomes = list(connector.upsert_courses([CourseUpsert("bad", "", "https://x"), *items(3)]))
    assert outcomes[0].error is not None and outcomes[0].error.code is ErrorCode.REMOTE_INPUT_INVALID
    assert [o.remote_id for o in outcomes[1:]] == ["r-o0", "r-o1", "r-o2"]
    assert connector.batches == 2


def test_once_the_remote_is_unavailable_the_remaining_items_fail_as_not_attempted() -> None:
    outcomes = list(ledger(down_from=2).upsert_courses(items(6)))
    assert [o.remote_id for o in outcomes[:2]] == ["r-o0", "r-o1"]
    failed = outcomes[2:]
    assert all(isinstance(o.error, ItemError) for o in failed)
    assert all(o.error and o.error.code is ErrorCode.REMOTE_SERVICE_UNAVAILABLE for o in failed)
    assert [o.error.message.startswith("Not attempted") for o in failed if o.error] == [
        False,
        False,
        True,
        True,
    ]


def test_a_remote_down_before_the_first_write_fails_the_whole_task() -> None:
    with pytest.raises(IntegrationError) as raised:
        list(ledger(down_from=0).upsert_courses(items(2)))
    assert raised.value.code is ErrorCode.REMOTE_SERVICE_UNAVAILABLE


def test_an_installed_package_s_entry_point_adds_a_connector(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "ledger_connector.py").write_text(
        "from tests.connectors.test_base_connector import Ledger as LedgerConnector\n"
    )
    info = tmp_path / "ledger_connector-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: ledger-connector\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        "[lmsbridge.connectors]\nledger = ledger_connector:LedgerConnector\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(registry, "CONNECTORS", dict(registry.CONNECTORS))
    registry.load_entry_points.cache_clear()
    try:
        assert "ledger" in registry.tools()
        assert registry.connector_class("ledger") is Ledger
    finally:
        registry.load_entry_points.cache_clear()


@pytest.mark.slow
def test_mypy_rejects_a_connector_whose_declared_signatures_are_wrong() -> None:
    fixture = ROOT / "tests" / "connectors" / "typing_fixtures" / "wrong_connector.py"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--no-incremental",
            "--follow-imports=silent",
            str(fixture),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 1, textwrap.shorten(output, 2000)
    assert 'Signature of "perform_enrol" incompatible with supertype' in output, output
    assert 'Cannot override final attribute "read"' in output, output
