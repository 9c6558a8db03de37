"""What the pages are built from: the connectors' declared setup text (the same words as their
guides), the safe Markdown it is rendered with, and the offline API docs with the bearer scheme."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from lmsbridge.connectors.registry import CONNECTORS
from lmsbridge.pages.markdown import render_markdown
from tests.conftest import Server

ROOT = Path(__file__).resolve().parents[2]
GUIDES = {"moodle": ROOT / "docs" / "connectors" / "moodle.md", "sandbox": ROOT / "README.md"}


@pytest.mark.parametrize("tool", sorted(CONNECTORS))
def test_the_setup_text_is_the_one_the_connector_guide_shows(tool: str) -> None:
    text = CONNECTORS[tool].setup_text
    assert text.strip()
    assert text in GUIDES[tool].read_text()


def test_setup_markdown_is_escaped_before_it_is_formatted() -> None:
    html = str(render_markdown("1. **Bold** and `<b>code</b>`\n   continued *here*\n\nA <script>x</script>"))
    assert html == (
        "<ol><li><strong>Bold</strong> and <code>&lt;b&gt;code&lt;/b&gt;</code> continued <em>here</em></li>"
        "</ol><p>A &lt;script&gt;x&lt;/script&gt;</p>"
    )


def test_docs_and_redoc_are_served_from_packaged_files(clean_server: Server) -> None:
    with httpx.Client(base_url=clean_server.url) as client:
        docs = client.get("/docs")
        assert docs.status_code == 200
        assert "/docs/assets/swagger-ui-bundle.js" in docs.text and "cdn" not in docs.text.lower()
        redoc = client.get("/redoc")
        assert redoc.status_code == 200
        assert "/docs/assets/redoc.standalone.js" in redoc.text and "fonts.googleapis" not in redoc.text
        for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js"):
            assert client.get(f"/docs/assets/{asset}").status_code == 200
        document = client.get("/openapi.json").json()
        assert document["components"]["securitySchemes"]["ApiKey"] == {
            "type": "http",
            "scheme": "bearer",
            "description": "An API key of the environment: `Authorization: Bearer <api key>`.",
        }
        assert {"ApiKey": []} in document["security"]
        assert "/v1/connect/create-link" in document["paths"]
