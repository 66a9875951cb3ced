"""The charts of a model's dashboard pages: its contract over time, which version served when,
and the markers of its deployments, rollbacks and incidents."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from lucid.bootstrap import Lucid
from lucid.charts import (
    Marker,
    Point,
    ReferenceLine,
    Series,
    Span,
    format_moment,
    line_chart,
    span_chart,
)
from lucid.contracts.events import parse_time
from lucid.contracts.model_history import ModelHistory, production_periods
from lucid.contracts.value import BusinessImpact
from lucid.dashboard.moments import readable


def seconds(text: str) -> float:
    """ISO time text as POSIX seconds (a chart's x)."""
    return parse_time(text).timestamp()


def served_when(lucid: Lucid, name: str, history: ModelHistory) -> dict[str, Any]:
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


def change_markers(history: ModelHistory) -> list[Marker]:
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


def incident_markers(lucid: Lucid, name: str) -> list[Marker]:
    """A marker per incident of the model, at the start of the window that opened it."""
    return [
        Marker(
            "incident",
            seconds(incident.window_start),
            "incident",
            f"incident {incident.id} ({incident.level}, {incident.status}) opened "
            f"{readable(incident.opened_at)}",
        )
        for incident in lucid.monitoring.incidents(name)
    ]


def served_spans(history: ModelHistory) -> list[tuple[int, float, float | None]]:
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


def contract_chart(
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
                    seconds(seen.observed_at),
                    seen.value,
                    f"v{seen.version} {seen.metric} {seen.value:g} over {seen.period}",
                    "bad" if judged.should_rollback(seen.value) else "",
                )
            )
    return line_chart(
        f"{name}: {contract.metric} against its contract",
        [Series(f"v{v}", tuple(points), f"v{v}") for v, points in sorted(by_version.items())],
        lines=_contract_lines(contract, contracts, served_spans(history)),
        markers=[*change_markers(history), *incidents],
        x_time=True,
        y_label=f"{contract.metric} ({contract.direction.value} is better)",
        y_bounds=axis_bounds(contract.metric),
        legend={**LEGEND, "bad": "past the rollback threshold"},
        chart_id="contract-chart",
    )


def axis_bounds(metric: str) -> tuple[float | None, float | None]:
    """The values `metric` can take, for its axis: shares, rates and probabilities lie in
    [0, 1]; anything else is left to its values (never below 0 when none is)."""
    words = metric.lower()
    if any(w in words for w in ("pvalue", "p_value", "rate", "share", "auc", "accuracy")):
        return 0.0, 1.0
    return None, None
