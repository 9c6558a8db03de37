"""What the pages are built from: the connectors' declared setup text (the same words as their
guides), the safe Markdown it is rendered with, and the offline API docs with the bearer scheme."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from lmsbridge.connect.form import CREDENTIAL, SETTING, fields_of
from lmsbridge.connectors.registry import CONNECTORS
from lmsbridge.pages.markdown import render_markdown
from tests.conftest import Server

ROOT = Path(__file__).resolve().parents[2]
# Every connector's guide quotes its setup text word for word: the connection page and the guide
# show one text.
GUIDES = {
    "sandbox": ROOT / "README.md",
    "360learning": ROOT / "docs" / "connectors" / "360learning.md",
    **{
        tool: ROOT / "docs" / "connectors" / f"{tool}.md"
        for tool in (
            "moodle",
            "talentlms",
            "successfactors",
            "cornerstoneondemand",
            "workday",
            "udemy",
            "linkedinlearning",
        )
    },
}


def test_every_connector_has_a_guide() -> None:
    assert set(GUIDES) == set(CONNECTORS)


@pytest.mark.parametrize("tool", sorted(GUIDES))
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


@pytest.mark.parametrize("tool", sorted(CONNECTORS))
def test_every_connector_has_a_connection_page_with_its_setup_text_and_form(
    api: httpx.Client, tool: str
) -> None:
    cls = CONNECTORS[tool]
    response = api.post(
        "/v1/connect/create-link",
        json={
            "end_user_email": "admin@acme.example",
            "end_user_organization_name": "Acme",
            "integration_tool": tool,
        },
    )
    assert response.status_code == 200, response.text
    page = httpx.get(response.json()["data"]["link"], timeout=30)
    assert page.status_code == 200, page.text
    assert str(render_markdown(cls.setup_text)) in page.text
    fields = fields_of(cls.settings_model, SETTING) + fields_of(cls.credentials_model, CREDENTIAL)
    assert fields or tool == "sandbox"
    for field in fields:
        assert f'name="{field.name}"' in page.text, field.name
