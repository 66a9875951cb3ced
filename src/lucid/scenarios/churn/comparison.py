"""The side-by-side comparison: the same world lived by both architectures, measured.

Each arm runs in its own project under one folder (`entropic/`, `negentropic/`), week by
week. Once both have lived every day, a referee declares the world's shock start times in
each arm's event log (`KnownShiftDeclared`, marked as the referee's) — the only use of the
ground truth, to measure detection delays — and the same scorecard code measures both arms
from their own stores and logs. Retention is the world's: of the customers paying on the
first deployment day, the share (and monthly revenue) still paying at the end.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from lucid.contracts.events import parse_time
from lucid.contracts.validity.records import RunRecord
from lucid.memory.scorecard import SCORECARD_KEYS
from lucid.scenarios.churn.architecture import FIRST_DEPLOY_DAY, ArchitectureArm
from lucid.scenarios.churn.detection import detections, false_alarms
from lucid.scenarios.churn.entropic import EntropicArm
from lucid.scenarios.churn.negentropic import NegentropicArm
from lucid.scenarios.churn.world import WorldConfig

ARMS: dict[str, type[ArchitectureArm]] = {"entropic": EntropicArm, "negentropic": NegentropicArm}
Progress = Callable[[str, int, int], None]
"""(arm, days lived, days in all) — called after every cycle of an arm."""


@dataclass
class ArmResult:
    """One arm's measured figures: the scorecard's keys, retention and the weekly story."""

    scorecard: dict[str, Any]
    retention_rate: float
    revenue_kept: float
    customers_at_start: int
    weeks: list[dict[str, Any]] = field(default_factory=list)
    incidents: list[dict[str, Any]] = field(default_factory=list)
    chain_ok: bool = True
    detection: list[dict[str, Any]] = field(default_factory=list)
    """Per shock, how soon the arm's monitoring runs flagged it (`detection.detections`)."""
    false_alarms: dict[str, Any] = field(default_factory=dict)
    """Runs at warning or worse before the first shock, and the incidents opened then."""
    promotions: dict[str, Any] = field(default_factory=dict)
    """The arm's production promotions by basis (`architecture.promotion_counts`)."""

    def summary(self) -> dict[str, Any]:
        """The issue's shape: the seed's nine figures (the arms name no stakeholders, so the
        dashboard's transparency figure is left out), retention and revenue kept, and the
        production promotions by evidence, by override or ungated."""
        return {
            **{key: self.scorecard.get(key) for key in SCORECARD_KEYS},
            "retention_rate": self.retention_rate,
            "revenue_kept": self.revenue_kept,
            "promotions": self.promotions,
        }


@dataclass
class Comparison:
    world: dict[str, Any]
    arms: dict[str, ArmResult]
    wall_seconds: float
    folder: Path

    def to_dict(self) -> dict[str, Any]:
        """The `lucid demo --json` shape: each arm's summary, the world, the negentropic
        arm's detection of each shock and its false alarms before the first, the wall time."""
        watched = self.arms.get("negentropic")
        return {
            **{name: result.summary() for name, result in self.arms.items()},
            "world": self.world,
            "detection": watched.detection if watched else [],
            "false_alarms_before_first_shock": watched.false_alarms if watched else {},
            "wall_seconds": round(self.wall_seconds, 1),
        }


def shown(value: Any) -> str:
    """A figure as the table and the report print it: — for None, whole units from 1,000."""
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 1_000 else f"{value:,.4g}"
    return str(value)


PROMOTION_ROWS = (
    ("production_promotions", "production promotions"),
    ("promotions_by_evidence", "promotions by evidence"),
    ("promotions_by_override", "promotions by override"),
)
"""The table's rows of an arm's promotions (`promotion_cells`)."""


def promotion_cells(promotions: dict[str, Any]) -> dict[str, str]:
    """An arm's promotions as the table and the report print them, by `PROMOTION_ROWS` key:
    deployments no gate saw are said `ungated`; evidence of Lucid's own is counted apart."""
    if not promotions:
        return {key: "—" for key, _ in PROMOTION_ROWS}
    production, ungated = promotions["production"], promotions["ungated"]
    lucid = promotions["evidence_lucid"]
    if not ungated:
        deployed = str(production)
    elif ungated == production:
        deployed = f"{production} ungated"
    else:
        deployed = f"{production} ({ungated} ungated)"
    evidence = str(promotions["by_evidence"]) + (f" ({lucid} on Lucid's evidence)" if lucid else "")
    return {
        "production_promotions": deployed,
        "promotions_by_evidence": evidence,
        "promotions_by_override": str(promotions["by_override"]),
    }


def run_comparison(
    config: WorldConfig, folder: Path, progress: Progress | None = None
) -> Comparison:
    """Live `config`'s world once per architecture under `folder` and measure both."""
    started = time.perf_counter()
    folder.mkdir(parents=True, exist_ok=True)
    results: dict[str, ArmResult] = {}
    world_facts: dict[str, Any] = {}
    for name, kind in ARMS.items():
        arm = kind(name, folder / name, config)
        try:
            while not arm.world.finished:
                if arm.world.day + arm.cadence_days <= config.days:
                    arm.cycle()
                else:  # the last days, too few for a cycle: lived without new decisions
                    arm.world.step(config.days - arm.world.day)
                if progress is not None:
                    progress(name, arm.world.day, config.days)
            results[name] = measure(arm)
            truth = arm.world.ground_truth()
            world_facts = {
                "customers": truth["customers"],
                "days": truth["days"],
                "seed": truth["seed"],
                "start": truth["start"],
                "shocks": truth["shocks"],
            }
        finally:
            arm.close()
    return Comparison(world_facts, results, time.perf_counter() - started, folder)


def measure(arm: ArchitectureArm) -> ArmResult:
    """Declare the shocks (the referee), then measure the arm from its own stores."""
    for shock in arm.world.shocks:
        arm.lucid.incidents.declare_shift(
            arm.world.moment(shock.day).replace(tzinfo=arm.clock().tzinfo),
            description=shock.description,
            actor="referee",
        )
    kept = arm.world.retention(FIRST_DEPLOY_DAY, arm.world.day)
    runs = stored_runs(arm)
    truth = arm.world.ground_truth()
    start, first = arm.config.start, min((s.day for s in arm.world.shocks), default=arm.world.day)
    incidents = [i.to_dict() for i in arm.lucid.incidents.list()]
    early = [
        i
        for i in incidents
        if parse_time(i["opened_at"]).replace(tzinfo=None) < arm.world.moment(first)
    ]
    return ArmResult(
        scorecard=arm.scorecard().to_dict(),
        retention_rate=round(kept.retention_rate, 4),
        revenue_kept=kept.revenue_kept,
        customers_at_start=kept.customers_at_start,
        weeks=[asdict(week) for week in arm.weeks],
        incidents=incidents,
        chain_ok=arm.lucid.events.verify().ok,
        detection=detections(runs, truth["shocks"], start, arm.world.day),
        false_alarms={**false_alarms(runs, first, start), "incidents_opened": len(early)},
        promotions=arm.promotions(),
    )


def stored_runs(arm: ArchitectureArm) -> list[RunRecord]:
    """Every monitoring run the arm stored, newest first."""
    runs: list[RunRecord] = []
    cursor: str | None = None
    while True:
        page = arm.lucid.monitoring.runs(cursor=cursor, limit=500)
        runs += page.runs
        if page.next_cursor is None:
            return runs
        cursor = page.next_cursor
