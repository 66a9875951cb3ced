"""Charts as inline SVG, drawn on the server: no script, no library, nothing fetched.

Three shapes cover the dashboard: a line chart (series of points over x, horizontal reference
lines or segments such as a version's target or a critical threshold, vertical markers such
as a deployment, and a legend), an interval chart (one estimate with its interval per row,
around a zero line) and a grouped bar chart (a drift check's reference vs current shares);
the dashboard's stylesheet colours them by class. Ticks fall on round values (1, 2 or 5
times a power of ten; midnights on a time axis). A standalone chart (the scenario's report)
writes every colour, dash and shape inline, for a page without that stylesheet: both axes
with their tick labels, shaded bands, labelled markers, and a legend naming each ink it
uses. The numbers are
placed by `Scale`, a linear map from a value domain to pixels; every drawn value carries its
class and its value (`data-x`, `data-y`, `data-value`) so a reader — or a test — can check it
against the numbers it came from.
"""

from __future__ import annotations

import itertools
import math
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape

WIDTH, HEIGHT = 720, 290
LEFT, RIGHT, TOP, BOTTOM = 64, 150, 44, 40
"""Pixel margins around the plot area: the y axis' label and the marker labels above it, the
reference-line labels right of it, the dates below it; the legend goes under `HEIGHT`."""


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
    """A horizontal line at `y` (a baseline, a target, a warning threshold...), across the
    plot or, with `start`/`end`, over that span of x only (one version's contract)."""

    label: str
    y: float
    kind: str = ""
    start: float | None = None
    end: float | None = None


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


def _short(label: str, limit: int = 28) -> str:
    """`label` cut to `limit` characters (an ellipsis ends a cut one)."""
    return label if len(label) <= limit else label[: limit - 1] + "…"


def _text(x: float, y: float, body: str, kind: str, anchor: str = "start") -> str:
    return (
        f'<text class="{_css(kind)}" x="{x:.2f}" y="{y:.2f}" text-anchor="{anchor}">'
        f"{escape(body)}</text>"
    )


DAY = 86400.0
DAY_STEPS = (1, 2, 7, 14, 28, 56, 91, 182, 364)
"""Steps, in days, between the dated ticks of a time axis."""
LABEL_GAP = 13.0
"""Pixels between two stacked labels (reference-line labels in the right margin)."""
LEGEND_ROW_HEIGHT = 18
PALETTE_SIZE = 6
"""Series are classed `s0`..`s5` in order, for the stylesheet to colour them apart."""


def bounded(
    span: tuple[float, float], bounds: tuple[float | None, float | None]
) -> tuple[float, float]:
    """`span` cut to `bounds` (None: unbounded on that side), never empty."""
    low, high = span
    floor, ceiling = bounds
    if floor is not None:
        low = max(low, floor)
    if ceiling is not None:
        high = min(high, ceiling)
    if not high > low:
        return span
    return low, high


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """About `count` values in [low, high] at a 1-2-5 step (see `Scale.round_ticks`)."""
    return Scale(low, high, 0.0, 1.0).round_ticks(count)


def tick_formatter(ticks: Sequence[float]) -> Callable[[float], str]:
    """Writes each tick with as many decimals as the step between ticks needs (0.95, 0.96 —
    never 0.9953), in plain notation."""
    if len(ticks) < 2:
        return format_number
    step = min(abs(b - a) for a, b in itertools.pairwise(ticks) if b != a)
    decimals = max(0, -math.floor(math.log10(step) + 1e-9))
    if decimals > 8 or max(abs(t) for t in ticks) >= 1e7:
        return format_number
    return lambda value: f"{value:.{decimals}f}" if value != 0 else "0"


def day_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Midnights (UTC) in [low, high] (POSIX seconds), at most `count`, a round number of
    days apart (1, 2, 7, 14, 28… days); within one day, the day's midnight or none."""
    span_days = (high - low) / DAY
    step = next((d for d in DAY_STEPS if span_days / d <= count - 1), None)
    if step is None:
        step = math.ceil(span_days / (count - 1) / 364) * 364
    first = math.ceil(low / DAY - 1e-9)
    last = math.floor(high / DAY + 1e-9)
    days = range(first, last + 1)
    anchored = (
        [d for d in days if (d - first) % step == 0]
        if step < 7
        else [
            d
            for d in days
            if (d - 4) % step == 0  # 1970-01-05 was a Monday: weeks start Mondays
        ]
    )
    return [d * DAY for d in anchored]


def stack(wanted: Sequence[float], low: float, high: float, gap: float = LABEL_GAP) -> list[float]:
    """Positions as near `wanted` as they can be, at least `gap` apart and inside
    [low, high], in the order given (labels nudged apart so none overlaps another)."""
    order = sorted(range(len(wanted)), key=lambda i: wanted[i])
    placed = [0.0] * len(wanted)
    previous = -math.inf
    for i in order:
        placed[i] = max(wanted[i], previous + gap, low)
        previous = placed[i]
    overflow = previous - high
    if overflow > 0 and order:
        following = math.inf
        for i in reversed(order):
            placed[i] = min(placed[i], following - gap, high)
            following = placed[i]
    return placed


def line_chart(
    title: str,
    series: Sequence[Series],
    *,
    lines: Sequence[ReferenceLine] = (),
    markers: Sequence[Marker] = (),
    x_format: Callable[[float], str] = format_number,
    x_ticks: Sequence[float] = (),
    x_time: bool = False,
    y_label: str = "",
    y_bounds: tuple[float | None, float | None] = (None, None),
    legend: Mapping[str, str] | None = None,
    chart_id: str = "",
) -> str:
    """An SVG line chart: axes with round ticks, each series as a polyline and its points,
    each reference line (or segment) with its label in the right margin, each marker from top
    to bottom, and below the plot a legend naming each series, line kind, marker kind and
    point kind it draws (`legend` renames a kind). With `x_time` the x values are POSIX
    seconds, ticked at midnights and written as days; else the x ticks are `x_ticks` when
    given, else round values.

    The y domain covers every point and every reference line, padded but not past
    `y_bounds` (unless a value is), and never below 0 when no value is (a PSI, a rate, a
    share); the x domain covers every point and marker. With no point the chart still draws
    its axes and lines, and says so.
    """
    xs = [p.x for s in series for p in s.points] + [m.x for m in markers]
    ys = [p.y for s in series for p in s.points] + [line.y for line in lines]
    floor, ceiling = y_bounds
    if floor is None and ys and min(ys) >= 0:
        floor = 0.0
    if ys:  # the bounds cut the padding, never a value
        floor = None if floor is None else min(floor, min(ys))
        ceiling = None if ceiling is None else max(ceiling, max(ys))
    entries = _legend_entries(series, lines, markers, legend or {})
    rows = _legend_rows(entries)
    height = HEIGHT + (LEGEND_ROW_HEIGHT * len(rows) + 6 if rows else 0)
    x_span = domain(xs, pad=0.04)
    if x_time and xs and min(xs) == max(xs):
        x_span = (xs[0] - DAY, xs[0] + DAY)  # one moment: the days around it
    x_scale = Scale(*x_span, LEFT, WIDTH - RIGHT)
    y_scale = Scale(*bounded(domain(ys), (floor, ceiling)), HEIGHT - BOTTOM, TOP)
    if x_time:
        x_ticks = day_ticks(x_scale.low, x_scale.high) or [x_scale.low]
        x_format = format_day
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart line-chart" '
        f'{_id(chart_id)}viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" '
        f'height="{height}" role="img" aria-label="{escape(title, quote=True)}">',
        f"<title>{escape(title)}</title>",
        *_axes(x_scale, y_scale, x_format, x_ticks, y_label),
    ]
    parts.extend(_reference_lines(lines, x_scale, y_scale))
    parts.extend(_markers(markers, x_scale))
    taken: list[tuple[float, float]] = []
    for index, one in enumerate(series):
        parts.extend(
            _series(one, index, x_scale, y_scale, x_format, taken if len(series) > 1 else None)
        )
    if not any(s.points for s in series):
        parts.append(
            _text((LEFT + WIDTH - RIGHT) / 2, HEIGHT / 2, "no data yet", "empty", "middle")
        )
    parts.extend(_legend_svg(rows))
    parts.append("</svg>")
    return "".join(parts)


def _kind_name(key: str, kind: str, names: Mapping[str, str]) -> str:
    """The legend's name of a kind: `names[key]`, else `names[kind]`, else the kind itself."""
    return names.get(key, names.get(kind, kind.replace("_", " ")))


def _legend_entries(
    series: Sequence[Series],
    lines: Sequence[ReferenceLine],
    markers: Sequence[Marker],
    names: Mapping[str, str],
) -> list[tuple[str, str]]:
    """(sample SVG at the origin, label) for each series, then each kind of reference line,
    marker and point, in the order first drawn; `names` renames a kind, looked up as
    `line:KIND`, `marker:KIND` or `point:KIND` first, then as `KIND`."""
    entries = [
        (
            f'<line class="{_css("sample-series", f"s{index % PALETTE_SIZE}")}" '
            'x1="0" y1="0" x2="24" y2="0"/>',
            one.name,
        )
        for index, one in enumerate(series)
    ]
    samples = {
        "line": '<line class="{}" x1="0" y1="0" x2="24" y2="0"/>',
        "marker": '<line class="{}" x1="12" y1="-7" x2="12" y2="7"/>',
        "point": '<circle class="{}" cx="12" cy="0" r="4"/>',
    }
    kinds = [
        *(("line", line.kind or line.label) for line in lines),
        *(("marker", marker.kind or marker.label) for marker in markers),
        *(("point", p.kind) for one in series for p in one.points if p.kind),
    ]
    seen: set[str] = set()
    for group, kind in kinds:
        key = f"{group}:{kind}"
        if key in seen:
            continue
        seen.add(key)
        css = _css("sample-reference" if group == "line" else f"sample-{group}", kind)
        entries.append((samples[group].format(css), _kind_name(key, kind, names)))
    return entries


def _legend_rows(entries: Sequence[tuple[str, str]]) -> list[list[tuple[float, str, str]]]:
    """The entries laid out left to right, a new row when one would pass the right edge."""
    rows: list[list[tuple[float, str, str]]] = []
    x = float(WIDTH)
    for sample, label in entries:
        span = 34 + 6.2 * len(label) + 16
        if x + span > WIDTH - 8 or not rows:
            rows.append([])
            x = float(LEFT)
        rows[-1].append((x, sample, label))
        x += span
    return rows


def _legend_svg(rows: Sequence[Sequence[tuple[float, str, str]]]) -> list[str]:
    if not rows:
        return []
    parts = ['<g class="legend">']
    for index, row in enumerate(rows):
        y = HEIGHT + 4 + LEGEND_ROW_HEIGHT * index
        for x, sample, label in row:
            parts.append(
                f'<g class="legend-entry" transform="translate({x:.1f} {y:.1f})">{sample}'
                f"{_text(30, 4, label, 'legend-label')}</g>"
            )
    parts.append("</g>")
    return parts


def _reference_lines(lines: Sequence[ReferenceLine], x_scale: Scale, y_scale: Scale) -> list[str]:
    """Each line across the plot (or its segment), and the label with its value of each one
    that reaches the plot's right edge in the right margin (a segment ending before it keeps
    its label as its tooltip); labels that would overlap are stacked apart, identical ones
    written once."""
    parts: list[str] = []
    labels: dict[str, float] = {}
    for line in lines:
        y = y_scale.at(line.y)
        x1 = LEFT if line.start is None else max(LEFT, x_scale.at(line.start))
        x2 = WIDTH - RIGHT if line.end is None else min(WIDTH - RIGHT, x_scale.at(line.end))
        if x2 < x1:
            continue
        span = (
            ""
            if line.start is None and line.end is None
            else (f' data-start="{line.start!r}" data-end="{line.end!r}"')
        )
        parts.append(
            f'<line class="{_css("reference", line.kind)}" data-label="'
            f'{escape(line.label, quote=True)}" data-value="{line.y!r}"{span} x1="{x1:.2f}" '
            f'y1="{y:.2f}" x2="{x2:.2f}" y2="{y:.2f}">'
            f"<title>{escape(line.label)} {format_number(line.y)}</title></line>"
        )
        if line.end is None:
            labels.setdefault(f"{line.label} {format_number(line.y)}", y + 4)
    placed = stack(list(labels.values()), TOP, HEIGHT - BOTTOM + 4)
    for text, y in zip(labels, placed, strict=True):
        parts.append(_text(WIDTH - RIGHT + 6, y, text, "reference-label"))
    return parts


def _markers(markers: Sequence[Marker], x_scale: Scale) -> list[str]:
    """Each marker as a vertical line over the plot with its label above it; a label that
    would run into the previous one goes a row higher, and one that fits in neither row is
    left to the line's tooltip."""
    parts: list[str] = []
    ends = [-math.inf, -math.inf]
    for marker in sorted(markers, key=lambda m: m.x):
        x = x_scale.at(marker.x)
        note = marker.note or marker.label
        parts.append(
            f'<line class="{_css("marker", marker.kind)}" data-label="'
            f'{escape(marker.label, quote=True)}" data-x="{marker.x!r}" x1="{x:.2f}" '
            f'y1="{TOP}" x2="{x:.2f}" y2="{HEIGHT - BOTTOM}"><title>{escape(note)}</title></line>'
        )
        free = [row for row in (0, 1) if ends[row] < x - 2]
        if not marker.label or not free or x + 6.2 * len(marker.label) > WIDTH:
            continue
        ends[free[0]] = x + 3 + 6.2 * len(marker.label)
        parts.append(_text(x + 3, TOP - 4 - 13 * free[0], marker.label, "marker-label"))
    return parts


def _series(
    one: Series,
    index: int,
    x_scale: Scale,
    y_scale: Scale,
    x_format: Callable[[float], str],
    taken: list[tuple[float, float]] | None,
) -> list[str]:
    """A series' points joined in x order, each with its tooltip; with `taken` (several
    series share the chart), its name written where its line ends unless that would overlap a
    name already written there (`taken` holds their positions)."""
    ordered = sorted(one.points, key=lambda p: p.x)
    coords = " ".join(f"{x_scale.at(p.x):.2f},{y_scale.at(p.y):.2f}" for p in ordered)
    palette = f"s{index % PALETTE_SIZE}"
    parts = [f'<g class="{_css("series", one.kind, palette)}" data-series="{escape(one.name)}">']
    if len(ordered) > 1:
        parts.append(f'<polyline class="series-line" points="{coords}"/>')
    for p in ordered:
        tip = p.label or f"{x_format(p.x)}: {format_number(p.y)}"
        parts.append(
            f'<circle class="{_css("point", p.kind)}" data-x="{p.x!r}" data-y="{p.y!r}" '
            f'cx="{x_scale.at(p.x):.2f}" cy="{y_scale.at(p.y):.2f}" r="4">'
            f"<title>{escape(tip)}</title></circle>"
        )
    if ordered and taken is not None:
        x, y = x_scale.at(ordered[-1].x) + 7, y_scale.at(ordered[-1].y) - 7
        width = 7.0 * len(one.name)
        if all(abs(y - ty) >= LABEL_GAP or x >= tx + width or tx >= x + width for tx, ty in taken):
            taken.append((x, y))
            parts.append(_text(x, y, one.name, "series-label"))
    parts.append("</g>")
    return parts


def _axes(
    x_scale: Scale,
    y_scale: Scale,
    x_format: Callable[[float], str],
    x_ticks: Sequence[float],
    y_label: str,
) -> list[str]:
    """Both axes: a grid line and a label at each round y tick, a label at each x tick (round
    values unless given), the y axis' label above it."""
    bottom, right = HEIGHT - BOTTOM, WIDTH - RIGHT
    parts = [
        '<g class="axis">',
        f'<line class="axis-line" x1="{LEFT}" y1="{bottom}" x2="{right}" y2="{bottom}"/>',
        f'<line class="axis-line" x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{bottom}"/>',
    ]
    y_ticks = y_scale.round_ticks(5)
    y_format = tick_formatter(y_ticks)
    for value in y_ticks:
        y = y_scale.at(value)
        parts.append(f'<line class="grid" x1="{LEFT}" y1="{y:.2f}" x2="{right}" y2="{y:.2f}"/>')
        parts.append(
            f'<text class="tick y-tick" data-y="{value!r}" x="{LEFT - 6}" y="{y + 4:.2f}" '
            f'text-anchor="end">{escape(y_format(value))}</text>'
        )
    if x_ticks:
        x_labels = [(value, x_format(value)) for value in x_ticks]
    else:
        chosen = x_scale.round_ticks(5)
        x_labels = [(value, tick_formatter(chosen)(value)) for value in chosen]
        if x_format is not format_number:
            x_labels = [(value, x_format(value)) for value in chosen]
    for value, label in x_labels:
        x = x_scale.at(value)
        parts.append(
            f'<line class="axis-line" x1="{x:.2f}" y1="{bottom}" x2="{x:.2f}" '
            f'y2="{bottom + 4}"/><text class="tick x-tick" data-x="{value!r}" x="{x:.2f}" '
            f'y="{bottom + 17}" text-anchor="middle">{escape(label)}</text>'
        )
    if y_label:
        parts.append(_text(8, 12, y_label, "axis-label"))
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
    ticks = scale.round_ticks(5)
    written = tick_formatter(ticks)
    for value in ticks:
        parts.append(
            f'<text class="tick x-tick" data-x="{value!r}" x="{scale.at(value):.2f}" '
            f'y="{bottom + 16}" text-anchor="middle">{escape(written(value))}</text>'
        )
    if x_label:
        parts.append(_text(WIDTH - 40, height - 6, x_label, "axis-label", "end"))
    for index, row in enumerate(rows):
        y = TOP + ROW * index + ROW / 2
        parts.append(
            f'<text class="tick y-tick row-label" data-label="{escape(row.label, quote=True)}" '
            f'x="{left - 10}" y="{y + 4:.2f}" text-anchor="end">{escape(_short(row.label))}'
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
            f'<g class="{_css("interval-row", row.kind)}" data-label="'
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
        parts.append(_text(WIDTH / 2, TOP + ROW / 2, "no interval yet", "empty", "middle"))
    parts.append("</svg>")
    return "".join(parts)


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
    height = HEIGHT + LEGEND_ROW_HEIGHT + 6
    right = WIDTH - 24
    values = [v for bar in bars for v in bar.values]
    top = max(values, default=0.0)
    y_scale = Scale(0.0, top * 1.1 if top > 0 else 1.0, HEIGHT - BOTTOM, TOP)
    bottom = HEIGHT - BOTTOM
    ticks = y_scale.round_ticks(5)
    written = y_format or tick_formatter(ticks)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart bar-chart" '
        f'{_id(chart_id)}viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" '
        f'height="{height}" role="img" aria-label="{escape(title, quote=True)}">',
        f"<title>{escape(title)}</title>",
        '<g class="axis">',
        f'<line class="axis-line" x1="{LEFT}" y1="{bottom}" x2="{right}" y2="{bottom}"/>',
        f'<line class="axis-line" x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{bottom}"/>',
    ]
    for value in ticks:
        y = y_scale.at(value)
        parts.append(
            f'<line class="grid" x1="{LEFT}" y1="{y:.2f}" x2="{right}" y2="{y:.2f}"/>'
            f'<text class="tick y-tick" data-y="{value!r}" x="{LEFT - 6}" y="{y + 4:.2f}" '
            f'text-anchor="end">{escape(written(value))}</text>'
        )
    slot = (right - LEFT) / max(1, len(bars))
    limit = max(6, int(slot / 6.4))
    for index, bar in enumerate(bars):
        centre = LEFT + slot * (index + 0.5)
        parts.append(
            f'<text class="{_css("tick", "x-tick", bar.kind)}" data-label='
            f'"{escape(bar.label, quote=True)}" x="{centre:.2f}" y="{bottom + 17}" '
            f'text-anchor="middle">{escape(_short(bar.label, limit))}'
            f"<title>{escape(bar.note or bar.label)}</title></text>"
        )
    if y_label:
        parts.append(_text(8, 12, y_label, "axis-label"))
    parts.append("</g>")
    width = slot * 0.8 / max(1, len(groups))
    for index, bar in enumerate(bars):
        start = LEFT + slot * index + slot * 0.1
        parts.append(
            f'<g class="{_css("bar-group", bar.kind)}" data-label="'
            f'{escape(bar.label, quote=True)}">'
        )
        for position, (group, value) in enumerate(zip(groups, bar.values, strict=False)):
            y = y_scale.at(value)
            parts.append(
                f'<rect class="{_css("bar", f"g{position % PALETTE_SIZE}")}" data-group="'
                f'{escape(group, quote=True)}" data-value="{value!r}" '
                f'x="{start + width * position:.2f}" y="{y:.2f}" width="{width:.2f}" '
                f'height="{bottom - y:.2f}"><title>{escape(bar.label)} — {escape(group)}: '
                f"{format_number(value)}</title></rect>"
            )
        parts.append("</g>")
    if not bars:
        parts.append(_text((LEFT + right) / 2, HEIGHT / 2, "nothing to show", "empty", "middle"))
    parts.append('<g class="legend">')
    x = float(LEFT)
    for position, group in enumerate(groups):
        parts.append(
            f'<g class="legend-entry" transform="translate({x:.1f} {HEIGHT + 4})">'
            f'<rect class="{_css("bar", f"g{position % PALETTE_SIZE}")}" x="0" y="-6" '
            f'width="24" height="12"/>{_text(30, 4, group, "legend-label")}</g>'
        )
        x += 50 + 6.2 * len(group)
    parts.append("</g></svg>")
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


@dataclass(frozen=True, slots=True)
class Look:
    """An estimate with its interval [low, high] at `x` (one look at an experiment)."""

    x: float
    estimate: float
    low: float
    high: float
    label: str = ""


def band_chart(
    title: str,
    looks: Sequence[Look],
    *,
    zero: float = 0.0,
    x_format: Callable[[float], str] = format_number,
    y_label: str = "",
    chart_id: str = "",
) -> str:
    """An SVG line chart of an estimate over x inside its shaded interval band, around a
    line at `zero` (no effect): the band's edges are the looks' bounds, each look a point
    (`data-x`, `data-y`, `data-low`, `data-high`)."""
    ordered = sorted(looks, key=lambda look: look.x)
    xs = [look.x for look in ordered]
    ys = [zero] + [v for look in ordered for v in (look.low, look.high, look.estimate)]
    finite = [y for y in ys if math.isfinite(y)]
    x_scale = Scale(*domain(xs, pad=0.04), LEFT, WIDTH - RIGHT)
    y_scale = Scale(*domain(finite), HEIGHT - BOTTOM, TOP)

    def clipped(value: float) -> float:
        return y_scale.at(min(max(value, y_scale.low), y_scale.high))

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart band-chart" '
        f'{_id(chart_id)}viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" '
        f'height="{HEIGHT}" role="img" aria-label="{escape(title, quote=True)}">',
        f"<title>{escape(title)}</title>",
        *_axes(x_scale, y_scale, x_format, xs if len(xs) <= 6 else (), y_label),
        *_reference_lines([ReferenceLine("no effect", zero, "zero")], x_scale, y_scale),
    ]
    if len(ordered) > 1:
        edge = [f"{x_scale.at(k.x):.2f},{clipped(k.high):.2f}" for k in ordered] + [
            f"{x_scale.at(k.x):.2f},{clipped(k.low):.2f}" for k in reversed(ordered)
        ]
        parts.append(
            f'<polygon class="band" fill="#3056d3" fill-opacity="0.15" points="{" ".join(edge)}"/>'
        )
        line = " ".join(f"{x_scale.at(k.x):.2f},{y_scale.at(k.estimate):.2f}" for k in ordered)
        parts.append(f'<polyline class="series-line" points="{line}"/>')
    for k in ordered:
        x = x_scale.at(k.x)
        tip = k.label or f"{x_format(k.x)}: {format_number(k.estimate)}"
        parts.append(
            f'<line class="interval" x1="{x:.2f}" y1="{clipped(k.low):.2f}" x2="{x:.2f}" '
            f'y2="{clipped(k.high):.2f}"/>'
            f'<circle class="point" data-x="{k.x!r}" data-y="{k.estimate!r}" '
            f'data-low="{k.low!r}" data-high="{k.high!r}" cx="{x:.2f}" '
            f'cy="{y_scale.at(k.estimate):.2f}" r="4"><title>{escape(tip)} '
            f"[{format_number(k.low)}, {format_number(k.high)}]</title></circle>"
        )
    if not ordered:
        parts.append(
            _text((LEFT + WIDTH - RIGHT) / 2, HEIGHT / 2, "no estimate yet", "empty", "middle")
        )
    parts.append("</svg>")
    return "".join(parts)


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
        f'{_id(chart_id)}viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" '
        f'height="{height}" role="img" aria-label="{escape(title, quote=True)}">',
        f"<title>{escape(title)}</title>",
        '<g class="axis">',
        f'<line class="axis-line" x1="{left}" y1="{bottom}" x2="{WIDTH - 40}" y2="{bottom}"/>',
    ]
    for value in scale.ticks(4):
        parts.append(_text(scale.at(value), bottom + 16, x_format(value), "tick x-tick", "middle"))
    for index, row in enumerate(rows):
        y = TOP + ROW * index + ROW / 2
        parts.append(_text(left - 10, y + 4, row, "tick y-tick row-label", "end"))
    parts.append("</g>")
    for span in spans:
        y = TOP + ROW * rows.index(span.row) + 6
        x1, x2 = scale.at(span.start), scale.at(span.end)
        tip = span.label or f"{span.row}: {x_format(span.start)} – {x_format(span.end)}"
        parts.append(
            f'<rect class="{_css("span", span.kind)}" data-row="{escape(span.row, quote=True)}" '
            f'data-start="{span.start!r}" data-end="{span.end!r}" x="{x1:.2f}" y="{y:.2f}" '
            f'width="{max(x2 - x1, 2):.2f}" height="{ROW - 12}" fill="#3056d3" '
            f'fill-opacity="0.7"><title>{escape(tip)}</title></rect>'
        )
    if not spans:
        parts.append(_text(WIDTH / 2, TOP + ROW / 2, "no version served yet", "empty", "middle"))
    parts.append("</svg>")
    return "".join(parts)
