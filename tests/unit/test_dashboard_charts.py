"""The dashboard's contract chart: each version's contract drawn over the span it served."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime

from lucid.charts.scales import RIGHT, WIDTH
from lucid.contracts.model_history import HistoryEntry, ModelHistory
from lucid.contracts.value import BusinessImpact, Direction
from lucid.dashboard.model_charts import contract_chart, served_spans

SVG = "{http://www.w3.org/2000/svg}"
T1, T2, T3 = (datetime(2026, 11, d, tzinfo=UTC) for d in (1, 5, 9))


def contract(target: float, rollback: float) -> BusinessImpact:
    return BusinessImpact(
        metric="retention_rate",
        direction=Direction.HIGHER,
        baseline=0.80,
        target=target,
        measurement_period="7d",
        rollback_threshold=rollback,
        rationale="keep customers",
    )


def entry(at: datetime, kind: str, before: int | None, after: int | None) -> HistoryEntry:
    return HistoryEntry(at, kind, before, after, False, "bea", "why", kind, 1)


HISTORY = ModelHistory(
    "churn",
    (
        entry(T1, "promotion", None, 1),
        entry(T2, "promotion", 1, 2),
        entry(T3, "rollback", 2, 1),
    ),
)


def test_each_serving_span_ends_where_the_next_one_starts() -> None:
    assert served_spans(HISTORY) == [
        (1, T1.timestamp(), T2.timestamp()),
        (2, T2.timestamp(), T3.timestamp()),
        (1, T3.timestamp(), None),
    ]


def test_each_version_s_contract_lines_cover_only_the_span_it_served() -> None:
    contracts = {1: contract(0.82, 0.78), 2: contract(0.85, 0.79)}
    svg = contract_chart("churn", contracts[1], contracts, HISTORY, [], [])
    lines = [
        e
        for e in ET.fromstring(svg).iter(SVG + "line")
        if "reference" in (e.get("class") or "").split()
    ]
    targets = [
        (e.get("data-label"), float(e.get("data-value") or "nan"), e.get("data-start"))
        for e in lines
        if "target" in (e.get("class") or "")
    ]
    assert targets == [
        ("v1 target", 0.82, repr(T1.timestamp())),
        ("v2 target", 0.85, repr(T2.timestamp())),
        ("v1 target", 0.82, repr(T3.timestamp())),
    ]
    [v2] = [e for e in lines if e.get("data-label") == "v2 rollback"]
    assert v2.get("data-end") == repr(T3.timestamp())
    assert float(v2.get("x2") or "nan") < WIDTH - RIGHT  # ends at the rollback, not the edge
