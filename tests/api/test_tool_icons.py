"""Every tool's integration details name a logo that the service serves."""

from __future__ import annotations

from importlib import resources

from lmsbridge.connectors.registry import tools


def test_every_registered_tool_has_its_icon_file() -> None:
    static = resources.files("lmsbridge") / "static"
    missing = [tool for tool in tools() if not (static / f"{tool}.svg").is_file()]
    assert missing == []
    for tool in tools():
        svg = (static / f"{tool}.svg").read_text()
        assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>"), tool
