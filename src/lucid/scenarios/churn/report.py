"""The comparison's HTML report: one self-contained page, plots drawn as inline SVG by
`lucid.charts.standalone_chart`.

Plots, on a date axis: each arm's weekly retention with the shocks marked (the seasonal peak
shaded apart, not a shock) and each arm's detection and recovery of each shock on its curve;
each arm's production model's ranking quality against a model refit on the world of the day
(when the referee measured it); the negentropic arm's worst monitoring level each week.
Tables: the figures of both arms, per shock both arms' detection and recovery next to the
physical floor, and the value per model. Nothing is fetched from a network.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

from lucid.charts import Band, Frame, Ink, Marker, Point, Series, domain, standalone_chart
from lucid.contracts.scorecard import SCORECARD_LABELS
from lucid.scenarios.churn.comparison import (
    PROMOTION_ROWS,
    ArmResult,
    Comparison,
    promotion_cells,
    shown,
)

ARM_INKS = {
    "entropic": Ink("#c0392b", "entropic arm", dash="dashed", width=2, shape="square", hollow=True),
    "negentropic": Ink("#1f77b4", "negentropic arm", width=2, shape="circle"),
}
"""Each arm's line: apart by colour, by dash and by shape."""
INKS = {
    **ARM_INKS,
    "season": Ink("#e0a800", "seasonal peak (not a shock)"),
    "shock": Ink("#555", "shock starts", dash="dotted", width=1.5),
    **{
        f"detected:{arm}": Ink(
            ink.colour,
            f"{arm}: shock detected",
            shape="triangle-down",
            hollow=ink.hollow,
            line=False,
        )
        for arm, ink in ARM_INKS.items()
    },
    **{
        f"recovered:{arm}": Ink(
            ink.colour, f"{arm}: recovered", shape="diamond", hollow=ink.hollow, line=False
        )
        for arm, ink in ARM_INKS.items()
    },
    "oracle": Ink("#27ae60", "model refit on the world of the day", dash="dotted", width=2),
    "tolerance": Ink("#27ae60", "refit − tolerance", dash="dashdot"),
    "level": Ink("#1f77b4", "worst level of the week", shape="circle"),
}
LEVELS = {"ok": 0, "insufficient_data": 1, "warning": 2, "critical": 3}
ROW_LABELS: dict[str, str] = {
    **SCORECARD_LABELS,
    "retention_rate": "customers kept since the first deployment (share)",
    "revenue_kept": "monthly revenue kept since the first deployment",
    **dict(PROMOTION_ROWS),
    "overrides": "overrides of a gate",
    "false_alarm_incidents": "incidents opened on false alarms",
    "correlation_interval": "technical/business correlation: 95 % interval",
    "correlation_pairs": "technical/business correlation: version pairs",
}
"""The summary table's row labels, by the `lucid demo --json` key."""
VALUE_LABELS = {
    "revenue_kept_vs_no_model": "value: monthly revenue kept vs no model",
    "customers_kept_vs_no_model": "value: customers kept vs no model",
    "models": "value: models served",
    "value_per_model": "value per model (revenue kept)",
}


def _start(comparison: Comparison) -> date:
    return datetime.fromisoformat(str(comparison.world["start"])).date()


def _dates(start: date) -> Callable[[float], str]:
    """Day number → its date (day 0 = the world's start)."""
    return lambda day: (start + timedelta(days=round(day))).isoformat()


def _month_ticks(start: date, days: int, most: int = 8) -> list[float]:
    """The day numbers of the first of each month inside [0, days], every n-th month so that
    at most `most` remain."""
    firsts, day = [], start.replace(day=1)
    while (day - start).days <= days:
        if day >= start:
            firsts.append(float((day - start).days))
        day = (day + timedelta(days=32)).replace(day=1)
    step = -(-len(firsts) // most) if firsts else 1
    return firsts[::step]


def _frame(comparison: Comparison, y_domain: tuple[float, float], **axes: Any) -> Frame:
    start, days = _start(comparison), int(comparison.world["days"])
    return Frame(
        x_domain=(0, max(days, 1)),
        y_domain=y_domain,
        x_format=_dates(start),
        x_ticks=_month_ticks(start, days),
        x_label="date (simulated)",
        **axes,
    )


def arm_shocks(result: ArmResult) -> list[dict[str, Any]]:
    """The referee's per-shock figures of an arm (none before the referee measured them)."""
    return list(getattr(result, "shocks", None) or [])


def _shock_markers(comparison: Comparison) -> list[Marker]:
    dated = _dates(_start(comparison))
    return [
        Marker(
            s["kind"], s["day"], "shock", f"{dated(s['day'])} (day {s['day']}): {s['description']}"
        )
        for s in comparison.world["shocks"]
    ]


def _season_bands(comparison: Comparison) -> list[Band]:
    return [
        Band(
            "seasonal peak (not a shock)",
            s["day"],
            s["day"] + (s.get("duration_days") or 1),
            "season",
            s.get("description", ""),
        )
        for s in comparison.world.get("seasons") or []
    ]


def _on_curve(points: Sequence[Point], x: float) -> float | None:
    """The y of the polyline through `points` (in x order) at `x`; its end values outside."""
    if not points:
        return None
    if x <= points[0].x:
        return points[0].y
    for left, right in pairwise(points):
        if left.x <= x <= right.x:
            share = (x - left.x) / (right.x - left.x) if right.x > left.x else 0.0
            return left.y + share * (right.y - left.y)
    return points[-1].y


def _arm_events(
    comparison: Comparison, curves: dict[str, tuple[Point, ...]], recoveries_only: bool = False
) -> list[Marker]:
    """Each arm's detection and recovery of each shock as a glyph on that arm's curve."""
    dated = _dates(_start(comparison))
    markers: list[Marker] = []
    for arm, result in comparison.arms.items():
        for shock in arm_shocks(result):
            events = [("recovered", shock.get("recovered_day"), "recovery_days")]
            if not recoveries_only:
                events.insert(0, ("detected", shock.get("detected_day"), "detection_delay_days"))
            for what, day, delay in events:
                if day is None:
                    continue
                y = _on_curve(curves.get(arm, ()), day)
                if y is None:
                    continue
                by = (
                    f" by {shock['detected_by']}"
                    if what == "detected" and shock.get("detected_by")
                    else ""
                )
                note = (
                    f"{arm}: {shock['kind']} {what}{by} on {dated(day)} (day {day}), "
                    f"{shown(shock.get(delay))} days after it started"
                )
                markers.append(Marker(what, day, f"{what}:{arm}", note, y))
    return markers


def _percent(value: float) -> str:
    return f"{value * 100:.4g} %"


def retention_plot(comparison: Comparison) -> str:
    """Weekly retention (share of the week's customers still paying at its end) per arm, each
    point at the end of its week, with the shocks, the seasons and each arm's detections and
    recoveries."""
    curves = {
        name: tuple(Point(w["day"] + 7, w["retention"]) for w in r.weeks)
        for name, r in comparison.arms.items()
    }
    values = [p.y for points in curves.values() for p in points]
    return standalone_chart(
        "Weekly retention of each arm",
        [Series(name, points, name) for name, points in curves.items()],
        inks=INKS,
        frame=_frame(
            comparison,
            domain(values, pad=0.1),
            y_format=_percent,
            y_label="weekly retention (% of the week's paying customers still paying at its end)",
        ),
        markers=[*_shock_markers(comparison), *_arm_events(comparison, curves)],
        bands=_season_bands(comparison),
        name_attribute="data-arm",
    )


def quality_plot(comparison: Comparison, tolerance: float | None) -> str:
    """Each arm's production model's ranking quality (AUC on realised churn) over time,
    against a model refit on the world of the day, with each arm's recoveries; empty when
    the referee measured none."""
    curves = {
        name: tuple(Point(q["day"], q["auc"]) for q in getattr(r, "quality", None) or [])
        for name, r in comparison.arms.items()
    }
    if not any(curves.values()):
        return ""
    measured: list[dict[str, Any]] = next(
        (q for r in reversed(comparison.arms.values()) if (q := getattr(r, "quality", None))), []
    )
    oracle = tuple(
        Point(q["day"], q["oracle_auc"]) for q in measured if q.get("oracle_auc") is not None
    )
    series = [Series(name, points, name) for name, points in curves.items() if points]
    series.append(Series("refit", oracle, "oracle"))
    if tolerance is not None and oracle:
        series.append(
            Series(
                "refit - tolerance", tuple(Point(p.x, p.y - tolerance) for p in oracle), "tolerance"
            )
        )
    values = [p.y for one in series for p in one.points]
    return standalone_chart(
        "Ranking quality of each arm's production model",
        series,
        inks=INKS,
        frame=_frame(
            comparison,
            domain(values, pad=0.1),
            y_format=lambda v: f"{v:.3g}",
            y_label="AUC on realised churn (0.5: chance, 1: perfect ranking)",
        ),
        markers=[
            *_shock_markers(comparison),
            *_arm_events(comparison, curves, recoveries_only=True),
        ],
        bands=_season_bands(comparison),
        name_attribute="data-arm",
    )


def levels_plot(comparison: Comparison) -> str:
    """The worst level of the negentropic arm's daily runs each week (0 ok … 3 critical)."""
    weeks = comparison.arms["negentropic"].weeks
    points = tuple(
        Point(w["day"] + 7, LEVELS.get(w["level"], 1), f"week of day {w['day']}: {w['level']}")
        for w in weeks
        if w.get("level")
    )
    return standalone_chart(
        "Worst check level of the negentropic arm's daily runs, each week",
        [Series("worst level", points, "level")],
        inks=INKS,
        frame=_frame(
            comparison,
            (-0.3, 3.3),
            y_ticks=[(rank, level.split("_")[0]) for level, rank in LEVELS.items()],
            y_label="worst monitoring level",
        ),
        markers=_shock_markers(comparison),
        bands=_season_bands(comparison),
    )


def _cells(arm: dict[str, Any]) -> dict[str, str]:
    """An arm's summary as the table prints it, by key (value figures flattened)."""
    cells: dict[str, str] = {}
    for key, value in arm.items():
        if key == "promotions":
            cells.update(promotion_cells(value))
        elif key == "value" and isinstance(value, dict):
            cells.update({k: shown(value.get(k)) for k in VALUE_LABELS if k in value})
        elif key == "correlation_interval" and value:
            cells[key] = f"[{shown(value[0])}, {shown(value[1])}]"
        elif key in ("shocks", "quality"):
            continue
        elif key == "retention_rate" and isinstance(value, float):
            cells[key] = f"{value:.4f}"
        else:
            cells[key] = shown(value)
    return cells


def _table(comparison: Comparison) -> str:
    summary = comparison.to_dict()
    cells = {arm: _cells(summary[arm]) for arm in comparison.arms}
    keys = list(dict.fromkeys(k for arm in cells.values() for k in arm))
    labels = {**ROW_LABELS, **VALUE_LABELS}
    rows = "".join(
        f"<tr><th>{html.escape(labels.get(key, key.replace('_', ' ')))}</th>"
        + "".join(f"<td>{html.escape(cells[arm].get(key, '—'))}</td>" for arm in comparison.arms)
        + "</tr>"
        for key in keys
    )
    head = "".join(f"<th>{html.escape(arm)}</th>" for arm in comparison.arms)
    return f'<table class="summary"><tr><th>measured</th>{head}</tr>{rows}</table>'


def _after(shock: dict[str, Any], day_key: str, delay_key: str, never: str) -> str:
    """`N days (day D)` for an arm's detection or recovery of a shock: N days after it
    started, on day D; `never` when it did not happen."""
    day = shock.get(day_key)
    if day is None:
        return never
    delay = shock.get(delay_key)
    unit = "day" if delay == 1 else "days"
    return f"{shown(delay)} {unit} (day {shown(day)})"


BY_CHARS = 60
"""What detected a shock is cut to this many characters in the table (whole as tooltip)."""


def _shock_cells(shock: dict[str, Any]) -> str:
    """An arm's two cells of a shock: detected (after how long, by what) and recovered."""
    if not shock:
        return "<td>not measured</td><td>not measured</td>"
    by = " ".join(str(shock.get("detected_by") or "").split())
    short = by if len(by) <= BY_CHARS else by[: BY_CHARS - 1].rstrip() + "…"
    by_text = (
        f'<br><small title="{html.escape(by, quote=True)}">by {html.escape(short)}</small>'
        if by
        else ""
    )
    detected = _after(shock, "detected_day", "detection_delay_days", "not detected")
    recovered = _after(shock, "recovered_day", "recovery_days", "not recovered")
    return (
        f'<td><span class="figure">{html.escape(detected)}</span>{by_text}</td>'
        f'<td><span class="figure">{html.escape(recovered)}</span></td>'
    )


def _shock_table(comparison: Comparison) -> str:
    """A row per shock: its start, its physical floor, and each arm's detection and recovery
    (the referee's figures), in days after the shock started."""
    dated = _dates(_start(comparison))
    found = {
        arm: {(s["kind"], s["day"]): s for s in arm_shocks(result)}
        for arm, result in comparison.arms.items()
    }
    if not any(found.values()):
        return "<p>The referee's per-shock figures are not in this comparison.</p>"
    arms = list(comparison.arms)
    head = (
        '<thead><tr><th rowspan="2">shock</th><th rowspan="2">started</th>'
        '<th rowspan="2">recovery floor</th>'
        + "".join(f'<th colspan="2" class="arm">{html.escape(arm)}</th>' for arm in arms)
        + "</tr><tr>"
        + "<th>detected after</th><th>recovered after</th>" * len(arms)
        + "</tr></thead>"
    )
    rows = []
    for shock in comparison.world["shocks"]:
        key = (shock["kind"], shock["day"])
        figures = [found[arm].get(key, {}) for arm in arms]
        floor = shock.get("floor_days", next((f.get("floor_days") for f in figures if f), None))
        floor_text = "—" if floor is None else f"{shown(floor)} days"
        rows.append(
            f'<tr data-shock="{html.escape(shock["kind"], quote=True)}">'
            f"<th>{html.escape(shock['kind'])}</th>"
            f'<td><span class="figure">{dated(shock["day"])}</span><br><small>day '
            f"{shock['day']}</small></td>"
            f"<td>{floor_text}</td>{''.join(_shock_cells(one) for one in figures)}</tr>"
        )
    return f'<table class="shocks">{head}<tbody>{"".join(rows)}</tbody></table>'


def _value_table(comparison: Comparison) -> str:
    """Each arm's models with the days each served and the revenue it kept (when measured)."""
    rows = []
    for arm, figures in comparison.to_dict().items():
        if arm not in comparison.arms or not isinstance(figures.get("value"), dict):
            continue
        for model in figures["value"].get("per_model") or []:
            rows.append(
                f"<tr><td>{html.escape(arm)}</td><td>{shown(model.get('version'))}</td>"
                f"<td>{shown(model.get('days_served'))}</td>"
                f"<td>{shown(model.get('revenue_kept'))}</td></tr>"
            )
    if not rows:
        return ""
    return (
        "<h2>Value per model</h2><p>Monthly revenue kept against the same world lived with no "
        "model, by the model that served it.</p><table><tr><th>arm</th><th>version</th>"
        f"<th>days served</th><th>revenue kept</th></tr>{''.join(rows)}</table>"
    )


def _detection(comparison: Comparison) -> str:
    """Each shock: its first day, the first daily run that flagged it and the delay."""
    rows = "".join(
        f"<tr><td>{html.escape(d['shock'])}</td><td>{d['start_day']}</td>"
        f"<td>{shown(d['first_flagged_day'])}</td><td>{shown(d['delay_days'])}</td>"
        f"<td>{html.escape(', '.join(d['checks']))}</td>"
        f"<td>{shown(d['attributed_delay_days'])}</td></tr>"
        for d in comparison.to_dict()["detection"]
    )
    return (
        "<table><tr><th>shock</th><th>first day</th><th>first flagged</th><th>delay (days)</th>"
        f"<th>checks</th><th>delay by a check of a changed column</th></tr>{rows}</table>"
    )


def _world(comparison: Comparison) -> str:
    world, dated = comparison.world, _dates(_start(comparison))
    shocks = "".join(
        f"<li>{dated(s['day'])} (day {s['day']}), <b>{html.escape(s['kind'])}</b>: "
        f"{html.escape(s['description'])}</li>"
        for s in world["shocks"]
    )
    seasons = "".join(
        f"<li>{dated(s['day'])} (day {s['day']}), {s.get('duration_days') or 1} days, "
        f"<b>seasonal peak — not a shock</b>: {html.escape(s.get('description', ''))}</li>"
        for s in world.get("seasons") or []
    )
    churn = world.get("monthly_churn_pct")
    churn_text = f", monthly churn before any shock {churn:.3g} %" if churn is not None else ""
    return (
        f"<p>{world['customers']:,} customers, {world['days']} days ({dated(0)} to "
        f"{dated(int(world['days']) - 1)}), seed {world['seed']}{churn_text}; wall time "
        f"{comparison.wall_seconds:.0f} s. Every figure is measured from each arm's own stores "
        "and event log by the same code; the referee used the shock days below only to "
        f"measure delays and recoveries.</p><ul>{shocks}{seasons}</ul>"
    )


STYLE = """body{font-family:sans-serif;margin:2em;max-width:80em;color:#222}
td,th{padding:3px 10px;text-align:left;vertical-align:top}table{border-collapse:collapse;
margin:.5em 0 1.5em}tr:nth-child(even){background:#f3f3f3}
table.summary td,table.summary tr:first-child th+th{text-align:right}
table.shocks th.arm{text-align:center;border-bottom:1px solid #999}
thead th{vertical-align:bottom;background:#fff}.figure{white-space:nowrap}
.plot{border:1px solid #ddd;margin:.5em 0 1.5em;max-width:100%;height:auto}"""


def write_report(comparison: Comparison, path: Path) -> Path:
    """Write the report to `path` (HTML, no external asset)."""
    rules = comparison.to_dict().get("referee") or {}
    quality = quality_plot(comparison, rules.get("tolerance_auc"))
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Lucid — entropic vs negentropic</title>
<style>{STYLE}</style></head><body>
<h1>The same churn world, two architectures</h1>
{_world(comparison)}
<h2>Figures</h2>{_table(comparison)}
<h2>Business metric over time</h2>{retention_plot(comparison)}
<h2>Each shock: detection and recovery, per arm</h2>
<p>Days are simulated days (day 0 = {_dates(_start(comparison))(0)}). The floor is the physical
minimum of a recovery: a shock that changes how behaviour relates to churn cannot be learnt before
its labels exist (the label horizon).</p>
{_shock_table(comparison)}
{"<h2>Ranking quality of the production models</h2>" + quality if quality else ""}
{_value_table(comparison)}
<h2>Drift checks (negentropic arm)</h2>{levels_plot(comparison)}
<h2>Detection of each shock (negentropic arm, daily runs)</h2>{_detection(comparison)}
</body></html>
"""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path
