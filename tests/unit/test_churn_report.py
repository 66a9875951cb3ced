"""The scenario's report, drawn from a comparison built by hand (no world lived): dated axes,
a legend naming each arm, arms apart without colour, a row per shock with both arms' figures,
readable row labels, nothing fetched."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from lucid.contracts.scorecard import SCORECARD_LABELS
from lucid.memory.scorecard import SCORECARD_KEYS
from lucid.scenarios.churn.comparison import ArmResult, Comparison
from lucid.scenarios.churn.report import write_report

SHOCKS = [
    {"kind": "pandemic", "day": 40, "description": "pandemic-like shift", "floor_days": 14},
    {"kind": "outage", "day": 70, "description": "logins stop arriving", "floor_days": 3},
]


def arm(name: str, late: bool, *, referee: bool = True) -> ArmResult:
    result = ArmResult(
        scorecard=dict.fromkeys(SCORECARD_KEYS, 1.0),
        retention_rate=0.7 if late else 0.72,
        revenue_kept=1_000.0,
        customers_at_start=500,
        weeks=[
            {"day": day, "treated": 10, "retention": 0.98 - 0.001 * (day % 3), "level": "ok"}
            for day in range(0, 120, 7)
        ],
        promotions={
            "production": 1,
            "by_evidence": 0 if late else 1,
            "by_override": 0,
            "ungated": 1 if late else 0,
            "evidence_lucid": 0,
            "evidence_external": 0,
        },
    )
    if referee:
        delay = 30 if late else 1
        shocks = [
            {
                "kind": s["kind"],
                "day": s["day"],
                "detected_day": s["day"] + delay,
                "detected_by": "monthly review" if late else "source_volume_ratio[logins]",
                "recovered_day": None if late and s["kind"] == "outage" else s["day"] + delay + 5,
                "floor_days": s["floor_days"],
                "detection_delay_days": delay,
                "recovery_days": None if late and s["kind"] == "outage" else delay + 5,
            }
            for s in SHOCKS
        ]
        quality = [
            {"day": day, "auc": 0.7 if late else 0.75, "oracle_auc": 0.78}
            for day in range(20, 120, 10)
        ]
        # The referee's figures, set whether or not ArmResult declares them as fields.
        vars(result).update(shocks=shocks, quality=quality)
    return result


def comparison(*, referee: bool = True) -> Comparison:
    world: dict[str, Any] = {
        "customers": 500,
        "days": 120,
        "seed": 1,
        "start": "2019-01-01T00:00:00",
        "shocks": SHOCKS,
    }
    if referee:
        world["seasons"] = [
            {"kind": "seasonal_peak", "day": 90, "duration_days": 10, "description": "holidays"}
        ]
    arms = {"entropic": arm("entropic", True, referee=referee)}
    arms["negentropic"] = arm("negentropic", False, referee=referee)
    return Comparison(world, arms, 1.0, Path("."))


@pytest.fixture
def page(tmp_path: Path) -> str:
    return write_report(comparison(), tmp_path / "report.html").read_text(encoding="utf-8")


def plots(page: str) -> list[ET.Element]:
    return [ET.fromstring(svg) for svg in re.findall(r"<svg .*?</svg>", page, re.DOTALL)]


def retention(page: str) -> ET.Element:
    [plot] = [p for p in plots(page) if p.get("aria-label") == "Weekly retention of each arm"]
    return plot


def classed(root: ET.Element, css: str) -> list[ET.Element]:
    return [e for e in root.iter() if css in (e.get("class") or "").split()]


def test_the_retention_plot_has_dated_x_ticks_and_a_labelled_y_axis(page: str) -> None:
    plot = retention(page)
    dates = [t.text or "" for t in classed(plot, "x-tick")]
    assert dates[:2] == ["2019-01-01", "2019-02-01"]
    assert all(re.fullmatch(r"2019-\d\d-01", d) for d in dates)
    assert all(t.text and t.text.endswith("%") for t in classed(plot, "y-tick"))
    assert len(classed(plot, "y-tick")) >= 3
    [y_label, x_label] = classed(plot, "axis-label")
    assert "retention" in (y_label.text or "") and "%" in (y_label.text or "")
    assert "date" in (x_label.text or "")


def test_each_arm_has_a_legend_entry_and_its_own_dash_and_shape(page: str) -> None:
    plot = retention(page)
    legend = {e.get("data-kind"): e for e in classed(plot, "legend-entry")}
    for name in ("entropic", "negentropic"):
        texts = [t.text for t in legend[name].iter("text")]
        assert texts == [f"{name} arm"]
    for kind in ("shock", "season", "detected:entropic", "recovered:negentropic"):
        assert kind in legend
    lines = {
        g.get("data-arm"): g.find("polyline") for g in classed(plot, "series") if g.get("data-arm")
    }
    assert set(lines) == {"entropic", "negentropic"}
    dashes = {
        name: (line.get("stroke-dasharray") if line is not None else "?")
        for name, line in lines.items()
    }
    assert dashes["entropic"] != dashes["negentropic"]
    shapes = {
        name: {p.tag for p in classed(g, "point")}
        for name, g in [
            (g.get("data-arm"), g) for g in classed(plot, "series") if g.get("data-arm")
        ]
    }
    assert shapes["entropic"] != shapes["negentropic"]


def test_shocks_are_labelled_by_kind_and_the_season_is_not_a_shock(page: str) -> None:
    plot = retention(page)
    markers = classed(plot, "marker")
    assert [m.get("data-x") for m in markers] == ["40", "70"]
    assert [t.text for t in classed(plot, "marker-label")] == ["pandemic", "outage"]
    [band] = classed(plot, "band")
    assert (band.get("data-start"), band.get("data-end")) == ("90", "100")
    assert "not a shock" in "".join(t.text or "" for t in classed(plot, "band-label"))


def test_each_arms_detection_and_recovery_sit_on_its_curve(page: str) -> None:
    glyphs = classed(retention(page), "glyph")
    found = {(g.get("data-kind"), g.get("data-x")) for g in glyphs}
    assert ("detected:entropic", "70") in found and ("detected:negentropic", "41") in found
    assert ("recovered:negentropic", "46") in found
    assert ("recovered:entropic", None) not in found
    assert len(glyphs) == 7  # 2 shocks x 2 arms x 2 events, less the entropic outage's recovery
    assert all(0.97 <= float(g.get("data-y") or 0) <= 0.98 for g in glyphs)


def test_a_row_per_shock_with_both_arms_figures_and_the_floor(page: str) -> None:
    rows = dict(re.findall(r'<tr data-shock="(\w+)">(.*?)</tr>', page, re.DOTALL))
    assert set(rows) == {"pandemic", "outage"}
    assert "14 days" in rows["pandemic"] and "3 days" in rows["outage"]
    pandemic = re.sub(r"<[^>]+>", "|", rows["pandemic"])
    assert "30 days (day 70)" in pandemic and "35 days (day 75)" in pandemic  # entropic
    assert "1 day (day 41)" in pandemic and "6 days (day 46)" in pandemic  # negentropic
    assert "monthly review" in pandemic and "source_volume_ratio[logins]" in pandemic
    assert "not recovered" in rows["outage"]


def test_the_table_reads_with_labels_and_nothing_is_fetched(page: str) -> None:
    for key in SCORECARD_KEYS:
        assert f"<tr><th>{SCORECARD_LABELS[key]}</th>" in page
    assert "<tr><th>promotions by override</th><td>0</td>" in page
    assert "<tr><th>production promotions</th><td>1 ungated</td>" in page
    assert "http://" not in page and "https://" not in page
    assert "<script" not in page


def test_the_quality_plot_draws_each_arm_against_the_refit(page: str) -> None:
    [plot] = [p for p in plots(page) if "Ranking quality" in (p.get("aria-label") or "")]
    names = {g.get("data-arm") for g in classed(plot, "series")}
    assert {"entropic", "negentropic", "refit"} <= names


def test_a_comparison_before_the_referee_still_draws(tmp_path: Path) -> None:
    page = write_report(comparison(referee=False), tmp_path / "r.html").read_text("utf-8")
    assert "not in this comparison" in page
    assert "Ranking quality" not in page
    assert len(classed(retention(page), "glyph")) == 0
    assert len(plots(page)) == 2
