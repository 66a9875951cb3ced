"""Charts as inline SVG, drawn on the server: no script, no library, nothing fetched.

Two shapes cover the dashboard: a line chart (series of points over x, horizontal reference
lines such as a target or a critical threshold, vertical markers such as a deployment) and an
interval chart (one estimate with its interval per row, around a zero line); the dashboard's
stylesheet colours them by class. A standalone chart (the scenario's report) draws series and
markers with their colours inline, for a page without that stylesheet. The numbers are placed
by `Scale`, a linear map from a value domain to pixels; every element of the dashboard's
charts carries its class and its value (`data-x`, `data-y`, `data-value`) so a reader — or a
test — can check it against the numbers it came from.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape

WIDTH, HEIGHT = 720, 280
LEFT, RIGHT, TOP, BOTTOM = 64, 150, 28, 40
"""Pixel margins around the plot area; the right one holds the reference-line labels."""


@dataclass(frozen=True, slots=True)
class Point:
    """One value at `x`; `kind` becomes its CSS class (e.g. a monitoring level)."""

    x: float
    y: float
    label: str = ""
    kind: str = ""


@dataclass(frozen=True, slots=True)
class Series:
    """Points joined by a line, in x order."""

    name: str
    points: tuple[Point, ...]
    kind: str = ""


@dataclass(frozen=True, slots=True)
class ReferenceLine:
    """A horizontal line at `y` (a baseline, a target, a warning threshold...)."""

    label: str
    y: float
    kind: str = ""


@dataclass(frozen=True, slots=True)
class Marker:
    """A vertical line at `x` (a deployment, a rollback...)."""

    label: str
    x: float
    kind: str = ""


@dataclass(frozen=True, slots=True)
class Interval:
    """An estimate with its interval [low, high], drawn as one row."""

    label: str
    estimate: float
    low: float
    high: float
    kind: str = ""


@dataclass(frozen=True, slots=True)
class Scale:
    """A linear map from the domain [low, high] to pixels [start, end] (end may be < start)."""

    low: float
    high: float
    start: float
    end: float

    def at(self, value: float) -> float:
        return self.start + (value - self.low) / (self.high - self.low) * (self.end - self.start)

    def ticks(self, count: int = 5) -> list[float]:
        step = (self.high - self.low) / (count - 1)
        return [self.low + i * step for i in range(count)]


def domain(values: Sequence[float], pad: float = 0.08) -> tuple[float, float]:
    """The range of `values` widened by `pad` of its span on both sides (never empty)."""
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return 0.0, 1.0
    low, high = min(finite), max(finite)
    if low == high:
        half = abs(low) * 0.1 or 1.0
        return low - half, high + half
    span = high - low
    return low - pad * span, high + pad * span


def format_number(value: float) -> str:
    return f"{value:.4g}"


def format_day(timestamp: float) -> str:
    """A POSIX timestamp (seconds) as its UTC day, for time axes."""
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")


def format_moment(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M")


def _css(*names: str) -> str:
    return escape(" ".join(name for name in names if name), quote=True)


def _id(chart_id: str) -> str:
    return f'id="{_css(chart_id)}" ' if chart_id else ""


def _text(x: float, y: float, body: str, kind: str, anchor: str = "start") -> str:
    return (
        f'<text class="{_css(kind)}" x="{x:.2f}" y="{y:.2f}" text-anchor="{anchor}">'
        f"{escape(body)}</text>"
    )


def line_chart(
    title: str,
    series: Sequence[Series],
    *,
    lines: Sequence[ReferenceLine] = (),
    markers: Sequence[Marker] = (),
    x_format: Callable[[float], str] = format_number,
    x_ticks: Sequence[float] = (),
    y_label: str = "",
    chart_id: str = "",
) -> str:
    """An SVG line chart: axes with ticks, each series as a polyline and its points, each
    reference line across the plot with its label, each marker from top to bottom. The x
    ticks are `x_ticks` when given (e.g. the start of each monitoring window), else four
    evenly spaced values.

    The y domain covers every point and every reference line; the x domain every point and
    marker. With no point the chart still draws its axes and lines, and says so.
    """
    xs = [p.x for s in series for p in s.points] + [m.x for m in markers]
    ys = [p.y for s in series for p in s.points] + [line.y for line in lines]
    x_scale = Scale(*domain(xs, pad=0.04), LEFT, WIDTH - RIGHT)
    y_scale = Scale(*domain(ys), HEIGHT - BOTTOM, TOP)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart line-chart" '
        f'{_id(chart_id)}viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" '
        f'height="{HEIGHT}" role="img" aria-label="{escape(title, quote=True)}">',
        f"<title>{escape(title)}</title>",
        *_axes(x_scale, y_scale, x_format, x_ticks, y_label),
    ]
    for line in lines:
        parts.extend(_reference_line(line, y_scale))
    for marker in markers:
        parts.extend(_marker(marker, x_scale))
    for one in series:
        parts.extend(_series(one, x_scale, y_scale, x_format, named=len(series) > 1))
    if not any(s.points for s in series):
        parts.append(
            _text((LEFT + WIDTH - RIGHT) / 2, HEIGHT / 2, "no data yet", "empty", "middle")
        )
    parts.append("</svg>")
    return "".join(parts)


def _reference_line(line: ReferenceLine, y_scale: Scale) -> list[str]:
    """A horizontal line across the plot, labelled with its value in the right margin."""
    y = y_scale.at(line.y)
    return [
        f'<line class="{_css("reference", line.kind)}" data-label="'
        f'{escape(line.label, quote=True)}" data-value="{line.y!r}" x1="{LEFT}" '
        f'y1="{y:.2f}" x2="{WIDTH - RIGHT}" y2="{y:.2f}"/>',
        _text(WIDTH - RIGHT + 6, y + 4, f"{line.label} {format_number(line.y)}", "reference-label"),
    ]


def _marker(marker: Marker, x_scale: Scale) -> list[str]:
    """A vertical line from the top of the plot to its bottom, labelled above."""
    x = x_scale.at(marker.x)
    return [
        f'<line class="{_css("marker", marker.kind)}" data-label="'
        f'{escape(marker.label, quote=True)}" data-x="{marker.x!r}" x1="{x:.2f}" '
        f'y1="{TOP}" x2="{x:.2f}" y2="{HEIGHT - BOTTOM}"/>',
        _text(x + 3, TOP - 3, marker.label, "marker-label"),
    ]


def _series(
    one: Series,
    x_scale: Scale,
    y_scale: Scale,
    x_format: Callable[[float], str],
    *,
    named: bool,
) -> list[str]:
    """A series' points joined in x order, each with its tooltip; `named`: its name written
    where its line ends (when several series share the chart)."""
    ordered = sorted(one.points, key=lambda p: p.x)
    coords = " ".join(f"{x_scale.at(p.x):.2f},{y_scale.at(p.y):.2f}" for p in ordered)
    parts = [f'<g class="{_css("series", one.kind)}" data-series="{escape(one.name)}">']
    if len(ordered) > 1:
        parts.append(f'<polyline class="series-line" points="{coords}"/>')
    for p in ordered:
        tip = p.label or f"{x_format(p.x)}: {format_number(p.y)}"
        parts.append(
            f'<circle class="{_css("point", p.kind)}" data-x="{p.x!r}" data-y="{p.y!r}" '
            f'cx="{x_scale.at(p.x):.2f}" cy="{y_scale.at(p.y):.2f}" r="4">'
            f"<title>{escape(tip)}</title></circle>"
        )
    if ordered and named:
        last = ordered[-1]
        parts.append(
            _text(x_scale.at(last.x) + 7, y_scale.at(last.y) - 7, one.name, "series-label")
        )
    parts.append("</g>")
    return parts


def _axes(
    x_scale: Scale,
    y_scale: Scale,
    x_format: Callable[[float], str],
    x_ticks: Sequence[float],
    y_label: str,
) -> list[str]:
    bottom, right = HEIGHT - BOTTOM, WIDTH - RIGHT
    parts = [
        '<g class="axis">',
        f'<line class="axis-line" x1="{LEFT}" y1="{bottom}" x2="{right}" y2="{bottom}"/>',
        f'<line class="axis-line" x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{bottom}"/>',
    ]
    for value in y_scale.ticks():
        y = y_scale.at(value)
        parts.append(f'<line class="grid" x1="{LEFT}" y1="{y:.2f}" x2="{right}" y2="{y:.2f}"/>')
        parts.append(_text(LEFT - 6, y + 4, format_number(value), "tick", "end"))
    for value in x_ticks or x_scale.ticks(4):
        x = x_scale.at(value)
        parts.append(_text(x, bottom + 16, x_format(value), "tick", "middle"))
    if y_label:
        parts.append(_text(LEFT, 11, y_label, "axis-label"))
    parts.append("</g>")
    return parts


ROW = 34
"""Pixels per row of an interval chart."""


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
        f'{_id(chart_id)}viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" '
        f'height="{height}" role="img" aria-label="{escape(title, quote=True)}">',
        f"<title>{escape(title)}</title>",
        '<g class="axis">',
        f'<line class="axis-line" x1="{left}" y1="{bottom}" x2="{WIDTH - 40}" y2="{bottom}"/>',
    ]
    for value in scale.ticks():
        parts.append(_text(scale.at(value), bottom + 16, format_number(value), "tick", "middle"))
    if x_label:
        parts.append(_text(WIDTH - 40, height - 6, x_label, "axis-label", "end"))
    parts.append("</g>")
    parts.append(
        f'<line class="reference zero" data-value="{zero!r}" x1="{zero_x:.2f}" y1="{TOP - 8}" '
        f'x2="{zero_x:.2f}" y2="{bottom}"/>'
    )
    for index, row in enumerate(rows):
        y = TOP + ROW * index + ROW / 2
        parts.append(
            f'<g class="{_css("interval-row", row.kind)}" data-label="'
            f'{escape(row.label, quote=True)}">'
        )
        parts.append(_text(left - 10, y + 4, row.label, "row-label", "end"))
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
        parts.append(_text(WIDTH / 2, TOP + ROW / 2, "no interval yet", "empty", "middle"))
    parts.append("</svg>")
    return "".join(parts)


@dataclass(frozen=True, slots=True)
class Ink:
    """How a standalone chart draws one kind of series or marker: its colour, dashed or not,
    and its stroke width in pixels (None: the SVG default)."""

    colour: str
    dashed: bool = False
    width: float | None = None

    def attributes(self) -> str:
        dash = ' stroke-dasharray="4 3"' if self.dashed else ""
        width = f' stroke-width="{self.width:g}"' if self.width is not None else ""
        return f'stroke="{escape(self.colour, quote=True)}"{dash}{width}'


def standalone_chart(
    caption: str,
    series: Sequence[Series],
    *,
    inks: Mapping[str, Ink],
    x_domain: tuple[float, float],
    y_domain: tuple[float, float],
    markers: Sequence[Marker] = (),
    y_labels: Sequence[tuple[float, str]] = (),
    size: tuple[int, int] = (760, 260),
    pad: int = 40,
    name_attribute: str = "data-series",
) -> str:
    """An SVG chart for a page with no stylesheet (the scenario's report): the caption above
    the plot, labels on the left at their y value, each marker as a vertical line with its
    label as tooltip, each series as a polyline in x order. Every colour is written inline,
    from `inks` by the series' or marker's kind; a named series carries its name in
    `name_attribute`. The domains are given: x from `x_domain`, y from `y_domain` upwards."""
    width, height = size
    x_scale = Scale(*x_domain, pad, width - pad)
    y_scale = Scale(*y_domain, height - pad, pad)
    parts = [
        f'<svg class="plot" width="{width}" height="{height}" role="img">',
        f'<text x="{pad}" y="16">{escape(caption)}</text>',
    ]
    for value, label in y_labels:
        parts.append(
            f'<text x="2" y="{y_scale.at(value) + 4:.1f}" font-size="10">{escape(label)}</text>'
        )
    for marker in markers:
        x = x_scale.at(marker.x)
        parts.append(
            f'<line x1="{x:.1f}" y1="{pad}" x2="{x:.1f}" y2="{height - pad}" '
            f"{inks[marker.kind].attributes()}><title>{escape(marker.label)}</title></line>"
        )
    for one in series:
        points = " ".join(
            f"{x_scale.at(p.x):.1f},{y_scale.at(p.y):.1f}"
            for p in sorted(one.points, key=lambda p: p.x)
        )
        named = f' {name_attribute}="{escape(one.name, quote=True)}"' if one.name else ""
        parts.append(
            f'<polyline class="series"{named} fill="none" {inks[one.kind].attributes()} '
            f'points="{points}"/>'
        )
    parts.append("</svg>")
    return "".join(parts)
