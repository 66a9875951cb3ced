"""Charts as inline SVG, drawn on the server: no script, no library, nothing fetched.

Two shapes cover the dashboard: a line chart (series of points over x, horizontal reference
lines such as a target or a critical threshold, vertical markers such as a deployment) and an
interval chart (one estimate with its interval per row, around a zero line); the dashboard's
stylesheet colours them by class. A standalone chart (the scenario's report) writes every
colour, dash and shape inline, for a page without that stylesheet: both axes with their tick
labels, shaded bands, labelled markers, and a legend naming each ink it uses. The numbers are
placed by `Scale`, a linear map from a value domain to pixels; every drawn value carries its
class and its value (`data-x`, `data-y`, `data-value`) so a reader — or a test — can check it
against the numbers it came from.
"""

from __future__ import annotations

import math
import zlib
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
    """A vertical line at `x` (a deployment, a rollback...). In a standalone chart, `note` is
    its tooltip (default: the label) and a marker with `y` is a glyph at (x, y) instead."""

    label: str
    x: float
    kind: str = ""
    note: str = ""
    y: float | None = None


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

    def round_ticks(self, count: int = 5) -> list[float]:
        """About `count` values inside the domain at a round step (1, 2 or 5 times a power of
        ten), for axes a reader can read off."""
        span = self.high - self.low
        if not span > 0:
            return [self.low]
        intervals = max(count - 1, 1)
        power = 10 ** math.floor(math.log10(span / intervals))
        step = min(
            (m * power for m in (1, 2, 5, 10)), key=lambda step: abs(span / step - intervals)
        )
        first = math.ceil(self.low / step - 1e-9)
        last = math.floor(self.high / step + 1e-9)
        return [round(i * step, 12) for i in range(first, last + 1)]


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


DASHES = {"solid": "", "dashed": "7 4", "dotted": "2 3", "dashdot": "9 3 2 3"}
"""Dash patterns by name, so lines stay apart in print and for readers who do not see colour."""
SHAPES = ("circle", "square", "triangle", "triangle-down", "diamond", "none")


@dataclass(frozen=True, slots=True)
class Ink:
    """How a standalone chart draws one kind of series, marker or band, and names it in the
    legend: its colour, its dash pattern (a `DASHES` name), its stroke width in pixels (None:
    the SVG default), the shape drawn at each point (a `SHAPES` name), hollow or filled, and
    whether it has a line at all (a glyph-only kind: a detection on a curve)."""

    colour: str
    label: str = ""
    dash: str = "solid"
    width: float | None = None
    shape: str = "none"
    hollow: bool = False
    line: bool = True

    def __post_init__(self) -> None:
        if self.dash not in DASHES:
            raise ValueError(f"Ink.dash: must be one of {sorted(DASHES)}, got {self.dash!r}")
        if self.shape not in SHAPES:
            raise ValueError(f"Ink.shape: must be one of {list(SHAPES)}, got {self.shape!r}")

    def attributes(self) -> str:
        pattern = DASHES[self.dash]
        dash = f' stroke-dasharray="{pattern}"' if pattern else ""
        width = f' stroke-width="{self.width:g}"' if self.width is not None else ""
        return f'stroke="{escape(self.colour, quote=True)}"{dash}{width}'

    def glyph(
        self, x: float, y: float, attributes: str = "", body: str = "", r: float = 3.5
    ) -> str:
        """The ink's shape centred on (x, y), carrying `attributes` and `body` (a tooltip)."""
        fill = "#fff" if self.hollow else escape(self.colour, quote=True)
        paint = f'fill="{fill}" stroke="{escape(self.colour, quote=True)}" stroke-width="1.5"'
        if self.shape == "circle":
            element = f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r:g}"'
        elif self.shape == "square":
            element = f'<rect x="{x - r:.1f}" y="{y - r:.1f}" width="{2 * r:g}" height="{2 * r:g}"'
        else:
            corners = {
                "triangle": ((0, -1.3), (1.2, 0.9), (-1.2, 0.9)),
                "triangle-down": ((0, 1.3), (1.2, -0.9), (-1.2, -0.9)),
                "diamond": ((0, -1.3), (1.1, 0), (0, 1.3), (-1.1, 0)),
                "none": (),
            }[self.shape]
            if not corners:
                return ""
            points = " ".join(f"{x + dx * r:.1f},{y + dy * r:.1f}" for dx, dy in corners)
            element = f'<polygon points="{points}"'
        return f"{element} {paint}{attributes}>{body}</{element[1:].split()[0]}>"


@dataclass(frozen=True, slots=True)
class Band:
    """A shaded span of x from `start` to `end` (a season), labelled inside its top."""

    label: str
    start: float
    end: float
    kind: str = ""
    note: str = ""


@dataclass(frozen=True, slots=True)
class Frame:
    """A standalone chart's axes: the x and y domains, how their tick values are written,
    the x ticks (None: round values), the y ticks with their labels (empty: round values
    written by `y_format`) and the y axis' label (its unit)."""

    x_domain: tuple[float, float]
    y_domain: tuple[float, float]
    x_format: Callable[[float], str] = format_number
    y_format: Callable[[float], str] = format_number
    x_ticks: Sequence[float] | None = None
    y_ticks: Sequence[tuple[float, str]] = ()
    y_label: str = ""
    x_label: str = ""


S_LEFT, S_RIGHT, S_TOP, S_BOTTOM = 76, 24, 72, 44
"""A standalone chart's margins: tick labels left, marker labels above, dates below."""
LEGEND_ROW = 18
GLYPH_GAP = 9
"""Pixels between two shapes drawn on one series (denser points are left unpainted)."""


def standalone_chart(
    caption: str,
    series: Sequence[Series],
    *,
    inks: Mapping[str, Ink],
    frame: Frame,
    markers: Sequence[Marker] = (),
    bands: Sequence[Band] = (),
    size: tuple[int, int] = (900, 340),
    name_attribute: str = "data-series",
) -> str:
    """An SVG chart for a page with no stylesheet (the scenario's report): the caption above,
    both axes with ticks and tick labels (`frame`), each band shaded with its label, each
    marker as a vertical line labelled above the plot (or, with a `y`, as a glyph there), each
    series as a polyline in x order with its ink's shape at every point, and below the plot a
    legend naming every ink the chart uses — its colour, dash and shape. Every colour is
    written inline, from `inks` by kind; a named series carries its name in `name_attribute`;
    every point and glyph carries `data-x`/`data-y`, every marker `data-x`, every band
    `data-start`/`data-end`. Values outside the domains are clipped to the plot."""
    width, plot_height = size
    right, bottom = width - S_RIGHT, plot_height - S_BOTTOM
    x_scale = Scale(*frame.x_domain, S_LEFT, right)
    y_scale = Scale(*frame.y_domain, bottom, S_TOP)
    used = [k for k in inks if k in {s.kind for s in series} | _kinds(markers, bands)]
    shaded = {b.kind for b in bands}
    legend, legend_height = _legend([(k, inks[k], k in shaded) for k in used], width)
    clip_id = f"plot-{zlib.crc32(caption.encode()):08x}"
    height = plot_height + legend_height
    parts = [
        f'<svg class="plot" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(caption, quote=True)}" font-family="sans-serif" font-size="11">',
        f"<title>{escape(caption)}</title>",
        f'<text x="{S_LEFT}" y="16" font-size="13" font-weight="bold">{escape(caption)}</text>',
        f'<clipPath id="{clip_id}"><rect x="{S_LEFT}" y="{S_TOP - 6}" '
        f'width="{right - S_LEFT}" height="{bottom - S_TOP + 12}"/></clipPath>',
    ]
    clip = f'clip-path="url(#{clip_id})"'
    for band in bands:
        parts.extend(_band(band, inks[band.kind], x_scale, bottom))
    parts.extend(_frame_axes(frame, x_scale, y_scale, right, bottom))
    parts.extend(_marker_lines(markers, inks, x_scale, bottom))
    for one in series:
        parts.extend(
            _standalone_series(one, inks[one.kind], x_scale, y_scale, clip, name_attribute)
        )
    for marker in markers:
        if marker.y is not None:
            note = escape(marker.note or marker.label)
            parts.append(
                inks[marker.kind].glyph(
                    x_scale.at(marker.x),
                    y_scale.at(marker.y),
                    f' class="glyph" data-kind="{_css(marker.kind)}" data-x="{marker.x!r}" '
                    f'data-y="{marker.y!r}"',
                    f"<title>{note}</title>",
                    r=5,
                )
            )
    parts.append(f'<g class="legend" transform="translate(0 {plot_height})">{legend}</g>')
    parts.append("</svg>")
    return "".join(parts)


def _kinds(markers: Sequence[Marker], bands: Sequence[Band]) -> set[str]:
    return {m.kind for m in markers} | {b.kind for b in bands}


def _band(band: Band, ink: Ink, x_scale: Scale, bottom: float) -> list[str]:
    """The band's span shaded over the plot's height, cut to the x domain, its label inside."""
    start = x_scale.at(max(band.start, x_scale.low))
    end = x_scale.at(min(band.end, x_scale.high))
    if end <= start:
        return []
    colour = escape(ink.colour, quote=True)
    return [
        f'<rect class="band" data-kind="{_css(band.kind)}" data-start="{band.start!r}" '
        f'data-end="{band.end!r}" x="{start:.1f}" y="{S_TOP}" width="{max(end - start, 1):.1f}" '
        f'height="{bottom - S_TOP}" fill="{colour}" fill-opacity="0.18">'
        f"<title>{escape(band.note or band.label)}</title></rect>",
        f'<text class="band-label" x="{start + 4:.1f}" y="{S_TOP + 13}" fill="#555">'
        f"{escape(band.label)}</text>",
    ]


def _frame_axes(
    frame: Frame, x_scale: Scale, y_scale: Scale, right: float, bottom: float
) -> list[str]:
    """Both axes: a grid line and a label at every y tick, a tick mark and a label at every
    x tick, the y axis' label above it and the x axis' label under its right end."""
    parts = [
        '<g class="axis">',
        f'<line x1="{S_LEFT}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="#333"/>',
        f'<line x1="{S_LEFT}" y1="{S_TOP}" x2="{S_LEFT}" y2="{bottom}" stroke="#333"/>',
    ]
    y_ticks = frame.y_ticks or [(v, frame.y_format(v)) for v in y_scale.round_ticks(6)]
    for value, label in y_ticks:
        y = y_scale.at(value)
        parts.append(
            f'<line class="grid" x1="{S_LEFT}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" '
            f'stroke="#e4e4e4"/><line x1="{S_LEFT - 4}" y1="{y:.1f}" x2="{S_LEFT}" '
            f'y2="{y:.1f}" stroke="#333"/>'
            f'<text class="tick y-tick" data-y="{value!r}" x="{S_LEFT - 7}" y="{y + 4:.1f}" '
            f'text-anchor="end">{escape(label)}</text>'
        )
    x_ticks = frame.x_ticks if frame.x_ticks is not None else x_scale.round_ticks(7)
    for value in x_ticks:
        x = x_scale.at(value)
        parts.append(
            f'<line x1="{x:.1f}" y1="{bottom}" x2="{x:.1f}" y2="{bottom + 4}" stroke="#333"/>'
            f'<text class="tick x-tick" data-x="{value!r}" x="{x:.1f}" y="{bottom + 17}" '
            f'text-anchor="middle">{escape(frame.x_format(value))}</text>'
        )
    if frame.y_label:
        parts.append(
            f'<text class="axis-label" x="{S_LEFT}" y="{S_TOP - 38}" fill="#333">'
            f"{escape(frame.y_label)}</text>"
        )
    if frame.x_label:
        parts.append(
            f'<text class="axis-label" x="{right}" y="{bottom + 35}" text-anchor="end" '
            f'fill="#333">{escape(frame.x_label)}</text>'
        )
    parts.append("</g>")
    return parts


def _marker_lines(
    markers: Sequence[Marker], inks: Mapping[str, Ink], x_scale: Scale, bottom: float
) -> list[str]:
    """Each marker without `y` as a vertical line over the plot with its label above it; a
    label that would run into the previous one is written a row higher."""
    parts: list[str] = []
    ends = [-math.inf, -math.inf]
    for marker in sorted((m for m in markers if m.y is None), key=lambda m: m.x):
        x = x_scale.at(marker.x)
        ink = inks[marker.kind]
        parts.append(
            f'<line class="marker" data-kind="{_css(marker.kind)}" data-x="{marker.x!r}" '
            f'x1="{x:.1f}" y1="{S_TOP}" x2="{x:.1f}" y2="{bottom}" {ink.attributes()}>'
            f"<title>{escape(marker.note or marker.label)}</title></line>"
        )
        if not marker.label:
            continue
        row = 0 if ends[0] < x - 2 else 1 if ends[1] < x - 2 else 0
        ends[row] = x + 6.2 * len(marker.label)
        parts.append(
            f'<text class="marker-label" x="{x:.1f}" y="{S_TOP - 4 - 14 * row}" '
            f'fill="{escape(ink.colour, quote=True)}">{escape(marker.label)}</text>'
        )
    return parts


def _standalone_series(
    one: Series, ink: Ink, x_scale: Scale, y_scale: Scale, clip: str, name_attribute: str
) -> list[str]:
    """A series' polyline in x order and its points: the ink's shape at every point at least
    `GLYPH_GAP` pixels from the last one drawn, elsewhere (and for an ink with no shape) an
    unpainted circle — every point keeps its `data-x`, `data-y` and tooltip."""
    ordered = sorted(one.points, key=lambda p: p.x)
    named = f' {name_attribute}="{escape(one.name, quote=True)}"' if one.name else ""
    coords = " ".join(f"{x_scale.at(p.x):.1f},{y_scale.at(p.y):.1f}" for p in ordered)
    parts = [f'<g class="series"{named} {clip}>']
    if ink.line and len(ordered) > 1:
        parts.append(f'<polyline fill="none" {ink.attributes()} points="{coords}"/>')
    last = -math.inf
    for p in ordered:
        x, y = x_scale.at(p.x), y_scale.at(p.y)
        tip = f"<title>{escape(p.label or f'{one.name}: {format_number(p.y)}')}</title>"
        data = f' class="point" data-x="{p.x!r}" data-y="{p.y!r}"'
        glyph = ink.glyph(x, y, data, tip) if x - last >= GLYPH_GAP else ""
        if glyph:
            last = x
        parts.append(
            glyph
            or f'<circle{data} cx="{x:.1f}" cy="{y:.1f}" r="4" fill="transparent">{tip}</circle>'
        )
    parts.append("</g>")
    return parts


def _legend(entries: Sequence[tuple[str, Ink, bool]], width: int) -> tuple[str, int]:
    """A legend entry per ink — a sample of its line (colour, dash) and shape, or a shaded
    swatch for a band's, and its label — laid out left to right in rows; returns the SVG and
    its height."""
    parts: list[str] = []
    x, row = S_LEFT, 0
    for kind, ink, shaded in entries:
        label = ink.label or kind
        span = 40 + 6.4 * len(label) + 18
        if x + span > width - S_RIGHT and x > S_LEFT:
            x, row = S_LEFT, row + 1
        y = 6 + LEGEND_ROW * row
        if shaded:
            sample = (
                f'<rect x="{x}" y="{y - 6}" width="30" height="12" fill="'
                f'{escape(ink.colour, quote=True)}" fill-opacity="0.18"/>'
            )
        elif ink.line:
            sample = f'<line x1="{x}" y1="{y}" x2="{x + 30}" y2="{y}" {ink.attributes()}/>'
        else:
            sample = ""
        parts.append(
            f'<g class="legend-entry" data-kind="{_css(kind)}">{sample}'
            f"{'' if shaded else ink.glyph(x + 15, y)}"
            f'<text x="{x + 38}" y="{y + 4}">{escape(label)}</text></g>'
        )
        x += int(span)
    return "".join(parts), (LEGEND_ROW * (row + 1) + 8 if entries else 0)
