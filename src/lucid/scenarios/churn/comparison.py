"""The side-by-side comparison: the same world lived by both architectures, measured.

Each arm runs in its own project under one folder (`entropic/`, `negentropic/`), week by
week. Once both have lived every day, a referee declares the world's shock start times in
each arm's event log (`KnownShiftDeclared`, marked as the referee's) and the same code
measures both arms: the scorecard from their own stores and logs, and its incident figures,
each shock's detection and recovery, and the value of each model by the referee
(`referee`), from what the arm served, the team's incidents and the world's realised churn.
Retention is the world's: of the customers paying on the first deployment day, the share
(and monthly revenue) still paying at the end.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from lucid.contracts.events import parse_time
from lucid.contracts.scorecard import INCIDENT_KEYS
from lucid.memory.scorecard import SCORECARD_KEYS
from lucid.scenarios.churn.activity import DAY_US
from lucid.scenarios.churn.architecture import (
    CYCLE_DAYS,
    FIRST_DEPLOY_DAY,
    Alert,
    ArchitectureArm,
    ServedDay,
    TeamIncident,
)
from lucid.scenarios.churn.detection import detections, false_alarms
from lucid.scenarios.churn.entropic import EntropicArm
from lucid.scenarios.churn.negentropic import NegentropicArm
from lucid.scenarios.churn.referee import (
    Customers,
    QualityJudge,
    RefereeRules,
    calm_tolerance,
    false_alarm_incidents,
    floor_days,
    model_value,
    referee_figures,
    shock_outcomes,
    versions_by_day,
)
from lucid.scenarios.churn.world import World, WorldConfig

ARMS: dict[str, type[ArchitectureArm]] = {"entropic": EntropicArm, "negentropic": NegentropicArm}
Progress = Callable[[str, int, int], None]
"""(arm, days lived, days in all) — called after every cycle of an arm."""


@dataclass(frozen=True)
class Judged:
    """An arm's record for the referee, once the arm is closed."""

    judge: QualityJudge
    team: list[TeamIncident]
    alerts: list[Alert]
    shocks: list[dict[str, Any]]
    start: datetime
    now_day: int


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
    shocks: list[dict[str, Any]] = field(default_factory=list)
    """Per shock, the referee's detection and recovery (`referee.shock_outcomes`)."""
    quality: list[dict[str, Any]] = field(default_factory=list)
    """Per evaluated day, the served scores' AUC and the refit oracle's (`QualityJudge`)."""
    value: dict[str, Any] = field(default_factory=dict)
    """Revenue and customers kept against the world without a model (`referee.model_value`)."""
    overrides: int = 0
    false_alarm_incidents: int = 0
    correlation_interval: tuple[float, float] | None = None
    correlation_pairs: int = 0
    judged: Judged | None = field(default=None, repr=False)
    """What the referee judges the shocks from, kept to judge again under the run's rules."""

    def judge_shocks(self, rules: RefereeRules) -> None:
        """Each shock's detection and recovery under `rules`, and the scorecard's incident
        figures from them (`referee.referee_figures`)."""
        if self.judged is None:
            return
        judged = self.judged
        judged.judge.rules = rules
        self.shocks = shock_outcomes(judged.shocks, judged.alerts, judged.judge)
        figures = referee_figures(self.shocks, judged.team, judged.start, judged.now_day)
        self.scorecard.update({key: getattr(figures, key) for key in INCIDENT_KEYS})

    def summary(self) -> dict[str, Any]:
        """The issue's shape: the seed's nine figures (the arms name no stakeholders, so the
        dashboard's transparency figure is left out; the incident figures are the
        referee's), retention and revenue kept, the production promotions by evidence, by
        override or ungated, the correlation's interval, the value against no model and
        each shock's detection and recovery."""
        interval = self.correlation_interval
        return {
            **{key: self.scorecard.get(key) for key in SCORECARD_KEYS},
            "retention_rate": self.retention_rate,
            "revenue_kept": self.revenue_kept,
            "promotions": self.promotions,
            "overrides": self.overrides,
            "false_alarm_incidents": self.false_alarm_incidents,
            "correlation_interval": None if interval is None else [round(v, 4) for v in interval],
            "correlation_pairs": self.correlation_pairs,
            "value": self.value,
            "shocks": self.shocks,
        }


@dataclass
class Comparison:
    world: dict[str, Any]
    arms: dict[str, ArmResult]
    wall_seconds: float
    folder: Path
    rules: RefereeRules = field(default_factory=RefereeRules)

    def to_dict(self) -> dict[str, Any]:
        """The `lucid demo --json` shape: each arm's summary, the world, the referee's rules,
        the negentropic arm's monitoring detection of each shock and its false alarms before
        the first, the wall time."""
        watched = self.arms.get("negentropic")
        return {
            **{name: result.summary() for name, result in self.arms.items()},
            "world": self.world,
            "referee": self.rules.to_dict(),
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
    untreated = customers_of(World(config).run())
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
            results[name] = measure(arm, untreated)
            world_facts = world_summary(arm.world)
        finally:
            arm.close()
    first = min((int(s["day"]) for s in world_facts.get("shocks", [])), default=config.days)
    rules = replace(
        RefereeRules(),
        tolerance_auc=calm_tolerance([r.quality for r in results.values()], first),
    )
    for result in results.values():
        result.judge_shocks(rules)
    return Comparison(world_facts, results, time.perf_counter() - started, folder, rules)


def world_summary(world: World) -> dict[str, Any]:
    """The world's facts for the JSON: size, seed, start and end, the shocks with their
    physical floor, and the seasons and monthly churn where the world gives them."""
    truth = world.ground_truth()
    shocks = []
    for shock in truth["shocks"]:
        shocks.append(
            {
                **shock,
                "changes_relation": shock.get("changes_relation"),
                "duration_days": shock.get("duration_days"),
                "floor_days": floor_days(shock),
            }
        )
    return {
        "customers": truth["customers"],
        "days": truth["days"],
        "seed": truth["seed"],
        "start": truth["start"],
        "end": truth.get("end", world.moment(world.config.days).isoformat()),
        "monthly_churn_pct": truth.get("monthly_churn_pct"),
        "shocks": shocks,
        "seasons": truth.get("seasons", []),
    }


def customers_of(world: World) -> Customers:
    """The world's customers as the referee's value reads them (days since the start)."""
    table = world.customers()
    start = world.start_us

    def days(column: str) -> np.ndarray:
        micros = table.column(column).cast("int64").to_numpy(zero_copy_only=False)
        return (np.asarray(micros, dtype=float) - start) / DAY_US

    churn = days("churned_at") if table.num_rows else np.zeros(0)
    churn[np.asarray(table.column("churned_at").is_null())] = np.nan
    return Customers(
        tuple(table.column("customer_id").to_pylist()),
        np.asarray(table.column("price").to_numpy(), dtype=float),
        days("signup_at"),
        churn,
    )


def serving_versions(arm: ArchitectureArm, served: list[ServedDay]) -> list[tuple[int, int | None]]:
    """(day, version) of each serving day; without a record of scorings, each week's
    version from the weekly record."""
    if served:
        return versions_by_day(served)
    return [
        (week.day + offset, week.served_version)
        for week in arm.weeks
        if week.day >= FIRST_DEPLOY_DAY
        for offset in range(CYCLE_DAYS)
    ]


def measure(
    arm: ArchitectureArm, untreated: Customers | None = None, rules: RefereeRules | None = None
) -> ArmResult:
    """Declare the shocks (the referee), measure the arm from its own stores, then by the
    referee: incident figures, shocks, quality and value (against `untreated`, the same
    world lived without a model; none measured without it)."""
    rules = rules or RefereeRules()
    for shock in arm.world.shocks:
        arm.lucid.incidents.declare_shift(
            arm.world.moment(shock.day).replace(tzinfo=arm.clock().tzinfo),
            description=shock.description,
            actor="referee",
        )
    kept = arm.world.retention(FIRST_DEPLOY_DAY, arm.world.day)
    runs = arm.stored_runs()
    truth = arm.world.ground_truth()
    start, first = arm.config.start, min((s.day for s in arm.world.shocks), default=arm.world.day)
    incidents = [i.to_dict() for i in arm.lucid.incidents.list()]
    early = [
        i
        for i in incidents
        if parse_time(i["opened_at"]).replace(tzinfo=None) < arm.world.moment(first)
    ]
    served = arm.served
    judge = QualityJudge(served, customers_of(arm.world).churn_map(), arm.world.day, rules)
    team = arm.team_incidents()
    promotions = arm.promotions()
    book = arm.lucid.registry.portfolio()
    value = (
        {}
        if untreated is None
        else model_value(
            customers_of(arm.world),
            untreated,
            arm.world.treatments,
            serving_versions(arm, served),
            FIRST_DEPLOY_DAY,
            arm.world.day,
        )
    )
    result = ArmResult(
        scorecard=arm.scorecard().to_dict(),
        retention_rate=round(kept.retention_rate, 4),
        revenue_kept=kept.revenue_kept,
        customers_at_start=kept.customers_at_start,
        weeks=[asdict(week) for week in arm.weeks],
        incidents=incidents,
        chain_ok=arm.lucid.events.verify().ok,
        detection=detections(runs, truth["shocks"], start, arm.world.day),
        false_alarms={**false_alarms(runs, first, start), "incidents_opened": len(early)},
        promotions=promotions,
        quality=judge.series(),
        value=value,
        overrides=int(promotions.get("by_override", 0)),
        false_alarm_incidents=false_alarm_incidents(
            team, [int(s["day"]) for s in truth["shocks"]], truth.get("seasons", [])
        ),
        correlation_interval=book.correlation_interval,
        correlation_pairs=len(book.pairs),
        judged=Judged(judge, team, arm.alerts(), truth["shocks"], start, arm.world.day),
    )
    result.judge_shocks(rules)
    return result
