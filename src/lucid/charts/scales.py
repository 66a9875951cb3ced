"""What every chart shares: the drawn values (points, series, reference lines, markers,
intervals), `Scale` (a linear map from values to pixels), round ticks and their labels, the
margins of the plot area, and the SVG text and attribute writers."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
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


def classes(*names: str) -> str:
    return escape(" ".join(name for name in names if name), quote=True)


def id_attr(chart_id: str) -> str:
    return f'id="{classes(chart_id)}" ' if chart_id else ""


def shortened(label: str, limit: int = 28) -> str:
    """`label` cut to `limit` characters (an ellipsis ends a cut one)."""
    return label if len(label) <= limit else label[: limit - 1] + "…"


def y_grid(
    y_scale: Scale, ticks: Sequence[float], written: Callable[[float], str], right: float
) -> list[str]:
    """A dashboard chart's y ticks: a grid line from the y axis to `right` at each tick, and
    its value, as `written`, left of the axis."""
    parts = []
    for value in ticks:
        y = y_scale.at(value)
        parts.append(
            f'<line class="grid" x1="{LEFT}" y1="{y:.2f}" x2="{right}" y2="{y:.2f}"/>'
            f'<text class="tick y-tick" data-y="{value!r}" x="{LEFT - 6}" y="{y + 4:.2f}" '
            f'text-anchor="end">{escape(written(value))}</text>'
        )
    return parts


def svg_text(x: float, y: float, body: str, kind: str, anchor: str = "start") -> str:
    return (
        f'<text class="{classes(kind)}" x="{x:.2f}" y="{y:.2f}" text-anchor="{anchor}">'
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


ROW = 34
"""Pixels per row of an interval chart."""
