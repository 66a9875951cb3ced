"""The override share folded from registry events: per model and period, evidence against
override, the origin of the evidence, and the tolerated shapes of older and newer events."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pytest

import lucid.contracts.registry_events  # noqa: F401  (registers the registry's event types)
from lucid.contracts.events import GENESIS_HASH, NewEvent, RecordedEvent, Subject, seal
from lucid.contracts.override_share import EVERY_MODEL, PromotionTally, tally_promotions
from lucid.contracts.periods import WHOLE_HISTORY, check_period, period_label
from lucid.errors import InvalidInput


class Log:
    """Events sealed in order, as the event log would store them."""

    def __init__(self) -> None:
        self.events: list[RecordedEvent] = []

    def add(self, kind: str, payload: Mapping[str, Any], at: datetime) -> None:
        new = NewEvent(kind, "ana", Subject("model", str(payload["name"])), payload, "r", at)
        prev = self.events[-1].hash if self.events else GENESIS_HASH
        seq = len(self.events) + 1
        self.events.append(seal(new, seq=seq, id=f"e{seq}", recorded_at=at, prev_hash=prev))

    def evidence(
        self, name: str, version: int, at: datetime, origin: str | None, **extra: Any
    ) -> None:
        record: dict[str, Any] = {"metric": "retention_rate", **extra}
        if origin is not None:
            record["origin"] = origin
        self.add("EvidenceAttached", {"name": name, "version": version, "evidence": record}, at)

    def promote(
        self, name: str, version: int, basis: str, at: datetime, to: str = "production", **more: Any
    ) -> None:
        payload = {
            "name": name,
            "version": version,
            "from_stage": "challenger",
            "to_stage": to,
            "basis": basis,
            "summary": "s",
            "replaced_version": None,
            **more,
        }
        if basis == "override":
            overridden = {"name": name, "version": version, "approver": "bea"}
            self.add("PromotionOverridden", {**overridden, "evidence_problem": "none"}, at)
        self.add("ModelPromoted", payload, at)


def day(month: int, date: int = 1, year: int = 2026) -> datetime:
    return datetime(year, month, date, 12, tzinfo=UTC)


def counts(row: PromotionTally) -> tuple[int, int, int, int, int]:
    return (
        row.promotions,
        row.by_evidence,
        row.by_override,
        row.evidence_lucid,
        row.evidence_external,
    )


def test_no_event_no_promotion_no_share() -> None:
    shares = tally_promotions([])
    assert shares.rows == () and shares.override_share_pct is None
    assert shares.overall == PromotionTally(EVERY_MODEL, WHOLE_HISTORY)
    assert shares.to_dict()["overall"]["override_share_pct"] is None


def test_each_model_and_month_counts_its_production_promotions_by_basis() -> None:
    log = Log()
    log.promote("churn", 1, "stage", day(1), to="challenger")  # not production: not counted
    log.evidence("churn", 1, day(1, 2), "lucid")
    log.promote("churn", 1, "evidence", day(1, 3))
    log.promote("churn", 2, "override", day(1, 20))
    log.promote("churn", 3, "override", day(3, 5))
    log.evidence("upsell", 1, day(3, 6), "external")
    log.promote("upsell", 1, "evidence", day(3, 7))
    shares = tally_promotions(log.events)
    assert [(r.model, r.period, counts(r)) for r in shares.rows] == [
        ("churn", "2026-01", (2, 1, 1, 1, 0)),
        ("churn", "2026-03", (1, 0, 1, 0, 0)),
        ("churn", "all", (3, 1, 2, 1, 0)),
        ("upsell", "2026-03", (1, 1, 0, 0, 1)),
        ("upsell", "all", (1, 1, 0, 0, 1)),
    ]
    assert counts(shares.overall) == (4, 2, 2, 1, 1)
    assert shares.override_share_pct == 50.0
    assert [r.override_share_pct for r in shares.of("churn")] == [50.0, 100.0, 200 / 3]
    assert shares.of("nothing") == ()
    row = shares.to_dict()["rows"][0]
    assert row == {
        "model": "churn",
        "period": "2026-01",
        "promotions": 2,
        "by_evidence": 1,
        "by_override": 1,
        "override_share_pct": 50.0,
        "evidence_lucid": 1,
        "evidence_external": 0,
        "evidence_unstated": 0,
    }


def test_periods_cut_by_quarter_and_year_and_months_sort_as_dates() -> None:
    log = Log()
    for month, basis in ((2, "evidence"), (11, "override"), (12, "evidence")):
        log.promote("churn", month, basis, day(month, year=2025))
    log.promote("churn", 20, "override", day(1, year=2026))
    monthly = tally_promotions(log.events, "month")
    assert [r.period for r in monthly.rows] == ["2025-02", "2025-11", "2025-12", "2026-01", "all"]
    quarterly = tally_promotions(log.events, "quarter")
    assert [(r.period, r.by_override) for r in quarterly.rows] == [
        ("2025-Q1", 0),
        ("2025-Q4", 1),
        ("2026-Q1", 1),
        ("all", 2),
    ]
    yearly = tally_promotions(log.events, "year")
    assert [(r.period, r.override_share_pct) for r in yearly.rows] == [
        ("2025", 100 / 3),
        ("2026", 100.0),
        ("all", 50.0),
    ]
    assert period_label(datetime(2026, 9, 30, 23, 59, tzinfo=UTC), "quarter") == "2026-Q3"
    assert period_label(datetime(2026, 10, 1, tzinfo=UTC), "quarter") == "2026-Q4"


@pytest.mark.parametrize("period", ["week", "", None, 3, "Month"])
def test_an_unknown_period_is_refused_with_a_sentence(period: Any) -> None:
    with pytest.raises(InvalidInput) as refused:
        tally_promotions([], period)
    assert refused.value.field == "period"
    assert "must be one of month, quarter, year" in str(refused.value)
    with pytest.raises(InvalidInput):
        check_period(period)


def test_the_origin_is_the_latest_record_of_each_kind_before_the_promotion() -> None:
    log = Log()
    # v1: external business evidence, replaced by Lucid's before promotion.
    log.evidence("churn", 1, day(1), "external", kind="business")
    log.evidence("churn", 1, day(1, 2), "lucid", kind="business")
    log.promote("churn", 1, "evidence", day(1, 3))
    # v2: Lucid predictive evidence and external business evidence: external.
    log.evidence("churn", 2, day(2), "lucid", kind="predictive")
    log.evidence("churn", 2, day(2), "external", kind="business")
    log.promote("churn", 2, "evidence", day(2, 3))
    # v3: Lucid evidence of both kinds: Lucid's.
    log.evidence("churn", 3, day(3), "lucid", kind="predictive")
    log.evidence("churn", 3, day(3), "lucid")  # no kind stated: business
    log.promote("churn", 3, "evidence", day(3, 3))
    # v4: a record from before origins were stated; v5: no record seen at all.
    log.evidence("churn", 4, day(4), None)
    log.promote("churn", 4, "evidence", day(4, 3))
    log.promote("churn", 5, "evidence", day(5, 3))
    # Evidence attached after a promotion does not change what it rested on.
    log.evidence("churn", 5, day(5, 4), "lucid")
    rows = {r.period: r for r in tally_promotions(log.events).of("churn")}
    assert [
        (rows[f"2026-0{m}"].evidence_lucid, rows[f"2026-0{m}"].evidence_external)
        for m in (
            1,
            2,
            3,
            4,
            5,
        )
    ] == [(1, 0), (0, 1), (1, 0), (0, 0), (0, 0)]
    whole = rows[WHOLE_HISTORY]
    assert counts(whole) == (5, 5, 0, 2, 1) and whole.evidence_unstated == 2
    assert whole.override_share_pct == 0.0


def test_an_override_never_counts_its_evidence_origin() -> None:
    log = Log()
    log.evidence("churn", 1, day(1), "lucid")
    log.promote("churn", 1, "override", day(1, 2))
    [month, whole] = tally_promotions(log.events).rows
    assert counts(month) == counts(whole) == (1, 0, 1, 0, 0)


def test_digests_named_by_the_promotion_decide_its_origin() -> None:
    log = Log()
    log.evidence("churn", 1, day(1), "lucid", digest="a" * 64)
    log.evidence("churn", 1, day(1), "external", digest="b" * 64)
    log.evidence("other", 7, day(1), "lucid", digest="c" * 64)
    # Naming only Lucid's record: Lucid's, though an external record of the kind came later.
    log.promote("churn", 1, "evidence", day(1, 2), evidence_digests=["a" * 64])
    log.promote("churn", 2, "evidence", day(2, 2), evidence_digest="b" * 64)
    log.promote("churn", 3, "evidence", day(3, 2), evidence_digests=["a" * 64, "c" * 64])
    log.promote("churn", 4, "evidence", day(4, 2), evidence_digests=["a" * 64, "d" * 64])
    rows = tally_promotions(log.events).of("churn")
    assert [(r.evidence_lucid, r.evidence_external, r.evidence_unstated) for r in rows] == [
        (1, 0, 0),
        (0, 1, 0),
        (1, 0, 0),
        (0, 0, 1),  # a digest never attached: origin unknown
        (2, 1, 1),
    ]


def test_other_events_and_malformed_evidence_are_skipped() -> None:
    log = Log()
    log.add("ModelRolledBack", {"name": "churn", "from_version": 2, "to_version": 1}, day(1))
    log.add("EvidenceAttached", {"name": "churn", "version": 1, "evidence": "text"}, day(1))
    log.promote("churn", 1, "evidence", day(1, 2))
    [month, _] = tally_promotions(log.events).rows
    assert counts(month) == (1, 1, 0, 0, 0) and month.evidence_unstated == 1
