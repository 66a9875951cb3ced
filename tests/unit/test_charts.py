"""The dashboard's SVG charts: every number drawn where it says, every line and marker there."""

from __future__ import annotations

import itertools
import math
import xml.etree.ElementTree as ET

import pytest

from lucid.charts import (
    Band,
    Bar,
    Frame,
    Ink,
    Interval,
    Marker,
    Point,
    ReferenceLine,
    Scale,
    Series,
    bar_chart,
    domain,
    format_day,
    interval_chart,
    line_chart,
    standalone_chart,
)
from lucid.charts.scales import BOTTOM, HEIGHT, LABEL_GAP, LEFT, RIGHT, TOP, WIDTH, day_ticks, stack
from lucid.charts.standalone import DASHES, GLYPH_GAP, S_LEFT, S_RIGHT, S_TOP

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def classed(root: ET.Element, tag: str, css: str) -> list[ET.Element]:
    return [e for e in root.iter(SVG + tag) if css in (e.get("class") or "").split()]


def test_scale_maps_the_domain_linearly_and_may_run_backwards() -> None:
    up = Scale(0.0, 10.0, 100.0, 200.0)
    assert (up.at(0), up.at(5), up.at(10)) == (100.0, 150.0, 200.0)
    down = Scale(0.0, 1.0, 240.0, 40.0)  # SVG y grows downwards
    assert (down.at(0), down.at(0.25), down.at(1)) == (240.0, 190.0, 40.0)
    assert up.ticks(3) == [0.0, 5.0, 10.0]


def test_domain_pads_the_span_and_never_collapses() -> None:
    assert domain([0.0, 10.0], pad=0.1) == pytest.approx((-1.0, 11.0))
    assert domain([5.0]) == (4.5, 5.5)
    assert domain([0.0]) == (-1.0, 1.0)
    assert domain([]) == (0.0, 1.0)


def test_points_lines_and_markers_are_placed_where_the_numbers_say() -> None:
    points = (Point(0.0, 0.80), Point(10.0, 0.84), Point(5.0, 0.76, kind="critical"))
    svg = line_chart(
        "retention",
        [Series("retention_rate", points)],
        lines=[
            ReferenceLine("baseline", 0.80, "baseline"),
            ReferenceLine("target", 0.82, "target"),
            ReferenceLine("rollback", 0.78, "rollback"),
        ],
        markers=[Marker("v2 deployed", 4.0, "deployment"), Marker("rollback", 8.0, "rollback")],
        chart_id="contract",
    )
    root = parse(svg)
    assert root.get("id") == "contract" and root.get("aria-label") == "retention"
    circles = classed(root, "circle", "point")
    assert len(circles) == 3
    # The same domains the chart computes, recomputed: ys of points and lines, xs with markers.
    y_scale = Scale(*domain([0.80, 0.84, 0.76, 0.80, 0.82, 0.78]), HEIGHT - BOTTOM, TOP)
    x_scale = Scale(*domain([0.0, 10.0, 5.0, 4.0, 8.0], pad=0.04), LEFT, WIDTH - RIGHT)
    for circle in circles:
        x, y = float(circle.get("data-x", "nan")), float(circle.get("data-y", "nan"))
        assert float(circle.get("cx", "nan")) == pytest.approx(x_scale.at(x), abs=0.01)
        assert float(circle.get("cy", "nan")) == pytest.approx(y_scale.at(y), abs=0.01)
    # In x order along the polyline; higher values higher up (smaller y in SVG).
    [polyline] = classed(root, "polyline", "series-line")
    xs = [float(pair.split(",")[0]) for pair in (polyline.get("points") or "").split()]
    assert xs == sorted(xs) and len(xs) == 3
    by_value = {float(c.get("data-y", "nan")): float(c.get("cy", "nan")) for c in circles}
    assert by_value[0.84] < by_value[0.80] < by_value[0.76]
    assert classed(root, "circle", "critical")[0].get("data-y") == "0.76"
    references = {line.get("data-label"): line for line in classed(root, "line", "reference")}
    assert set(references) == {"baseline", "target", "rollback"}
    # A point on the baseline sits exactly on the baseline's line.
    assert float(references["baseline"].get("y1", "nan")) == pytest.approx(by_value[0.80])
    assert float(references["target"].get("y1", "nan")) < by_value[0.80]
    marks = {m.get("data-label"): m for m in classed(root, "line", "marker")}
    assert float(marks["v2 deployed"].get("x1", "nan")) == pytest.approx(x_scale.at(4.0), 0.01)
    assert "rollback" in (marks["rollback"].get("class") or "")
    two = parse(line_chart("v", [Series("v1", points[:1]), Series("v2", points[1:])]))
    assert [t.text for t in two.iter(SVG + "text") if t.get("class") == "series-label"] == [
        "v1",
        "v2",
    ]
    labels = " ".join(t.text or "" for t in root.iter(SVG + "text"))
    assert "target 0.82" in labels and "v2 deployed" in labels


def test_an_empty_chart_still_has_its_axes_and_says_it_has_no_data() -> None:
    root = parse(line_chart("psi", [Series("psi", ())], lines=[ReferenceLine("warning", 0.1)]))
    assert not classed(root, "circle", "point")
    assert len(classed(root, "line", "reference")) == 1
    assert any(t.text == "no data yet" for t in root.iter(SVG + "text"))


def test_text_is_escaped() -> None:
    svg = line_chart("a <b> & c", [Series("s", (Point(1, 1, label="<script>"),))])
    root = parse(svg)  # would not parse if anything were unescaped
    assert root.get("aria-label") == "a <b> & c"
    assert "<script>" not in svg


def test_time_axis_ticks_are_days() -> None:
    day = 1_793_491_200.0  # 2026-11-01T00:00:00Z
    assert format_day(day) == "2026-11-01"
    root = parse(
        line_chart("t", [Series("s", (Point(day, 1), Point(day + 86400, 2)))], x_format=format_day)
    )
    ticks = [t.text for t in root.iter(SVG + "text") if "tick" in (t.get("class") or "")]
    assert any(t and t.startswith("2026-11-0") for t in ticks)


def test_intervals_are_drawn_from_low_to_high_with_the_estimate_between() -> None:
    rows = [
        Interval("exp-1", 0.05, 0.01, 0.09, "significant"),
        Interval("exp-2", -0.01, -0.04, 0.02),
    ]
    root = parse(interval_chart("effects", rows, chart_id="effects"))
    groups = classed(root, "g", "interval-row")
    assert [g.get("data-label") for g in groups] == ["exp-1", "exp-2"]
    scale = Scale(*domain([0.0, 0.01, 0.09, 0.05, -0.04, 0.02, -0.01]), 200, WIDTH - 40)
    for group, row in zip(groups, rows, strict=True):
        [line] = classed(group, "line", "interval")
        [dot] = classed(group, "circle", "estimate")
        assert float(line.get("x1", "nan")) == pytest.approx(scale.at(row.low), abs=0.01)
        assert float(line.get("x2", "nan")) == pytest.approx(scale.at(row.high), abs=0.01)
        assert float(dot.get("cx", "nan")) == pytest.approx(scale.at(row.estimate), abs=0.01)
        assert line.get("y1") == dot.get("cy")
    [zero] = classed(root, "line", "zero")
    assert float(zero.get("x1", "nan")) == pytest.approx(scale.at(0.0), abs=0.01)
    assert "significant" in (groups[0].get("class") or "")


def test_given_x_ticks_are_drawn_at_their_values() -> None:
    day = 1_793_491_200.0
    starts = [day, day + 86400, day + 2 * 86400]
    svg = line_chart(
        "psi",
        [Series("psi", tuple(Point(x, 0.1) for x in starts))],
        x_format=format_day,
        x_ticks=starts,
    )
    root = parse(svg)
    ticks = {
        t.text: float(t.get("x", "nan"))
        for t in root.iter(SVG + "text")
        if "x-tick" in (t.get("class") or "") and "-" in (t.text or "")
    }
    assert list(ticks) == ["2026-11-01", "2026-11-02", "2026-11-03"]
    points = sorted(float(c.get("cx", "nan")) for c in classed(root, "circle", "point"))
    assert list(ticks.values()) == pytest.approx(points, abs=0.01)


def test_round_ticks_fall_on_round_steps_inside_the_domain() -> None:
    assert Scale(0.0, 200.0, 0, 1).round_ticks(5) == [0.0, 50.0, 100.0, 150.0, 200.0]
    assert Scale(0.962, 0.995, 0, 1).round_ticks(6) == pytest.approx(
        [0.965, 0.97, 0.975, 0.98, 0.985, 0.99, 0.995]
    )
    assert Scale(1.0, 1.0, 0, 1).round_ticks() == [1.0]


def test_a_standalone_chart_places_points_and_names_every_ink_in_its_legend() -> None:
    inks = {
        "a": Ink("#c00", "arm a", dash="dashed", shape="square", hollow=True),
        "b": Ink("#00c", "arm b", shape="circle"),
        "shock": Ink("#555", "shock", dash="dotted"),
        "seen": Ink("#00c", "seen", shape="triangle-down", line=False),
        "season": Ink("#ea0", "season"),
        "unused": Ink("#000", "unused"),
    }
    frame = Frame((0.0, 100.0), (0.0, 1.0), x_format=lambda x: f"day {x:g}", y_label="share")
    svg = standalone_chart(
        "two arms",
        [
            Series("a", (Point(10.0, 0.2), Point(0.0, 0.1)), "a"),
            Series("b", (Point(0.0, 0.5), Point(50.0, 0.9)), "b"),
        ],
        inks=inks,
        frame=frame,
        markers=[Marker("pandemic", 30.0, "shock"), Marker("seen", 31.0, "seen", y=0.6)],
        bands=[Band("peak", 60.0, 70.0, "season")],
    )
    root = ET.fromstring(svg)
    x_scale, y_scale = Scale(0.0, 100.0, S_LEFT, 900 - S_RIGHT), Scale(0.0, 1.0, 340 - 44, S_TOP)
    points = [e for e in root.iter() if e.get("class") == "point"]
    assert {e.tag for e in points} == {"rect", "circle"}  # a square per a, a circle per b
    for e in points:
        x, y = float(e.get("data-x") or "nan"), float(e.get("data-y") or "nan")
        if e.tag == "circle":
            assert float(e.get("cx") or "nan") == pytest.approx(x_scale.at(x), abs=0.1)
            assert float(e.get("cy") or "nan") == pytest.approx(y_scale.at(y), abs=0.1)
    dashes = [line.get("stroke-dasharray") for line in root.iter("polyline")]
    assert dashes == [DASHES["dashed"], None]
    ticks = [t.text for t in root.iter("text") if "x-tick" in (t.get("class") or "")]
    assert ticks[0] == "day 0" and ticks[-1] == "day 100"
    legend = [e.get("data-kind") for e in root.iter("g") if e.get("class") == "legend-entry"]
    assert legend == ["a", "b", "shock", "seen", "season"]
    [marker] = [e for e in root.iter("line") if e.get("class") == "marker"]
    assert marker.get("data-x") == "30.0"
    [glyph] = [e for e in root.iter() if e.get("class") == "glyph"]
    assert (glyph.get("data-x"), glyph.get("data-y")) == ("31.0", "0.6")


def test_an_ink_names_its_dash_and_shape_from_the_known_ones() -> None:
    with pytest.raises(ValueError, match=r"Ink\.dash"):
        Ink("#000", dash="wavy")
    with pytest.raises(ValueError, match=r"Ink\.shape"):
        Ink("#000", shape="star")


def test_a_band_is_cut_to_the_x_domain() -> None:
    svg = standalone_chart(
        "season",
        [],
        inks={"season": Ink("#ea0", "season")},
        frame=Frame((0.0, 100.0), (0.0, 1.0)),
        bands=[Band("late", 90.0, 130.0, "season"), Band("after", 120.0, 130.0, "season")],
    )
    [band] = [e for e in ET.fromstring(svg).iter("rect") if e.get("class") == "band"]
    x_scale = Scale(0.0, 100.0, S_LEFT, 900 - S_RIGHT)
    assert float(band.get("x") or "nan") == pytest.approx(x_scale.at(90.0), abs=0.1)
    assert float(band.get("width") or "nan") == pytest.approx(
        x_scale.at(100) - x_scale.at(90), abs=0.1
    )
    assert band.get("data-end") == "130.0"


def test_a_dense_series_keeps_every_point_but_spaces_its_shapes() -> None:
    points = tuple(Point(float(day), 0.5) for day in range(200))
    svg = standalone_chart(
        "dense",
        [Series("a", points, "a")],
        inks={"a": Ink("#c00", "a", shape="square")},
        frame=Frame((0.0, 200.0), (0.0, 1.0)),
    )
    drawn = [e for e in ET.fromstring(svg).iter() if e.get("class") == "point"]
    assert [e.get("data-x") for e in drawn] == [repr(p.x) for p in points]
    squares = [float(e.get("x") or "nan") for e in drawn if e.tag == "rect"]
    assert 40 < len(squares) < 200
    assert min(b - a for a, b in itertools.pairwise(squares)) >= GLYPH_GAP - 0.2


DAY = 86400.0
NOV1 = 1_793_491_200.0  # 2026-11-01T00:00:00Z


def ticks_of(root: ET.Element, axis: str) -> list[ET.Element]:
    return [t for t in root.iter(SVG + "text") if f"{axis}-tick" in (t.get("class") or "")]


def is_round(value: float, step: float) -> bool:
    return abs(value / step - round(value / step)) < 1e-6


def test_y_ticks_fall_on_a_1_2_5_step_and_read_with_the_step_s_decimals() -> None:
    values = [0.9953, 0.9961, 0.9987, 0.9991]
    root = parse(
        line_chart("auc", [Series("auc", tuple(Point(i, v) for i, v in enumerate(values)))])
    )
    ticks = ticks_of(root, "y")
    found = [float(t.get("data-y") or "nan") for t in ticks]
    assert 3 <= len(found) <= 7
    step = found[1] - found[0]
    mantissa = step / 10 ** math.floor(math.log10(step) + 1e-9)
    assert round(mantissa, 6) in (1.0, 2.0, 5.0)
    assert all(is_round(v, step) for v in found)
    labels = [t.text or "" for t in ticks]
    assert all(len(label.split(".")[-1]) == len(labels[0].split(".")[-1]) for label in labels)
    assert "0.9953" not in labels


def test_a_time_axis_reads_midnights_at_day_precision() -> None:
    points = tuple(Point(NOV1 + i * 3.3 * DAY + 3600 * 7, float(i)) for i in range(20))
    root = parse(line_chart("t", [Series("s", points)], x_time=True))
    ticks = ticks_of(root, "x")
    assert 2 <= len(ticks) <= 6
    for t in ticks:
        assert float(t.get("data-x") or "nan") % DAY == 0  # a midnight, UTC
        assert len(t.text or "") == 10 and ":" not in (t.text or "")  # YYYY-MM-DD
    assert day_ticks(NOV1, NOV1 + 3 * DAY) == [NOV1 + d * DAY for d in range(4)]
    one = parse(line_chart("t", [Series("s", (Point(NOV1 + 3600, 0.1),))], x_time=True))
    assert [t.text for t in ticks_of(one, "x")] == ["2026-11-01", "2026-11-02"]
    weekly = day_ticks(NOV1, NOV1 + 40 * DAY)
    assert {b - a for a, b in itertools.pairwise(weekly)} == {14 * DAY}


def test_a_non_negative_quantity_never_gets_an_axis_below_zero() -> None:
    psi = tuple(Point(float(i), v) for i, v in enumerate([0.01, 0.02, 0.3, 0.05]))
    root = parse(line_chart("psi", [Series("psi", psi)], lines=[ReferenceLine("warning", 0.1)]))
    assert min(float(t.get("data-y") or "nan") for t in ticks_of(root, "y")) >= 0
    bottom = HEIGHT - BOTTOM
    assert all(float(c.get("cy") or 0) <= bottom for c in classed(root, "circle", "point"))
    # A probability stays within [0, 1] even padded.
    p = tuple(Point(float(i), v) for i, v in enumerate([0.0, 0.5, 1.0]))
    bounded = parse(line_chart("p", [Series("p", p)], y_bounds=(0.0, 1.0)))
    ys = [float(t.get("data-y") or "nan") for t in ticks_of(bounded, "y")]
    assert min(ys) >= 0 and max(ys) <= 1
    # Bounds cut the padding, never a value: a drop of accuracy below 0 stays in view.
    drop = parse(
        line_chart("a", [Series("a", (Point(0, -0.01), Point(1, 0.02)))], y_bounds=(0.0, 1.0))
    )
    assert min(float(t.get("data-y") or "nan") for t in ticks_of(drop, "y")) <= -0.01
    assert all(float(c.get("cy") or 0) <= bottom for c in classed(drop, "circle", "point"))
    # A quantity that goes below zero keeps its negative values in view.
    signed = parse(line_chart("d", [Series("d", (Point(0, -1.0), Point(1, 2.0)))]))
    assert min(float(t.get("data-y") or "nan") for t in ticks_of(signed, "y")) < 0


def test_reference_labels_close_in_value_are_stacked_apart() -> None:
    lines = [ReferenceLine(name, 0.8 + i * 0.0005, name) for i, name in enumerate("abcd")]
    root = parse(line_chart("c", [Series("s", (Point(0, 0.7), Point(1, 0.9)))], lines=lines))
    ys = sorted(float(t.get("y") or "nan") for t in classed(root, "text", "reference-label"))
    assert len(ys) == 4
    assert min(b - a for a, b in itertools.pairwise(ys)) >= LABEL_GAP - 1e-6
    assert stack([10.0, 10.0, 10.0], 0.0, 100.0, gap=5.0) == [10.0, 15.0, 20.0]
    assert stack([98.0, 99.0], 0.0, 100.0, gap=5.0) == [95.0, 100.0]  # pushed back inside


def test_a_contract_line_segment_spans_only_its_version_s_time() -> None:
    points = (Point(0.0, 0.8), Point(10.0, 0.82), Point(20.0, 0.81))
    lines = [
        ReferenceLine("v1 target", 0.83, "target", 0.0, 10.0),
        ReferenceLine("v2 target", 0.85, "target", 10.0, None),
    ]
    root = parse(line_chart("c", [Series("s", points)], lines=lines))
    x_scale = Scale(*domain([0.0, 10.0, 20.0], pad=0.04), LEFT, WIDTH - RIGHT)
    segments = {e.get("data-label"): e for e in classed(root, "line", "reference")}
    first, second = segments["v1 target"], segments["v2 target"]
    assert float(first.get("x1") or "nan") == pytest.approx(x_scale.at(0.0), abs=0.01)
    assert float(first.get("x2") or "nan") == pytest.approx(x_scale.at(10.0), abs=0.01)
    assert float(second.get("x1") or "nan") == pytest.approx(x_scale.at(10.0), abs=0.01)
    assert float(second.get("x2") or "nan") == WIDTH - RIGHT
    # Only the line still in force at the right edge is labelled in the margin.
    assert [t.text for t in classed(root, "text", "reference-label")] == ["v2 target 0.85"]


def test_the_legend_names_every_series_line_and_marker_kind() -> None:
    root = parse(
        line_chart(
            "c",
            [Series("v1", (Point(0, 1.0, kind="bad"),)), Series("v2", (Point(1, 2.0),))],
            lines=[ReferenceLine("target", 1.5, "target")],
            markers=[Marker("v2 deployed", 0.5, "deployment"), Marker("x", 0.7, "incident")],
            legend={"marker:deployment": "entry into production"},
        )
    )
    names = [t.text for t in classed(root, "text", "legend-label")]
    assert names == ["v1", "v2", "target", "entry into production", "incident", "bad"]
    assert len(classed(root, "g", "series")) == 2  # legend samples are not series


def test_a_bar_chart_draws_each_group_from_zero_with_both_axes() -> None:
    bars = [Bar("≤ 0.09", (0.1, 0.78), "moved-most"), Bar("(0.3, 0.37]", (0.19, 0.0))]
    root = parse(bar_chart("moved", bars, groups=("reference", "current"), chart_id="d"))
    [axis] = classed(root, "g", "axis")
    assert classed(axis, "text", "x-tick") and classed(axis, "text", "y-tick")
    assert [t.get("data-label") for t in classed(axis, "text", "x-tick")] == [
        "≤ 0.09",
        "(0.3, 0.37]",
    ]
    rects = classed(root, "rect", "bar")
    drawn = [r for r in rects if r.get("data-value") is not None]
    assert [(r.get("data-group"), float(r.get("data-value") or "nan")) for r in drawn] == [
        ("reference", 0.1),
        ("current", 0.78),
        ("reference", 0.19),
        ("current", 0.0),
    ]
    bottom = HEIGHT - BOTTOM
    heights = [float(r.get("height") or "nan") for r in drawn]
    assert heights[1] == pytest.approx(heights[0] * 7.8, rel=1e-3) and heights[3] == 0
    assert all(
        float(r.get("y") or 0) + float(r.get("height") or 0) == pytest.approx(bottom) for r in drawn
    )
    assert min(float(t.get("data-y") or "nan") for t in ticks_of(root, "y")) == 0
    assert [t.text for t in classed(root, "text", "legend-label")] == ["reference", "current"]


def test_a_bar_chart_s_legend_wraps_inside_the_chart_and_the_chart_grows_to_hold_it() -> None:
    groups = [f"group {n} " + "named at length " * 3 for n in range(4)]
    root = parse(bar_chart("many", [Bar("x", (0.1, 0.2, 0.3, 0.4))], groups=groups))
    entries = classed(root, "g", "legend-entry")
    places = [
        tuple(map(float, (e.get("transform") or "").removeprefix("translate(")[:-1].split()))
        for e in entries
    ]
    assert len(entries) == 4 and all(x < WIDTH - 100 for x, _ in places)
    rows = sorted({y for _, y in places})
    assert len(rows) > 1 and float(root.get("height") or 0) > rows[-1]
