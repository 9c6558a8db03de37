"""Every code block of README.md and docs/ that is meant to run is run, exactly as the Markdown
holds it, against a real server: shell blocks with bash, Python blocks with this interpreter,
in a fresh folder, with the environment the documents tell the reader to set
(LMSBRIDGE_URL, LMSBRIDGE_API_KEY, LMSBRIDGE_INTEGRATION_ID). A block that is not meant to run
here says so, with its reason, in a comment on the line before its fence:

    <!-- docs-test: skip (needs your Moodle site and its token) -->

Blocks without a language, and JSON or HTML blocks, are shapes and sample output, not code. The
documents also link nothing outside the repository."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.client.helpers import synced
from tests.conftest import Server
from tests.syncs.helpers import wait_until_idle

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
RUNNABLE = {"sh", "bash", "python"}
SKIP = re.compile(r"^<!-- docs-test: skip \((?P<reason>.+)\) -->$")
FENCE = re.compile(r"^```(?P<info>.*)$")
LINK = re.compile(r"\]\((?P<target>[^)\s]+)\)")
# Files a reader brings to an example (its own catalogue, for instance), by document.
READERS_FILES = {
    "docs/cli.md": {
        "catalogue.csv": "origin_id,title,course_url,duration,languages\n"
        "security-101,Security basics,https://your-platform.com/courses/security-101,45,en\n"
        'gdpr-basics,GDPR Basics,https://your-platform.com/courses/gdpr-basics,,"en,fr"\n',
    },
}


@dataclass(frozen=True)
class Block:
    document: Path
    line: int
    language: str
    code: str
    skip: str | None

    @property
    def where(self) -> str:
        return f"{self.document.relative_to(ROOT)}:{self.line}"


def blocks(document: Path) -> Iterator[Block]:
    lines = document.read_text().splitlines()
    n = 0
    while n < len(lines):
        fence = FENCE.match(lines[n])
        if fence is None:
            n += 1
            continue
        start = n
        language = fence.group("info").strip().split(" ")[0]
        end = start + 1
        while not lines[end].startswith("```"):
            end += 1
        before = next((line for line in reversed(lines[:start]) if line.strip()), "")
        marker = SKIP.match(before.strip())
        yield Block(
            document,
            start + 1,
            language,
            "\n".join(lines[start + 1 : end]) + "\n",
            marker.group("reason") if marker else None,
        )
        n = end + 1


def runnable(document: Path) -> list[Block]:
    return [b for b in blocks(document) if b.language in RUNNABLE and b.skip is None]


def test_every_skip_marker_has_a_reason_and_stands_before_code() -> None:
    for document in DOCUMENTS:
        text = document.read_text()
        markers = text.count("<!-- docs-test:")
        marked = [b for b in blocks(document) if b.skip is not None]
        assert markers == len(marked), f"{document}: a docs-test marker not right before a fence"
        for block in marked:
            assert block.language in RUNNABLE, f"{block.where}: only code blocks need a skip marker"
            assert len(block.skip or "") > 10, f"{block.where}: say why it is not run"


def test_the_documents_link_nothing_outside_the_repository() -> None:
    outside = []
    for document in DOCUMENTS:
        for target in LINK.findall(document.read_text()):
            path = target.split("#", 1)[0]
            if re.match(r"^[a-z][a-z0-9+.-]*:", target):
                outside.append(f"{document.relative_to(ROOT)}: {target}")
            elif path:
                resolved = (document.parent / path).resolve()
                if not resolved.is_relative_to(ROOT) or not resolved.exists():
                    outside.append(f"{document.relative_to(ROOT)}: {target}")
    assert not outside, f"links that leave the repository or lead nowhere: {outside}"


def test_the_readme_says_where_kombo_publishes_the_contract() -> None:
    assert "Kombo publishes" in (ROOT / "README.md").read_text()


WITH_CODE = [d for d in DOCUMENTS if runnable(d)]


@pytest.mark.slow
@pytest.mark.parametrize("document", WITH_CODE, ids=[str(d.relative_to(ROOT)) for d in WITH_CODE])
def test_every_runnable_block_runs_as_written(clean_server: Server, tmp_path: Path, document: Path) -> None:
    tenant = synced(clean_server, users=10, courses=3, progressions=5)
    env = {k: v for k, v in os.environ.items() if not k.startswith("LMSBRIDGE_")}
    env.update(
        LMSBRIDGE_URL=clean_server.url,
        LMSBRIDGE_API_KEY=tenant.key,
        LMSBRIDGE_INTEGRATION_ID=tenant.integration,
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
    )
    for name, content in READERS_FILES.get(str(document.relative_to(ROOT)), {}).items():
        (tmp_path / name).write_text(content)
    try:
        for block in runnable(document):
            command = (
                [sys.executable, "-c", block.code]
                if block.language == "python"
                else ["bash", "-e", "-o", "pipefail", "-c", block.code]
            )
            done = subprocess.run(
                command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False
            )
            assert done.returncode == 0, f"{block.where} failed:\n{done.stdout}\n{done.stderr}"
            assert '"status":"error"' not in done.stdout, f"{block.where} got an error answer:\n{done.stdout}"
    finally:
        wait_until_idle(clean_server)
