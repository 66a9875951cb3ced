"""Charts as inline SVG, drawn on the server: no script, no library, nothing fetched.

Three shapes cover the dashboard: a line chart (series of points over x, horizontal reference
lines or segments such as a version's target or a critical threshold, vertical markers such
as a deployment, and a legend), an interval chart (one estimate with its interval per row,
around a zero line) and a grouped bar chart (a drift check's reference vs current shares);
the dashboard's stylesheet colours them by class. Ticks fall on round values (1, 2 or 5
times a power of ten; midnights on a time axis). A standalone chart (the scenario's report)
writes every colour, dash and shape inline, for a page without that stylesheet: both axes
with their tick labels, shaded bands, labelled markers, and a legend naming each ink it
uses. The numbers are placed by `Scale`, a linear map from a value domain to pixels; every
drawn value carries its class and its value (`data-x`, `data-y`, `data-value`) so a reader —
or a test — can check it against the numbers it came from.

Modules: `scales` (what every chart shares: drawn values, `Scale`, ticks, margins, SVG
writers), `lines` (line and band charts), `intervals`, `bars`, `timelines` (span charts) and
`standalone`; this package exports the charts and the values they draw.
"""

from __future__ import annotations

from lucid.charts.bars import Bar, bar_chart
from lucid.charts.intervals import interval_chart
from lucid.charts.lines import Look, band_chart, line_chart
from lucid.charts.scales import (
    Interval,
    Marker,
    Point,
    ReferenceLine,
    Scale,
    Series,
    domain,
    format_day,
    format_moment,
    format_number,
)
from lucid.charts.standalone import Band, Frame, Ink, standalone_chart
from lucid.charts.timelines import Span, span_chart

__all__ = [
    "Band",
    "Bar",
    "Frame",
    "Ink",
    "Interval",
    "Look",
    "Marker",
    "Point",
    "ReferenceLine",
    "Scale",
    "Series",
    "Span",
    "band_chart",
    "bar_chart",
    "domain",
    "format_day",
    "format_moment",
    "format_number",
    "interval_chart",
    "line_chart",
    "span_chart",
    "standalone_chart",
]
