"""`lmsbridge connect ...` as a subprocess: links for customers and allowed frame origins."""

from __future__ import annotations

from tests.cli.test_cli import Cli, last_line, lmsbridge, store_url  # noqa: F401 (fixtures)


def test_connect_link_and_frame_origins(lmsbridge: Cli) -> None:  # noqa: F811
    lmsbridge.ok("keys", "create", "--name", "ops")
    link = last_line(lmsbridge.ok("connect", "link", "--organization", "Acme", "--email", "it@acme.example"))
    assert "/connect/" in link

    assert (
        "unknown tool"
        in lmsbridge.fails(
            "connect", "link", "--organization", "Acme", "--email", "it@acme.example", "--tool", "nope"
        ).stderr
    )
    assert (
        "no environment 'elsewhere'"
        in lmsbridge.fails(
            "connect", "link", "--organization", "A", "--email", "a@b.example", "--environment", "elsewhere"
        ).stderr
    )

    lmsbridge.ok("connect", "allow-origin", "HTTPS://App.Example.com/")
    assert lmsbridge.ok("connect", "origins").stdout.split() == ["https://app.example.com"]
    assert "is not an origin" in lmsbridge.fails("connect", "allow-origin", "https://x.example/path").stderr
    lmsbridge.ok("connect", "disallow-origin", "https://app.example.com")
    assert lmsbridge.ok("connect", "origins").stdout.strip() == ""
    lmsbridge.fails("connect", "disallow-origin", "https://app.example.com")
