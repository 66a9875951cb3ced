"""Legends under a chart: entries laid out left to right, a new row when one would pass the edge."""

from __future__ import annotations

from collections.abc import Sequence

from lucid.charts.scales import HEIGHT, LEFT, LEGEND_ROW_HEIGHT, WIDTH, svg_text


def legend_places(widths: Sequence[float], left: float, right: float) -> list[tuple[float, int]]:
    """The (x, row) of each entry `widths` (pixels) long: from `left` on, the next row once an
    entry would pass `right` (a row's first entry stays, however long)."""
    places: list[tuple[float, int]] = []
    x, row = left, 0
    for width in widths:
        if x + width > right and x > left:
            x, row = left, row + 1
        places.append((x, row))
        x += width
    return places


def dashboard_legend(entries: Sequence[tuple[str, str]]) -> tuple[list[str], int]:
    """The legend of a dashboard chart, under `HEIGHT`: each (sample SVG drawn at the origin,
    label) with its label right of the sample; and the pixels it adds to the chart's height
    (0 without an entry)."""
    if not entries:
        return [], 0
    places = legend_places([50 + 6.2 * len(label) for _, label in entries], LEFT, WIDTH - 8)
    parts = ['<g class="legend">']
    for (sample, label), (x, row) in zip(entries, places, strict=True):
        y = HEIGHT + 4 + LEGEND_ROW_HEIGHT * row
        parts.append(
            f'<g class="legend-entry" transform="translate({x:.1f} {y:.1f})">{sample}'
            f"{svg_text(30, 4, label, 'legend-label')}</g>"
        )
    parts.append("</g>")
    return parts, LEGEND_ROW_HEIGHT * (places[-1][1] + 1) + 6
