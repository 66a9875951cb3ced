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
    Span,
    bar_chart,
    format_moment,
    interval_chart,
    line_chart,
    span_chart,
)
from lucid.contracts.events import parse_time
from lucid.contracts.model_history import ModelHistory, production_periods
from lucid.contracts.periods import PERIODS
from lucid.contracts.scorecard import SCORECARD_LABELS
from lucid.contracts.semantic import Status
from lucid.contracts.validity.change_detection import NEVER_CRITICAL
from lucid.contracts.value import BusinessImpact, Stage
from lucid.dashboard.details import srm_verdict
from lucid.dashboard.moments import readable
from lucid.errors import LucidError


def _seconds(text: str) -> float:
    return parse_time(text).timestamp()


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
        "chart": _contract_chart(
            name,
            contract,
            {v.version: v.impact for v in versions},
            history,
            observations,
            _incident_markers(lucid, name),
        ),
        **_served_when(lucid, name, history),
    }


def _served_when(lucid: Lucid, name: str, history: ModelHistory) -> dict[str, Any]:
    """Which version served production when: its periods, and them as a timeline."""
    periods = production_periods(history)
    now = lucid.clock().timestamp()
    spans = [
        Span(
            f"v{p.version}",
            p.start.timestamp(),
            p.end.timestamp() if p.end else max(now, p.start.timestamp()),
            f"v{p.version}: {format_moment(p.start.timestamp())} – "
            + (format_moment(p.end.timestamp()) if p.end else "now"),
            "serving" if p.end is None else "",
        )
        for p in periods
    ]
    return {
        "periods": [p.to_dict() for p in periods],
        "periods_chart": span_chart(
            f"{name}: which version served when", spans, chart_id="served-chart"
        ),
    }


LEGEND = {
    "marker:deployment": "entry into production",
    "marker:rollback": "rollback",
    "marker:incident": "incident opened",
    "line:rollback": "rollback threshold",
    "line:warning": "warning threshold",
    "line:critical": "critical threshold",
    "insufficient_data": "insufficient data",
}
"""The legend's names of the dashboard charts' kinds (the others are written as they are)."""


def _change_markers(history: ModelHistory) -> list[Marker]:
    """A marker per entry into production and per rollback, named by the version after it."""
    return [
        Marker(
            f"v{entry.serving_after} deployed" if entry.kind == "promotion" else "rollback",
            entry.at.timestamp(),
            "deployment" if entry.kind == "promotion" else "rollback",
            f"{entry.at:%Y-%m-%d %H:%M} {entry.kind}: {entry.detail}",
        )
        for entry in history.entries
        if entry.kind in ("promotion", "rollback")
    ]


def _incident_markers(lucid: Lucid, name: str) -> list[Marker]:
    """A marker per incident of the model, at the start of the window that opened it."""
    return [
        Marker(
            "incident",
            _seconds(incident.window_start),
            "incident",
            f"incident {incident.id} ({incident.level}, {incident.status}) opened "
            f"{readable(incident.opened_at)}",
        )
        for incident in lucid.monitoring.incidents(name)
    ]


def _served_spans(history: ModelHistory) -> list[tuple[int, float, float | None]]:
    """(version, from, until) for each span a version served production, in order; the last
    one open (None)."""
    spans: list[tuple[int, float, float | None]] = []
    for entry in history.entries:
        if entry.kind not in ("promotion", "rollback"):
            continue
        at = entry.at.timestamp()
        if spans and spans[-1][2] is None:
            spans[-1] = (spans[-1][0], spans[-1][1], at)
        if entry.serving_after is not None:
            spans.append((entry.serving_after, at, None))
    return spans


def _contract_lines(
    contract: BusinessImpact,
    contracts: dict[int, BusinessImpact],
    spans: Sequence[tuple[int, float, float | None]],
) -> list[ReferenceLine]:
    """Each serving version's target, baseline and rollback threshold over the span it
    served; with no version ever served, `contract`'s lines across the chart."""

    def three(
        impact: BusinessImpact, prefix: str, start: float | None, end: float | None
    ) -> list[ReferenceLine]:
        return [
            ReferenceLine(f"{prefix}target", impact.target, "target", start, end),
            ReferenceLine(f"{prefix}baseline", impact.baseline, "baseline", start, end),
            ReferenceLine(f"{prefix}rollback", impact.rollback_threshold, "rollback", start, end),
        ]

    if not spans:
        return three(contract, "", None, None)
    return [
        line
        for version, start, end in spans
        if contracts.get(version) is not None and contracts[version].metric == contract.metric
        for line in three(contracts[version], f"v{version} ", start, end)
    ]


def _contract_chart(
    name: str,
    contract: BusinessImpact,
    contracts: dict[int, BusinessImpact],
    history: ModelHistory,
    observations: Sequence[Any],
    incidents: Sequence[Marker],
) -> str:
    """The observations of the contract's metric, one series per version, against each
    serving version's baseline, target and rollback lines over the span it served; entries
    into production, rollbacks and incidents marked."""
    by_version: dict[int, list[Point]] = defaultdict(list)
    for seen in observations:
        if seen.metric == contract.metric:
            judged = contracts.get(seen.version, contract)
            by_version[seen.version].append(
                Point(
                    _seconds(seen.observed_at),
                    seen.value,
                    f"v{seen.version} {seen.metric} {seen.value:g} over {seen.period}",
                    "bad" if judged.should_rollback(seen.value) else "",
                )
            )
    return line_chart(
        f"{name}: {contract.metric} against its contract",
        [Series(f"v{v}", tuple(points), f"v{v}") for v, points in sorted(by_version.items())],
        lines=_contract_lines(contract, contracts, _served_spans(history)),
        markers=[*_change_markers(history), *incidents],
        x_time=True,
        y_label=f"{contract.metric} ({contract.direction.value} is better)",
        y_bounds=_bounds(contract.metric),
        legend={**LEGEND, "bad": "past the rollback threshold"},
        chart_id="contract-chart",
    )


def _bounds(metric: str) -> tuple[float | None, float | None]:
    """The values `metric` can take, for its axis: shares, rates and probabilities lie in
    [0, 1]; anything else is left to its values (never below 0 when none is)."""
    words = metric.lower()
    if any(w in words for w in ("pvalue", "p_value", "rate", "share", "auc", "accuracy")):
        return 0.0, 1.0
    return None, None


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
        changes = _change_markers(lucid.registry.history(name))
    except LucidError:
        changes = []
    marks = [*changes, *_incident_markers(lucid, name)]
    charts = []
    for index, ((threshold, feature, segment), seen) in enumerate(groups.items()):
        latest = seen[-1][1]
        points = tuple(
            Point(
                _seconds(window.split("/")[0]),
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
                    y_bounds=_bounds(str(latest["metric"])),
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
