"""The detail pages' pure parts: which version served when, folded from a model's history;
the estimate-over-time chart and the served-when timeline, with their axes."""

from __future__ import annotations

from datetime import UTC, datetime

from lucid.charts import Look, Span, band_chart, format_day, span_chart
from lucid.contracts.model_history import HistoryEntry, ModelHistory, production_periods


def entry(day: int, kind: str, before: int | None, after: int | None) -> HistoryEntry:
    moment = datetime(2026, 1, day, tzinfo=UTC)
    return HistoryEntry(moment, kind, before, after, False, "ana", "why", "", day)


def test_each_change_of_the_serving_version_opens_a_period_and_closes_the_last() -> None:
    history = ModelHistory(
        "churn",
        (
            entry(1, "promotion", None, 1),
            entry(2, "evidence", 1, 1),  # no change of version: no period
            entry(3, "promotion", 1, 2),
            entry(5, "rollback", 2, 1),
        ),
    )
    periods = production_periods(history)
    assert [(p.version, p.start.day, p.end.day if p.end else None) for p in periods] == [
        (1, 1, 3),
        (2, 3, 5),
        (1, 5, None),
    ]
    assert [(p.entered_by, p.ended_by) for p in periods] == [
        ("promotion", "promotion"),
        ("promotion", "rollback"),
        ("rollback", None),
    ]
    assert production_periods(ModelHistory("churn", ())) == []


def test_the_band_chart_draws_each_look_inside_its_band_with_axes() -> None:
    day = 86_400.0
    svg = band_chart(
        "effect",
        [Look(2 * day, 0.02, -0.01, 0.05), Look(day, 0.01, -0.03, 0.05)],
        x_format=format_day,
    )
    assert '<g class="axis">' in svg and 'class="tick ' in svg
    assert svg.count('class="point"') == 2 and '<polygon class="band"' in svg
    assert svg.index('data-x="86400.0"') < svg.index('data-x="172800.0"')  # in x order
    assert "1970-01-02" in svg and 'data-value="0.0"' in svg  # a day tick, the zero line
    assert "no estimate yet" in band_chart("effect", [])


def test_the_span_chart_draws_one_bar_per_period_on_its_version_row() -> None:
    svg = span_chart("served", [Span("v1", 0, 10), Span("v2", 10, 20), Span("v1", 20, 30)])
    assert svg.count('<rect class="span"') == 3
    assert svg.count('class="tick y-tick row-label"') == 2  # one row per version
    assert 'class="tick x-tick"' in svg and '<g class="axis">' in svg
