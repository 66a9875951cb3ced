"""The comparison's HTML report: one self-contained page, plots drawn as inline SVG.

Plots: each arm's weekly retention with the shocks marked (dashed) and the negentropic arm's
detections (incident opened) and recoveries (checks back in band) marked; the negentropic
arm's worst monitoring level each week (its runs are daily); and the detection of each shock.
Nothing is fetched from a network.
"""

from __future__ import annotations

import html
from datetime import datetime
from pathlib import Path
from typing import Any

from lucid.charts import Ink, Marker, Point, Series, standalone_chart
from lucid.contracts.events import parse_time
from lucid.scenarios.churn.comparison import Comparison, promotion_cells, shown

INKS = {
    "entropic": Ink("#c0392b", width=1.5),
    "negentropic": Ink("#1f77b4", width=1.5),
    "level": Ink("#1f77b4"),
    "shock": Ink("#888", dashed=True),
    "detection": Ink("#e67e22"),
    "recovery": Ink("#27ae60"),
}
LEVELS = {"ok": 0, "insufficient_data": 1, "warning": 2, "critical": 3}


def _day(text: str | None, start: datetime) -> float | None:
    if not text:
        return None
    moment = parse_time(text).replace(tzinfo=None)
    return (moment - start).total_seconds() / 86_400


def _shocks(comparison: Comparison) -> list[Marker]:
    return [Marker(s["description"], s["day"], "shock") for s in comparison.world["shocks"]]


def _week_ends(weeks: list[dict[str, Any]], value: str, kind: str, name: str = "") -> Series:
    """A series of one weekly figure, each point at the end of its week (day + 7)."""
    return Series(name, tuple(Point(w["day"] + 7, w[value]) for w in weeks), kind)


def retention_plot(comparison: Comparison) -> str:
    """Weekly retention (share of the week's customers still paying at its end) per arm."""
    days = int(comparison.world["days"])
    values = [w["retention"] for r in comparison.arms.values() for w in r.weeks]
    low, high = min(values, default=0.9), max(values, default=1.0)
    markers = _shocks(comparison)
    start = datetime.fromisoformat(str(comparison.world["start"]))
    for incident in comparison.arms["negentropic"].incidents:
        opened = _day(incident.get("opened_at"), start)
        if opened is not None:
            markers.append(Marker("incident opened", opened, "detection"))
        recovered = _day(incident.get("recovered_at"), start)
        if recovered is not None:
            markers.append(Marker("checks back in band", recovered, "recovery"))
    return standalone_chart(
        f"weekly retention ({low:.3f} – {high:.3f}); red: entropic, blue: negentropic; dashed "
        "grey: shocks, orange: detections, green: recoveries",
        [_week_ends(r.weeks, "retention", name, name) for name, r in comparison.arms.items()],
        inks=INKS,
        x_domain=(0, max(days, 1)),
        y_domain=(low, high if high > low else low + 1.0),
        markers=markers,
        name_attribute="data-arm",
    )


def levels_plot(comparison: Comparison) -> str:
    """The worst level of the negentropic arm's daily runs each week (0 ok … 3 critical)."""
    days = int(comparison.world["days"])
    weeks = [
        {**w, "rank": LEVELS.get(w["level"], 1)}
        for w in comparison.arms["negentropic"].weeks
        if w.get("level")
    ]
    return standalone_chart(
        "worst check level of the week's daily runs",
        [_week_ends(weeks, "rank", "level")],
        inks=INKS,
        x_domain=(0, max(days, 1)),
        y_domain=(0, 3),
        markers=_shocks(comparison),
        y_labels=[(rank, level[:12]) for level, rank in LEVELS.items()],
    )


def _table(comparison: Comparison) -> str:
    summary = comparison.to_dict()
    cells = {
        arm: {
            **{key: shown(value) for key, value in summary[arm].items() if key != "promotions"},
            **promotion_cells(summary[arm]["promotions"]),
        }
        for arm in comparison.arms
    }
    keys = list(cells["entropic"])
    rows = "".join(
        f"<tr><th>{html.escape(key)}</th>"
        + "".join(f"<td>{html.escape(cells[arm][key])}</td>" for arm in comparison.arms)
        + "</tr>"
        for key in keys
    )
    head = "".join(f"<th>{html.escape(arm)}</th>" for arm in comparison.arms)
    return f"<table><tr><th>measured</th>{head}</tr>{rows}</table>"


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


def write_report(comparison: Comparison, path: Path) -> Path:
    """Write the report to `path` (HTML, no external asset)."""
    world = comparison.world
    shocks = "".join(
        f"<li>day {s['day']}: {html.escape(s['description'])}</li>" for s in world["shocks"]
    )
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Lucid — entropic vs negentropic</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:60em}}td,th{{padding:2px 10px;
text-align:left}}table{{border-collapse:collapse}}tr:nth-child(even){{background:#f3f3f3}}
.plot{{border:1px solid #ddd;margin:1em 0}}</style></head><body>
<h1>The same churn world, two architectures</h1>
<p>{world["customers"]:,} customers, {world["days"]} days, seed {world["seed"]};
wall time {comparison.wall_seconds:.0f} s. Every figure is measured from each arm's own stores and
event log by the same scorecard code; the shock days below were used only to measure delays.</p>
<ul>{shocks}</ul>
{_table(comparison)}
<h2>Business metric over time</h2>{retention_plot(comparison)}
<h2>Drift checks (negentropic arm)</h2>{levels_plot(comparison)}
<h2>Detection of each shock (negentropic arm, daily runs)</h2>{_detection(comparison)}
</body></html>
"""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path
