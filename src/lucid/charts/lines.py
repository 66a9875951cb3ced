"""Line charts of the dashboard: series over x with reference lines or segments, vertical
markers and a legend (`line_chart`), and an estimate inside its interval band over x
(`band_chart`, an experiment's looks)."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from html import escape

from lucid.charts.legends import dashboard_legend
from lucid.charts.scales import (
    BOTTOM,
    DAY,
    HEIGHT,
    LABEL_GAP,
    LEFT,
    PALETTE_SIZE,
    RIGHT,
    TOP,
    WIDTH,
    Marker,
    ReferenceLine,
    Scale,
    Series,
    bounded,
    classes,
    day_ticks,
    domain,
    format_day,
    format_number,
    id_attr,
    stack,
    svg_text,
    tick_formatter,
    y_grid,
)


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
    legend_parts, legend_height = dashboard_legend(entries)
    height = HEIGHT + legend_height
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
        f'{id_attr(chart_id)}viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" '
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
            svg_text((LEFT + WIDTH - RIGHT) / 2, HEIGHT / 2, "no data yet", "empty", "middle")
        )
    parts.extend(legend_parts)
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
            f'<line class="{classes("sample-series", f"s{index % PALETTE_SIZE}")}" '
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
        css = classes("sample-reference" if group == "line" else f"sample-{group}", kind)
        entries.append((samples[group].format(css), _kind_name(key, kind, names)))
    return entries


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
            f'<line class="{classes("reference", line.kind)}" data-label="'
            f'{escape(line.label, quote=True)}" data-value="{line.y!r}"{span} x1="{x1:.2f}" '
            f'y1="{y:.2f}" x2="{x2:.2f}" y2="{y:.2f}">'
            f"<title>{escape(line.label)} {format_number(line.y)}</title></line>"
        )
        if line.end is None:
            labels.setdefault(f"{line.label} {format_number(line.y)}", y + 4)
    placed = stack(list(labels.values()), TOP, HEIGHT - BOTTOM + 4)
    for text, y in zip(labels, placed, strict=True):
        parts.append(svg_text(WIDTH - RIGHT + 6, y, text, "reference-label"))
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
            f'<line class="{classes("marker", marker.kind)}" data-label="'
            f'{escape(marker.label, quote=True)}" data-x="{marker.x!r}" x1="{x:.2f}" '
            f'y1="{TOP}" x2="{x:.2f}" y2="{HEIGHT - BOTTOM}"><title>{escape(note)}</title></line>'
        )
        free = [row for row in (0, 1) if ends[row] < x - 2]
        if not marker.label or not free or x + 6.2 * len(marker.label) > WIDTH:
            continue
        ends[free[0]] = x + 3 + 6.2 * len(marker.label)
        parts.append(svg_text(x + 3, TOP - 4 - 13 * free[0], marker.label, "marker-label"))
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
    parts = [f'<g class="{classes("series", one.kind, palette)}" data-series="{escape(one.name)}">']
    if len(ordered) > 1:
        parts.append(f'<polyline class="series-line" points="{coords}"/>')
    for p in ordered:
        tip = p.label or f"{x_format(p.x)}: {format_number(p.y)}"
        parts.append(
            f'<circle class="{classes("point", p.kind)}" data-x="{p.x!r}" data-y="{p.y!r}" '
            f'cx="{x_scale.at(p.x):.2f}" cy="{y_scale.at(p.y):.2f}" r="4">'
            f"<title>{escape(tip)}</title></circle>"
        )
    if ordered and taken is not None:
        x, y = x_scale.at(ordered[-1].x) + 7, y_scale.at(ordered[-1].y) - 7
        width = 7.0 * len(one.name)
        if all(abs(y - ty) >= LABEL_GAP or x >= tx + width or tx >= x + width for tx, ty in taken):
            taken.append((x, y))
            parts.append(svg_text(x, y, one.name, "series-label"))
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
    parts.extend(y_grid(y_scale, y_ticks, y_format, right))
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
        parts.append(svg_text(8, 12, y_label, "axis-label"))
    parts.append("</g>")
    return parts


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
        f'{id_attr(chart_id)}viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" '
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
            svg_text((LEFT + WIDTH - RIGHT) / 2, HEIGHT / 2, "no estimate yet", "empty", "middle")
        )
    parts.append("</svg>")
    return "".join(parts)
