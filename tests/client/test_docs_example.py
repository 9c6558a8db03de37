"""The content provider's run of docs/client.md, executed exactly as written (twice, so the second run
reads what changed since the first started) against the real server."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.client.helpers import synced
from tests.conftest import Server

DOC = Path(__file__).resolve().parents[2] / "docs" / "client.md"


def test_the_documented_content_provider_run_works(
    live: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    tenant = synced(live, users=10, courses=3, progressions=5)
    section = DOC.read_text().split("## A content provider's run", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert code is not None
    source = code.group(1)  # as written: the environment names the server, key and integration
    monkeypatch.setenv("LMSBRIDGE_URL", live.url)
    monkeypatch.setenv("LMSBRIDGE_API_KEY", tenant.key)
    monkeypatch.setenv("LMSBRIDGE_INTEGRATION_ID", tenant.integration)
    monkeypatch.chdir(tmp_path)
    exec(compile(source, str(DOC), "exec"), {})
    first = capsys.readouterr().out
    assert "COMPLETED" in first
    exec(compile(source, str(DOC), "exec"), {})
    second = capsys.readouterr().out
    # The second run reads only what changed since the first started: the progression it
    # completed again, not the Sandbox's older ones.
    assert len(second.splitlines()) < len(first.splitlines())
    assert (tmp_path / "last-run.json").exists()
