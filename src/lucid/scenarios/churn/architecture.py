"""The two architectures of the seed, each a team running its churn model on its own copy of
the same world, and what both share: `ArchitectureArm`, its rhythm (a cycle of `cadence_days`)
its weekly record, and what the referee reads of each (`ServedDay`, `TeamIncident`, `Alert`).

Both arms see the same customers and the same shocks (the world's draws never depend on
treatments), spend the same retention budget (5 % of paying customers treated at any time, a
treatment lasting a week) on the customers their model ranks most at risk, and learn outcomes
the same way: a snapshot's churn labels (churned within 14 days) become known 14 days after
it (a weekly snapshot; a daily one for the negentropic arm). They differ only in architecture:

- `EntropicArm` (`entropic`) — the seed's baseline: the three teams' contradictory
  "activity" definitions; a model trained on Data Science's definition, served with
  Marketing's, copied to production by hand, never monitored; a monthly business review that
  files a ticket when churn rises and has the model retrained in haste, without a lesson.
- `NegentropicArm` (`negentropic`, on the contracts of `contracted`) — Lucid: canonical
  features approved by the three teams and served from the online store, each customer scored
  once a week on their own weekday and newcomers the evening of their signup; a registered
  model with its retention contract (weekly retention, known at each week's end); the seed's
  churn policy run every day; and the loop (`negentropic`).

Neither arm reads the world's ground truth (shock days, hazards, the causal model): only its
own data files, its own labels, its own stores, and what a business sees of its customers —
their segment and their cancellations.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from lucid.bootstrap import Lucid, bootstrap
from lucid.contracts.override_share import PromotionTally
from lucid.contracts.validity.records import RunRecord
from lucid.memory.scorecard import Scorecard
from lucid.project import init_project
from lucid.scenarios.churn.training import HORIZON_DAYS, LABELS_FOLDER
from lucid.scenarios.churn.world import World, WorldConfig
from lucid.scenarios.churn.world_files import compact_parts, write_labels, write_world
from lucid.settings import load_settings

MODEL = "churn"
CYCLE_DAYS = 7
BUDGET_SHARE = 0.05
"""Share of active customers the retention campaign can treat each week (both arms)."""
LEVELS = ("ok", "insufficient_data", "warning", "critical")
"""Monitoring levels, best first."""
FIRST_DEPLOY_DAY = 28
"""Both arms deploy their first model once two weekly snapshots' outcomes are known."""


class SimulatedClock:
    """The arm's time: the world's current moment, moved forward by the scenario."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment


def aware(moment: datetime) -> datetime:
    """A naive UTC moment of the world as an aware UTC time."""
    return moment.replace(tzinfo=UTC)


def promotion_counts(tally: PromotionTally, ungated: int = 0) -> dict[str, Any]:
    """What `lucid demo --json` reports of an arm's production promotions: how many, how
    many by evidence (of them, on Lucid's own evidence or external) and by override, the
    override share (% of the promotions the gate saw; None with none), and the `ungated`
    deployments no gate saw (copied to production by hand, outside any registry)."""
    return {
        "production": tally.promotions + ungated,
        "by_evidence": tally.by_evidence,
        "by_override": tally.by_override,
        "ungated": ungated,
        "evidence_lucid": tally.evidence_lucid,
        "evidence_external": tally.evidence_external,
        "override_share_pct": tally.override_share_pct,
    }


@dataclass(frozen=True)
class ServedDay:
    """One scoring an arm did on `day`: who, with which feature values (one row per entity,
    one column per name in `columns`, as served), the scores and the version that made them
    (None: no registry numbers the model). The referee's ruler of ranking quality."""

    day: int
    entities: tuple[str, ...]
    features: npt.NDArray[np.float64]
    columns: tuple[str, ...]
    scores: npt.NDArray[np.float64]
    version: int | None


@dataclass(frozen=True)
class TeamIncident:
    """An incident as a team recorded it, whatever its tooling: when it was opened (simulated
    day, fractional), what noticed it, the root cause it named, its lesson and whether it is
    closed. The referee measures both arms' incident figures from these."""

    id: str
    opened_day: float
    detected_by: str
    root_cause: str | None
    lesson: str | None
    closed: bool


@dataclass(frozen=True)
class Alert:
    """Something that told the team a problem began: on `day` (simulated, fractional), `what`
    (an incident opened, or a check newly failing in the incident already open)."""

    day: float
    what: str


@dataclass
class WeekRecord:
    """What one arm did in one week: for the report's plots. `level` is the worst of the
    week's monitoring runs."""

    day: int
    treated: int
    retention: float
    level: str | None = None
    served_version: int | None = None


@dataclass
class ArchitectureArm:
    """The parts both arms share: the world, the project, the clock, the rhythm (one cycle
    every `cadence_days`) and the weekly record."""

    cadence_days: ClassVar[int] = CYCLE_DAYS
    snapshot_days: ClassVar[int] = CYCLE_DAYS
    """Every how many days a labelled snapshot of the active customers is written."""
    name: str
    folder: Path
    config: WorldConfig
    world: World = field(init=False)
    lucid: Lucid = field(init=False)
    clock: SimulatedClock = field(init=False)
    weeks: list[WeekRecord] = field(default_factory=list)
    labelled: set[int] = field(default_factory=set)
    week_levels: list[str] = field(default_factory=list)
    week_treated: set[str] = field(default_factory=set)
    served: list[ServedDay] = field(default_factory=list)
    """Every scoring the arm did, in order (`ServedDay`)."""
    project_name: str | None = None
    """The name of the arm's project (default: `churn-<name>`)."""

    def __post_init__(self) -> None:
        self.world = World(self.config)
        self.clock = SimulatedClock(aware(self.world.now))
        project = self.project_name or f"churn-{self.name}"
        init_project(self.folder, name=project, actor="scenario", environ={}).close()
        self.configure(self.folder)
        self.lucid = bootstrap(load_settings(self.folder, {}))
        self.lucid.clock = self.clock
        write_world(self.world, self.folder)  # the 30 days of history before day 0

    def configure(self, folder: Path) -> None:
        """Project settings before the handle opens (lucid.yaml)."""

    def close(self) -> None:
        self.lucid.close()

    # -- the rhythm ---------------------------------------------------------------------------

    def cycle(self) -> None:
        """One cycle: learn the outcomes now known, act, live `cadence_days`, publish their
        data, look at them; at each week's end, the week's record."""
        day = self.world.day
        self.clock.moment = aware(self.world.now)
        self.learn_outcomes(day)
        treated = self.decide(day)
        self.world.step(self.cadence_days, treated=treated)
        self.clock.moment = aware(self.world.now)
        write_world(self.world, self.folder)  # the cycle's rows land in the data files
        if self.cadence_days < CYCLE_DAYS and self.world.day % CYCLE_DAYS == 0:
            compact_parts(self.folder, CYCLE_DAYS // self.cadence_days)  # a week's parts in one
        level, version = self.after_cycle()
        self.week_treated.update(self.picked(treated))
        if level is not None:
            self.week_levels.append(level)
        if self.world.day % CYCLE_DAYS == 0:
            start = self.world.day - CYCLE_DAYS
            worst = max(self.week_levels, key=LEVELS.index, default=None)
            retention = self.world.retention(start, self.world.day).retention_rate
            self.weeks.append(WeekRecord(start, len(self.week_treated), retention, worst, version))
            self.week_levels, self.week_treated = [], set()

    def learn_outcomes(self, day: int) -> None:
        """Write the labels of every past snapshot (one every `snapshot_days`) whose 14 days
        have passed."""
        for snapshot in range(0, day - HORIZON_DAYS + 1, self.snapshot_days):
            if snapshot in self.labelled:
                continue
            labels = self.world.labels([snapshot], horizon_days=HORIZON_DAYS)
            write_labels(labels, self.folder / LABELS_FOLDER / f"snapshot-{snapshot:04d}.parquet")
            self.labelled.add(snapshot)
            self.on_labels(snapshot, labels.to_pylist())

    def on_labels(self, snapshot: int, rows: list[dict[str, Any]]) -> None:
        """React to a snapshot's outcomes becoming known."""

    def decide(self, day: int) -> list[str]:
        """The customers under treatment during the cycle starting at `day`."""
        return []

    def picked(self, treated: Sequence[str]) -> Sequence[str]:
        """Of the cycle's `treated`, those the arm chose in this cycle (the week's record
        counts each customer once)."""
        return treated

    def after_cycle(self) -> tuple[str | None, int | None]:
        """(monitoring level, version served) after the cycle; None where not known."""
        return None, None

    def scorecard(self) -> Scorecard:
        raise NotImplementedError

    def team_incidents(self) -> list[TeamIncident]:
        """The incidents the team recorded, oldest first."""
        return []

    def stored_runs(self) -> list[RunRecord]:
        """Every monitoring run the arm stored, newest first."""
        runs: list[RunRecord] = []
        cursor: str | None = None
        while True:
            page = self.lucid.monitoring.runs(cursor=cursor, limit=500)
            runs += page.runs
            if page.next_cursor is None:
                return runs
            cursor = page.next_cursor

    def alerts(self) -> list[Alert]:
        """Every alert the team received, oldest first: by default each incident's opening."""
        return [Alert(i.opened_day, i.detected_by) for i in self.team_incidents()]

    def serve(
        self,
        day: int,
        entities: Sequence[str],
        features: npt.NDArray[np.float64],
        columns: Sequence[str],
        scores: Sequence[float | None],
        version: int | None,
    ) -> None:
        """Keep one scoring for the referee (missing scores count as 0)."""
        if entities:
            self.served.append(
                ServedDay(
                    day,
                    tuple(entities),
                    np.asarray(features, dtype=np.float64).reshape(len(entities), len(columns)),
                    tuple(columns),
                    np.array([float(s or 0.0) for s in scores]),
                    version,
                )
            )

    def promotions(self) -> dict[str, Any]:
        """The arm's production promotions over the whole run, from its registry's events
        (`promotion_counts`)."""
        return promotion_counts(self.lucid.registry.override_shares().overall)

    def segments(self) -> dict[str, str]:
        """Each customer's segment, as the CRM knows it (never who churned or why)."""
        return {c: row["segment"] for c, row in self.crm().items()}

    def crm(self) -> dict[str, dict[str, str]]:
        """Each customer's segment and current plan, as the CRM knows them (never who churned
        or why)."""
        table = self.world.customers().select(["customer_id", "segment", "plan"]).to_pydict()
        return {
            c: {"segment": segment, "plan": plan}
            for c, segment, plan in zip(
                table["customer_id"], table["segment"], table["plan"], strict=True
            )
        }

    @staticmethod
    def top_at_risk(entities: Sequence[str], scores: Sequence[float], share: float) -> list[str]:
        """The `share` of entities with the highest scores (ties by id: deterministic)."""
        budget = round(len(entities) * share)
        order = sorted(range(len(entities)), key=lambda i: (-scores[i], entities[i]))
        return [entities[i] for i in order[:budget]]
