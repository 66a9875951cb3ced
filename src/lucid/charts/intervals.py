"""The interval chart: one estimate with its interval per row, around a zero line."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from lucid.charts.scales import (
    BOTTOM,
    ROW,
    TOP,
    WIDTH,
    Interval,
    Scale,
    classes,
    domain,
    format_number,
    id_attr,
    shortened,
    svg_text,
    tick_formatter,
)


def interval_chart(
    title: str,
    rows: Sequence[Interval],
    *,
    zero: float = 0.0,
    x_label: str = "",
    chart_id: str = "",
) -> str:
    """An SVG interval chart: per row a line from `low` to `high`, a dot at the estimate and
    the row's label on the left; a vertical line at `zero` (no effect)."""
    left = 200
    height = TOP + BOTTOM + ROW * max(1, len(rows))
    values = [zero] + [v for r in rows for v in (r.low, r.high, r.estimate)]
    scale = Scale(*domain(values), left, WIDTH - 40)
    bottom = height - BOTTOM
    zero_x = scale.at(zero)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart interval-chart" '
        f'{id_attr(chart_id)}viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" '
        f'height="{height}" role="img" aria-label="{escape(title, quote=True)}">',
        f"<title>{escape(title)}</title>",
        '<g class="axis">',
        f'<line class="axis-line" x1="{left}" y1="{bottom}" x2="{WIDTH - 40}" y2="{bottom}"/>',
    ]
    ticks = scale.round_ticks(5)
    written = tick_formatter(ticks)
    for value in ticks:
        parts.append(
            f'<text class="tick x-tick" data-x="{value!r}" x="{scale.at(value):.2f}" '
            f'y="{bottom + 16}" text-anchor="middle">{escape(written(value))}</text>'
        )
    if x_label:
        parts.append(svg_text(WIDTH - 40, height - 6, x_label, "axis-label", "end"))
    for index, row in enumerate(rows):
        y = TOP + ROW * index + ROW / 2
        parts.append(
            f'<text class="tick y-tick row-label" data-label="{escape(row.label, quote=True)}" '
            f'x="{left - 10}" y="{y + 4:.2f}" text-anchor="end">{escape(shortened(row.label))}'
            f"<title>{escape(row.label)}</title></text>"
        )
    parts.append("</g>")
    parts.append(
        f'<line class="reference zero" data-value="{zero!r}" x1="{zero_x:.2f}" y1="{TOP - 8}" '
        f'x2="{zero_x:.2f}" y2="{bottom}"/>'
    )
    for index, row in enumerate(rows):
        y = TOP + ROW * index + ROW / 2
        parts.append(
            f'<g class="{classes("interval-row", row.kind)}" data-label="'
            f'{escape(row.label, quote=True)}">'
        )
        parts.append(
            f'<line class="interval" data-low="{row.low!r}" data-high="{row.high!r}" '
            f'x1="{scale.at(row.low):.2f}" y1="{y:.2f}" x2="{scale.at(row.high):.2f}" '
            f'y2="{y:.2f}"/>'
        )
        parts.append(
            f'<circle class="estimate" data-value="{row.estimate!r}" '
            f'cx="{scale.at(row.estimate):.2f}" cy="{y:.2f}" r="5"><title>'
            f"{escape(row.label)}: {format_number(row.estimate)} [{format_number(row.low)}, "
            f"{format_number(row.high)}]</title></circle>"
        )
        parts.append("</g>")
    if not rows:
        parts.append(svg_text(WIDTH / 2, TOP + ROW / 2, "no interval yet", "empty", "middle"))
    parts.append("</svg>")
    return "".join(parts)
