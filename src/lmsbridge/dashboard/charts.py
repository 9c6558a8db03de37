"""Server-rendered SVG charts: horizontal bars, plain or stacked. Every label is escaped; the
page needs no script to draw them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

ROW = 20
LABEL_WIDTH = 150
BAR_WIDTH = 220
VALUE_WIDTH = 90


@dataclass(frozen=True)
class Segment:
    value: float
    css: str = ""  # "", "ok" or "bad"
    name: str = ""


@dataclass(frozen=True)
class Row:
    label: str
    segments: Sequence[Segment]
    note: str | None = None  # the figure printed after the bar; the total by default


def _number(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 or value == int(value) else f"{value:,.2f}"


def bar_chart(title: str, rows: Sequence[Row], *, unit: str = "", empty: str = "No data yet.") -> Markup:
    width = LABEL_WIDTH + BAR_WIDTH + VALUE_WIDTH
    if not rows:
        return Markup('<figure class="chart"><h3>{}</h3><p class="muted">{}</p></figure>').format(
            title, empty
        )
    peak = max(sum(s.value for s in row.segments) for row in rows) or 1.0
    height = ROW * len(rows) + 4
    parts: list[str] = []
    for index, row in enumerate(rows):
        y = index * ROW + 2
        parts.append(
            f'<text x="{LABEL_WIDTH - 6}" y="{y + 13}" text-anchor="end">{escape(row.label[:24])}</text>'
        )
        x = float(LABEL_WIDTH)
        for segment in row.segments:
            w = BAR_WIDTH * segment.value / peak
            if w > 0:
                tip = f"{segment.name}: {_number(segment.value)}" if segment.name else _number(segment.value)
                parts.append(
                    f'<rect class="bar {escape(segment.css)}" x="{x:.1f}" y="{y + 2}" '
                    f'width="{max(w, 1):.1f}" height="{ROW - 6}"><title>{escape(tip)}</title></rect>'
                )
                x += w
        note = row.note if row.note is not None else _number(sum(s.value for s in row.segments)) + unit
        parts.append(f'<text x="{x + 4:.1f}" y="{y + 13}">{escape(note)}</text>')
    svg = (
        f'<svg role="img" aria-label="{escape(title)}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">{"".join(parts)}</svg>'
    )
    return Markup('<figure class="chart"><h3>{}</h3>').format(title) + Markup(svg) + Markup("</figure>")
