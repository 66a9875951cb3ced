"""Standalone charts (the scenario's report): every colour, dash and shape written inline
for a page without the dashboard's stylesheet, with both axes, shaded bands, labelled markers
and a legend naming each ink."""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from html import escape

from lucid.charts.legends import legend_places
from lucid.charts.scales import Marker, Scale, Series, classes, format_number

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
                    f' class="glyph" data-kind="{classes(marker.kind)}" data-x="{marker.x!r}" '
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
        f'<rect class="band" data-kind="{classes(band.kind)}" data-start="{band.start!r}" '
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
            f'<line class="marker" data-kind="{classes(marker.kind)}" data-x="{marker.x!r}" '
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
    labels = [ink.label or kind for kind, ink, _ in entries]
    places = legend_places(
        [int(40 + 6.4 * len(label) + 18) for label in labels], S_LEFT, width - S_RIGHT
    )
    parts: list[str] = []
    for (kind, ink, shaded), label, (x, row) in zip(entries, labels, places, strict=True):
        y = 6 + LEGEND_ROW * row
        if shaded:
            sample = (
                f'<rect x="{x:.0f}" y="{y - 6}" width="30" height="12" fill="'
                f'{escape(ink.colour, quote=True)}" fill-opacity="0.18"/>'
            )
        elif ink.line:
            sample = f'<line x1="{x:.0f}" y1="{y}" x2="{x + 30:.0f}" y2="{y}" {ink.attributes()}/>'
        else:
            sample = ""
        parts.append(
            f'<g class="legend-entry" data-kind="{classes(kind)}">{sample}'
            f"{'' if shaded else ink.glyph(x + 15, y)}"
            f'<text x="{x + 38:.0f}" y="{y + 4}">{escape(label)}</text></g>'
        )
    rows = places[-1][1] + 1 if places else 0
    return "".join(parts), (LEGEND_ROW * rows + 8 if entries else 0)
