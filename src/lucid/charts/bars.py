"""The grouped bar chart: per category one bar per group (a drift check's reference vs
current shares), from zero."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

from lucid.charts.legends import dashboard_legend
from lucid.charts.scales import (
    BOTTOM,
    HEIGHT,
    LEFT,
    PALETTE_SIZE,
    TOP,
    WIDTH,
    Scale,
    classes,
    format_number,
    id_attr,
    shortened,
    svg_text,
    tick_formatter,
    y_grid,
)


@dataclass(frozen=True, slots=True)
class Bar:
    """One category of a bar chart: its value per group (e.g. reference and current share),
    in the order of the chart's `groups`; `kind` becomes its CSS class (e.g. `moved`)."""

    label: str
    values: tuple[float, ...]
    kind: str = ""
    note: str = ""


def bar_chart(
    title: str,
    bars: Sequence[Bar],
    *,
    groups: Sequence[str],
    y_label: str = "",
    y_format: Callable[[float], str] | None = None,
    chart_id: str = "",
) -> str:
    """An SVG grouped bar chart from 0: per category one bar per group side by side (classed
    `g0`, `g1`… for the stylesheet), the category's label under them, round y ticks, and a
    legend naming each group. Every bar carries `data-label`, `data-group` and `data-value`."""
    legend_parts, legend_height = dashboard_legend(
        [
            (
                f'<rect class="{classes("bar", f"g{position % PALETTE_SIZE}")}" x="0" y="-6" '
                'width="24" height="12"/>',
                group,
            )
            for position, group in enumerate(groups)
        ]
    )
    height = HEIGHT + legend_height
    right = WIDTH - 24
    values = [v for bar in bars for v in bar.values]
    top = max(values, default=0.0)
    y_scale = Scale(0.0, top * 1.1 if top > 0 else 1.0, HEIGHT - BOTTOM, TOP)
    bottom = HEIGHT - BOTTOM
    ticks = y_scale.round_ticks(5)
    written = y_format or tick_formatter(ticks)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart bar-chart" '
        f'{id_attr(chart_id)}viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" '
        f'height="{height}" role="img" aria-label="{escape(title, quote=True)}">',
        f"<title>{escape(title)}</title>",
        '<g class="axis">',
        f'<line class="axis-line" x1="{LEFT}" y1="{bottom}" x2="{right}" y2="{bottom}"/>',
        f'<line class="axis-line" x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{bottom}"/>',
    ]
    parts.extend(y_grid(y_scale, ticks, written, right))
    slot = (right - LEFT) / max(1, len(bars))
    limit = max(6, int(slot / 6.4))
    for index, bar in enumerate(bars):
        centre = LEFT + slot * (index + 0.5)
        parts.append(
            f'<text class="{classes("tick", "x-tick", bar.kind)}" data-label='
            f'"{escape(bar.label, quote=True)}" x="{centre:.2f}" y="{bottom + 17}" '
            f'text-anchor="middle">{escape(shortened(bar.label, limit))}'
            f"<title>{escape(bar.note or bar.label)}</title></text>"
        )
    if y_label:
        parts.append(svg_text(8, 12, y_label, "axis-label"))
    parts.append("</g>")
    width = slot * 0.8 / max(1, len(groups))
    for index, bar in enumerate(bars):
        start = LEFT + slot * index + slot * 0.1
        parts.append(
            f'<g class="{classes("bar-group", bar.kind)}" data-label="'
            f'{escape(bar.label, quote=True)}">'
        )
        for position, (group, value) in enumerate(zip(groups, bar.values, strict=False)):
            y = y_scale.at(value)
            parts.append(
                f'<rect class="{classes("bar", f"g{position % PALETTE_SIZE}")}" data-group="'
                f'{escape(group, quote=True)}" data-value="{value!r}" '
                f'x="{start + width * position:.2f}" y="{y:.2f}" width="{width:.2f}" '
                f'height="{bottom - y:.2f}"><title>{escape(bar.label)} — {escape(group)}: '
                f"{format_number(value)}</title></rect>"
            )
        parts.append("</g>")
    if not bars:
        parts.append(svg_text((LEFT + right) / 2, HEIGHT / 2, "nothing to show", "empty", "middle"))
    parts.extend(legend_parts)
    parts.append("</svg>")
    return "".join(parts)
