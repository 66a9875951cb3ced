"""What each dashboard page shows, read from a `Lucid` handle into plain dicts and SVG charts.

Nothing here writes and nothing renders HTML beyond the charts: the templates lay the dicts
out, `lucid.dashboard.pages` decides who may act on them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from lucid.bootstrap import Lucid
from lucid.charts import (
    Bar,
    Interval,
    Marker,
    Point,
    ReferenceLine,
    Series,
    bar_chart,
    interval_chart,
    line_chart,
)
from lucid.contracts.periods import PERIODS
from lucid.contracts.scorecard import SCORECARD_LABELS
from lucid.contracts.semantic import Status
from lucid.contracts.validity.change_detection import NEVER_CRITICAL
from lucid.contracts.value import Stage
from lucid.dashboard.details import srm_verdict
from lucid.dashboard.model_charts import (
    LEGEND,
    axis_bounds,
    change_markers,
    contract_chart,
    incident_markers,
    seconds,
    served_when,
)
from lucid.dashboard.moments import readable
from lucid.errors import LucidError


def overview(lucid: Lucid) -> dict[str, Any]:
    """The scorecard, counts across the three contracts, the chain's state, latest events."""
    definitions = lucid.features.definitions()
    models = lucid.registry.list_models()
    card = lucid.loop.scorecard().to_dict()
    latest = lucid.events.head()
    after = max(0, (latest.seq if latest else 0) - 20)
    experiments = lucid.experiments.overview()
    return {
        "scorecard": [
            {"key": key, "label": SCORECARD_LABELS.get(key, key), "value": value}
            for key, value in card.items()
        ],
        "approved": sum(1 for g in definitions if g.status is Status.APPROVED),
        "proposed": sum(1 for g in definitions if g.status is Status.PROPOSED),
        "contradictions": card["contradictory_definitions"] or 0,
        "models": len(models),
        "production": sum(1 for m in models if m.production is not None),
        "frozen": sum(1 for m in models if m.frozen_reason is not None),
        "running_experiments": sum(1 for e in experiments if e["status"] == "running"),
        "open_alerts": sum(1 for a in lucid.monitoring.alerts() if a.acknowledged_at is None),
        "chain": lucid.anchor.verify(),
        "events": list(reversed(lucid.events.read(after=after, limit=20))),
    }


def features(lucid: Lucid) -> dict[str, Any]:
    """Every definition with its versions, owner, approvals and missing teams; the audit."""
    rows = [
        {
            **governed.definition.to_dict(),
            "ref": f"{governed.definition.name}@{governed.definition.version}",
            "status": governed.status.value,
            "proposed_by": governed.proposed_by,
            "approvals": [{"team": a.team, "person": a.person} for a in governed.approvals],
            "missing_teams": list(governed.missing_teams),
        }
        for governed in lucid.features.definitions()
    ]
    return {"features": rows, "audit": lucid.features.audit().to_dict()}


def models(lucid: Lucid, period: str = "month") -> dict[str, Any]:
    """Every model with the contract of the version in production (of its latest version when
    none serves); each model's production promotions per `period`."""
    shares = lucid.registry.override_shares(period)
    rows = []
    for summary in lucid.registry.list_models():
        shown = lucid.registry.production_version(summary.name) or lucid.registry.get_version(
            summary.name
        )
        rows.append(
            {**summary.to_dict(), "contract": shown.impact.to_dict(), "contract_of": shown.version}
        )
    return {
        "models": rows,
        "period": shares.period,
        "periods": PERIODS,
        "promotions": [row.to_dict() for row in shares.rows],
        "overall": shares.overall.to_dict(),
    }


def model(lucid: Lucid, name: str) -> dict[str, Any]:
    """One model: versions with contract, stage and evidence; its history and evaluations; the
    contract chart."""
    versions = lucid.registry.versions(name)
    summary = next(s for s in lucid.registry.list_models() if s.name == name)
    serving = lucid.registry.production_version(name)
    contract = (serving or versions[-1]).impact
    history = lucid.registry.history(name)
    observations = lucid.registry.observations(name)
    evaluations = [
        {
            "at": e.occurred_at,
            "actor": e.actor,
            "rationale": e.rationale,
            "verdict": e.payload.get("verdict"),
            "version": e.payload.get("version"),
        }
        for e in lucid.events.read(type="ModelEvaluated", subject=f"model:{name}", limit=1000)
    ]
    return {
        "name": name,
        "summary": summary.to_dict(),
        "contract": contract.to_dict(),
        "versions": [v.to_dict() for v in versions],
        "candidates": [
            v.version
            for v in versions
            if v.stage in (Stage.CANDIDATE, Stage.CHALLENGER) and not v.rolled_back
        ],
        "history": [entry.to_dict() for entry in history.entries],
        "observations": [vars(o) for o in observations],
        "evaluations": evaluations,
        "chart": contract_chart(
            name,
            contract,
            {v.version: v.impact for v in versions},
            history,
            observations,
            incident_markers(lucid, name),
        ),
        **served_when(lucid, name, history),
    }


def monitoring_models(lucid: Lucid) -> dict[str, Any]:
    names = sorted({*lucid.monitoring.models(), *(m.name for m in lucid.registry.list_models())})
    rows = []
    for name in names:
        runs = lucid.monitoring.store.runs(name, limit=1)
        rows.append(
            {
                "name": name,
                "policy": "stored" if name in lucid.monitoring.models() else "default",
                "last_window": runs[-1].window if runs else None,
                "last_level": runs[-1].level if runs else None,
                "open_alerts": sum(
                    1 for a in lucid.monitoring.alerts(name) if a.acknowledged_at is None
                ),
            }
        )
    return {"models": rows}


def monitoring(lucid: Lucid, name: str) -> dict[str, Any]:
    """A model's policy, one chart per check (its value per run against its warning and
    critical thresholds, each point coloured by its level, entries into production, rollbacks
    and incidents marked) with, for a drift check, the bins or categories that moved most in
    its latest measured run; alerts and incidents."""
    policy = lucid.monitoring.policy(name)
    runs = lucid.monitoring.store.runs(name)
    groups: dict[tuple[str, str | None, str | None], list[tuple[str, dict[str, Any]]]] = (
        defaultdict(list)
    )
    for run in runs:
        for check in run.checks:
            key = (check["threshold"], check["feature"], check["segment"])
            groups[key].append((run.window, check))
    try:
        changes = change_markers(lucid.registry.history(name))
    except LucidError:
        changes = []
    marks = [*changes, *incident_markers(lucid, name)]
    charts = []
    for index, ((threshold, feature, segment), seen) in enumerate(groups.items()):
        latest = seen[-1][1]
        points = tuple(
            Point(
                seconds(window.split("/")[0]),
                float(check["value"]),
                f"{readable(window)}: {check['value']:.4g} ({check['level']})",
                check["level"],
            )
            for window, check in seen
            if check["value"] is not None
        )
        title = threshold + (f" — {segment}" if segment and segment not in threshold else "")
        charts.append(
            {
                "title": title,
                "feature": feature if feature and feature not in threshold else None,
                "unmeasured": len(seen) - len(points),
                "svg": line_chart(
                    title,
                    [Series(latest["metric"], points)],
                    lines=[
                        ReferenceLine("warning", float(latest["warning"]), "warning"),
                        ReferenceLine("critical", float(latest["critical"]), "critical"),
                    ][: 1 if latest["critical"] == NEVER_CRITICAL else 2],  # cusum: no critical
                    markers=_within(marks, points),
                    x_time=True,
                    y_label=latest["metric"],
                    y_bounds=axis_bounds(str(latest["metric"])),
                    legend=LEGEND,
                    chart_id=f"check-{index}",
                ),
                "drill": _drill_down(title, seen, index),
            }
        )
    return {
        "name": name,
        "policy": policy.to_mapping(),
        "stored_policy": name in lucid.monitoring.models(),
        "runs": [run.to_dict() for run in reversed(runs)],
        "charts": charts,
        "alerts": [a.to_dict() for a in reversed(lucid.monitoring.alerts(name))],
        "incidents": [i.to_dict() for i in lucid.monitoring.incidents(name)],
    }


def _within(markers: Sequence[Marker], points: Sequence[Point]) -> list[Marker]:
    """The markers inside the span of `points` (a day's margin either side), so a deployment
    long before the first run does not squeeze the runs into a corner."""
    if not points:
        return []
    low, high = min(p.x for p in points) - 86400, max(p.x for p in points) + 86400
    return [m for m in markers if low <= m.x <= high]


def _drill_down(
    title: str, seen: Sequence[tuple[str, dict[str, Any]]], index: int
) -> dict[str, Any] | None:
    """For a drift check, its latest run's bins or categories that moved most (as the run
    stored them): their reference and current shares as a bar chart, the one that moved most
    first, and each one's rows and term of PSI."""
    for window, check in reversed(seen):
        moved = (check.get("details") or {}).get("moved") or []
        if not moved:
            continue
        bars = [
            Bar(
                str(item["bin"]),
                (float(item["reference_share"]), float(item["current_share"])),
                "moved-most" if rank == 0 else "",
                f"{item['bin']}: {item['reference_rows']} → {item['current_rows']} rows, "
                f"PSI term {item['contribution']:.3g}",
            )
            for rank, item in enumerate(moved)
        ]
        return {
            "window": window,
            "day": window.split("/")[0][:10],
            "level": check["level"],
            "moved": moved,
            "svg": bar_chart(
                f"{title}: reference vs current share, run of {window.split('/')[0][:10]}",
                bars,
                groups=("reference", "current"),
                y_label="share of rows",
                chart_id=f"drill-{index}",
            ),
        }
    return None


def experiments(lucid: Lucid) -> dict[str, Any]:
    """Every experiment with its status, SRM verdict and effect; the effects with their
    confidence intervals as one chart."""
    rows, intervals = [], []
    for found in lucid.experiments.overview():
        row: dict[str, Any] = {**found, "analysis": None, "error": None}
        try:
            analysis = lucid.experiments.status(found["id"])
        except LucidError as error:
            row["error"] = error.sentence
        else:
            row["analysis"] = analysis.to_dict()
            row["srm"], row["srm_class"] = srm_verdict(row["analysis"])
            if analysis.test is not None:
                test = analysis.test
                significant = test.ci_low > 0 or test.ci_high < 0
                intervals.append(
                    Interval(
                        found["id"],
                        test.effect,
                        test.ci_low,
                        test.ci_high,
                        "significant" if significant else "",
                    )
                )
        rows.append(row)
    chart = interval_chart(
        "Challenger minus control, with its confidence interval",
        intervals,
        x_label="effect on the contract's metric (challenger − control)",
        chart_id="effects-chart",
    )
    return {"experiments": rows, "chart": chart}


def events(lucid: Lucid, after: int, event_type: str | None, limit: int = 100) -> dict[str, Any]:
    page = lucid.events.read(after=after, limit=limit, type=event_type or None)
    head = lucid.events.head()
    return {
        "events": page,
        "after": after,
        "type": event_type or "",
        "limit": limit,
        "next_cursor": page[-1].seq if len(page) == limit else None,
        "previous_cursor": max(0, after - limit) if after > 0 else None,
        "latest_cursor": max(0, (head.seq if head else 0) - limit),
    }
