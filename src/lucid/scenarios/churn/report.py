"""The comparison's HTML report: one self-contained page, plots drawn as inline SVG.

Plots: each arm's weekly retention with the shocks marked (dashed) and the negentropic arm's
detections (incident opened) and recoveries (checks back in band) marked; and the negentropic
arm's weekly monitoring level. Nothing is fetched from a network.
"""

from __future__ import annotations

import html
from datetime import datetime
from pathlib import Path

from lucid.contracts.events import parse_time
from lucid.scenarios.churn.comparison import Comparison, shown

WIDTH, HEIGHT, PAD = 760, 260, 40
COLOURS = {"entropic": "#c0392b", "negentropic": "#1f77b4"}
LEVELS = {"ok": 0, "insufficient_data": 1, "warning": 2, "critical": 3}


def _x(day: float, days: int) -> float:
    return PAD + (WIDTH - 2 * PAD) * day / max(days, 1)


def _y(value: float, low: float, high: float) -> float:
    span = (high - low) or 1.0
    return HEIGHT - PAD - (HEIGHT - 2 * PAD) * (value - low) / span


def _day(text: str | None, start: datetime) -> float | None:
    if not text:
        return None
    moment = parse_time(text).replace(tzinfo=None)
    return (moment - start).total_seconds() / 86_400


def _marker(x: float, colour: str, label: str, dashed: bool = True) -> str:
    dash = ' stroke-dasharray="4 3"' if dashed else ""
    return (
        f'<line x1="{x:.1f}" y1="{PAD}" x2="{x:.1f}" y2="{HEIGHT - PAD}" stroke="{colour}"'
        f"{dash}><title>{html.escape(label)}</title></line>"
    )


def retention_plot(comparison: Comparison) -> str:
    """Weekly retention (share of the week's customers still paying at its end) per arm."""
    days = int(comparison.world["days"])
    values = [w["retention"] for r in comparison.arms.values() for w in r.weeks]
    low, high = min(values, default=0.9), max(values, default=1.0)
    parts = [f'<svg class="plot" width="{WIDTH}" height="{HEIGHT}" role="img">']
    parts.append(
        f'<text x="{PAD}" y="16">weekly retention ({low:.3f} – {high:.3f}); '
        "red: entropic, blue: negentropic; dashed grey: shocks, orange: detections, "
        "green: recoveries</text>"
    )
    for shock in comparison.world["shocks"]:
        parts.append(_marker(_x(shock["day"], days), "#888", shock["description"]))
    start = datetime.fromisoformat(str(comparison.world["start"]))
    for incident in comparison.arms["negentropic"].incidents:
        opened = _day(incident.get("opened_at"), start)
        if opened is not None:
            parts.append(_marker(_x(opened, days), "#e67e22", "incident opened", False))
        recovered = _day(incident.get("recovered_at"), start)
        if recovered is not None:
            parts.append(_marker(_x(recovered, days), "#27ae60", "checks back in band", False))
    for name, result in comparison.arms.items():
        points = " ".join(
            f"{_x(w['day'] + 7, days):.1f},{_y(w['retention'], low, high):.1f}"
            for w in result.weeks
        )
        parts.append(
            f'<polyline class="series" data-arm="{name}" fill="none" stroke="{COLOURS[name]}" '
            f'stroke-width="1.5" points="{points}"/>'
        )
    parts.append("</svg>")
    return "".join(parts)


def levels_plot(comparison: Comparison) -> str:
    """The negentropic arm's worst monitoring level each week (0 ok … 3 critical)."""
    days = int(comparison.world["days"])
    weeks = [w for w in comparison.arms["negentropic"].weeks if w.get("level")]
    parts = [f'<svg class="plot" width="{WIDTH}" height="{HEIGHT}" role="img">']
    parts.append(f'<text x="{PAD}" y="16">worst check level per weekly run</text>')
    for level, rank in LEVELS.items():
        parts.append(f'<text x="2" y="{_y(rank, 0, 3) + 4:.1f}" font-size="10">{level[:12]}</text>')
    points = " ".join(
        f"{_x(w['day'] + 7, days):.1f},{_y(LEVELS.get(w['level'], 1), 0, 3):.1f}" for w in weeks
    )
    parts.append(f'<polyline class="series" fill="none" stroke="#1f77b4" points="{points}"/>')
    for shock in comparison.world["shocks"]:
        parts.append(_marker(_x(shock["day"], days), "#888", shock["description"]))
    parts.append("</svg>")
    return "".join(parts)


def _table(comparison: Comparison) -> str:
    summary = comparison.to_dict()
    keys = list(summary["entropic"])
    rows = "".join(
        f"<tr><th>{html.escape(key)}</th>"
        + "".join(f"<td>{html.escape(shown(summary[arm][key]))}</td>" for arm in comparison.arms)
        + "</tr>"
        for key in keys
    )
    head = "".join(f"<th>{html.escape(arm)}</th>" for arm in comparison.arms)
    return f"<table><tr><th>measured</th>{head}</tr>{rows}</table>"


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
</body></html>
"""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path
