"""The span chart: one row per item, each span a bar from its start to its end on a time
axis (when each version of a model served production)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

from lucid.charts.scales import (
    BOTTOM,
    ROW,
    TOP,
    WIDTH,
    Scale,
    classes,
    domain,
    format_day,
    id_attr,
    svg_text,
)


@dataclass(frozen=True, slots=True)
class Span:
    """A row's stretch of x from `start` to `end` (a version serving production)."""

    row: str
    start: float
    end: float
    label: str = ""
    kind: str = ""


def span_chart(
    title: str,
    spans: Sequence[Span],
    *,
    x_format: Callable[[float], str] = format_day,
    chart_id: str = "",
) -> str:
    """An SVG timeline: one row per distinct `row` (in first-seen order), each span a bar
    from its start to its end (`data-start`, `data-end`), dates on the x axis."""
    rows = list(dict.fromkeys(span.row for span in spans))
    left = 90
    height = TOP + BOTTOM + ROW * max(1, len(rows))
    bottom = height - BOTTOM
    xs = [v for span in spans for v in (span.start, span.end)]
    scale = Scale(*domain(xs, pad=0.02), left, WIDTH - 40)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart span-chart" '
        f'{id_attr(chart_id)}viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" '
        f'height="{height}" role="img" aria-label="{escape(title, quote=True)}">',
        f"<title>{escape(title)}</title>",
        '<g class="axis">',
        f'<line class="axis-line" x1="{left}" y1="{bottom}" x2="{WIDTH - 40}" y2="{bottom}"/>',
    ]
    for value in scale.ticks(4):
        parts.append(
            svg_text(scale.at(value), bottom + 16, x_format(value), "tick x-tick", "middle")
        )
    for index, row in enumerate(rows):
        y = TOP + ROW * index + ROW / 2
        parts.append(svg_text(left - 10, y + 4, row, "tick y-tick row-label", "end"))
    parts.append("</g>")
    for span in spans:
        y = TOP + ROW * rows.index(span.row) + 6
        x1, x2 = scale.at(span.start), scale.at(span.end)
        tip = span.label or f"{span.row}: {x_format(span.start)} – {x_format(span.end)}"
        parts.append(
            f'<rect class="{classes("span", span.kind)}" data-row="{escape(span.row, quote=True)}" '
            f'data-start="{span.start!r}" data-end="{span.end!r}" x="{x1:.2f}" y="{y:.2f}" '
            f'width="{max(x2 - x1, 2):.2f}" height="{ROW - 12}" fill="#3056d3" '
            f'fill-opacity="0.7"><title>{escape(tip)}</title></rect>'
        )
    if not spans:
        parts.append(svg_text(WIDTH / 2, TOP + ROW / 2, "no version served yet", "empty", "middle"))
    parts.append("</svg>")
    return "".join(parts)
