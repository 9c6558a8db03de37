"""The small part of Markdown that connectors' setup texts use (numbered steps, paragraphs,
**bold**, *italic*, `code`), rendered after escaping, so a setup text cannot inject markup."""

from __future__ import annotations

import re

from markupsafe import Markup, escape

_CODE = re.compile(r"`([^`]+)`")
_BOLD = re.compile(r"\*\*([^*]+)\*\*")
_ITALIC = re.compile(r"\*([^*]+)\*")
_STEP = re.compile(r"^\d+\.\s+")


def _inline(text: str) -> str:
    html = str(escape(text))
    html = _CODE.sub(r"<code>\1</code>", html)
    html = _BOLD.sub(r"<strong>\1</strong>", html)
    return _ITALIC.sub(r"<em>\1</em>", html)


def render_markdown(text: str) -> Markup:
    blocks: list[tuple[str, list[str]]] = []  # ("step" | "para", lines)
    for line in text.splitlines():
        if not line.strip():
            blocks.append(("gap", []))
        elif _STEP.match(line):
            blocks.append(("step", [_STEP.sub("", line)]))
        elif blocks and (blocks[-1][0] == "para" or (line.startswith(" ") and blocks[-1][0] == "step")):
            blocks[-1][1].append(line.strip())
        else:
            blocks.append(("para", [line.strip()]))
    html: list[str] = []
    in_list = False
    for kind, lines in blocks:
        if kind == "step" and not in_list:
            html.append("<ol>")
            in_list = True
        if kind != "step" and in_list:
            html.append("</ol>")
            in_list = False
        if kind == "step":
            html.append(f"<li>{_inline(' '.join(lines))}</li>")
        elif kind == "para":
            html.append(f"<p>{_inline(' '.join(lines))}</p>")
    if in_list:
        html.append("</ol>")
    return Markup("".join(html))  # built from escaped text only
