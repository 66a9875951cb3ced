"""The negentropic arm's contracts, before its loop: canonical features approved by the three
teams and served from the online store; a registered model with its retention contract
(weekly retention, known at each week's end) and its reference profile; the seed's churn
policy on weekly windows; predictions logged with the running experiment's arms; outcomes
joined to predictions and the contract's metric observed every week. `negentropic` adds the
team's loop on top."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import yaml

from lucid.contracts.experiments import assign
from lucid.contracts.validity import Frequency, MonitoringPolicy
from lucid.contracts.value import BusinessImpact, Direction, Override, Stage
from lucid.features.definition_files import load_definitions
from lucid.memory.scorecard import Scorecard, measure_scorecard
from lucid.registry.model_artifacts import SklearnArtifact
from lucid.scenarios.churn import (
    CANONICAL_DEFINITIONS,
    SPEND_DEFINITIONS,
    TICKETS_DEFINITIONS,
    WORLD_SOURCES,
)
from lucid.scenarios.churn.architecture import (
    BUDGET_SHARE,
    CYCLE_DAYS,
    FIRST_DEPLOY_DAY,
    MODEL,
    ArchitectureArm,
)
from lucid.scenarios.churn.training import (
    LABEL,
    TRAINING_SNAPSHOTS,
    fit_churn_model,
    write_reference,
)

TEAMS = {"marketing": "mia", "data-science": "sam", "product": "paul"}
CANONICAL = (
    "customer_activity_30d@1.0.0",
    "customer_spend_30d@1.0.0",
    "customer_tickets_30d@1.0.0",
)
APPROVER = "olga"
"""The head of data: the approver who may override the promotion gate (four-eyes)."""
RETRAINING_SNAPSHOTS = 3
"""A retraining after an incident reads the latest three snapshots since the detection."""

METRIC = "retention_7d"
"""The contract's metric: the share of a week's paying customers still paying at its end."""


def retention_contract(baseline: float) -> BusinessImpact:
    """The churn model's contract: weekly retention, higher is better, around `baseline`."""
    return BusinessImpact(
        metric=METRIC,
        direction=Direction.HIGHER,
        baseline=round(baseline, 4),
        target=round(min(baseline + 0.005, 0.999), 4),
        measurement_period="7d",
        rollback_threshold=round(baseline - 0.03, 4),
        rationale="the retention campaign exists to keep customers; accuracy is not the goal",
    )


@dataclass
class ContractedArm(ArchitectureArm):
    """The negentropic arm's contracts and its weekly serving, without the team's loop."""

    predictions: dict[int, dict[str, str]] = field(default_factory=dict)
    """Snapshot day → entity → prediction id (to log outcomes when they are known)."""
    exposures: dict[int, list[str]] = field(default_factory=dict)
    """Snapshot day → entities first exposed then, in the running experiment."""
    served_at: dict[int, int] = field(default_factory=dict)
    """Snapshot day → the production version that chose that week's treatments."""
    experiment: str | None = None
    cohort_pending: bool = False

    def configure(self, folder: Path) -> None:
        path = folder / "lucid.yaml"
        settings = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        settings["training_pipelines"] = {MODEL: "lucid.scenarios.churn.training:retrain"}
        settings["approvers"] = [APPROVER]
        path.write_text(yaml.safe_dump(settings, sort_keys=False), encoding="utf-8")

    def __post_init__(self) -> None:
        super().__post_init__()
        features = self.lucid.features
        for path in (CANONICAL_DEFINITIONS, SPEND_DEFINITIONS, WORLD_SOURCES, TICKETS_DEFINITIONS):
            features.apply(
                load_definitions(path), actor="data-platform", rationale="one canonical meaning"
            )
        for pin in CANONICAL:
            for team, person in TEAMS.items():
                features.approve(pin, team=team, person=person, rationale="reviewed together")

    @property
    def production(self) -> int | None:
        version = self.lucid.registry.production_version(MODEL)
        return version.version if version is not None else None

    # -- outcomes ----------------------------------------------------------------------------

    def on_labels(self, snapshot: int, rows: list[dict[str, Any]]) -> None:
        """The model's own outcomes (churned within 14 days) joined to its predictions."""
        churned = {row["entity_id"]: int(row[LABEL]) for row in rows}
        logged = self.predictions.pop(snapshot, {})
        if logged:
            now = self.clock()
            self.lucid.monitoring.log_outcomes(
                MODEL,
                [
                    {"prediction_id": pid, "label": churned[e], "observed_at": now}
                    for e, pid in logged.items()
                    if e in churned
                ],
            )

    def weekly_retention(self, day: int) -> dict[str, int]:
        """Who of the customers paying at `day` still paid a week later (1) or left (0): the
        business sees its own cancellations as they happen."""
        rows = self.world.labels([day], horizon_days=CYCLE_DAYS).to_pylist()
        return {row["entity_id"]: 1 - int(row[f"churned_within_{CYCLE_DAYS}d"]) for row in rows}

    def observe_week(self, day: int) -> None:
        """The contract's metric for the week just lived, and the A/B cohort's outcomes."""
        kept = self.weekly_retention(day)
        served = self.served_at.get(day)
        scored = [e for e in self.predictions.get(day, {}) if e in kept]
        if served is not None and scored:
            self.lucid.registry.observe(
                MODEL,
                served,
                metric=METRIC,
                value=round(float(np.mean([kept[e] for e in scored])), 4),
                period=f"week of day {day}",
                actor="business-analytics",
            )
            if served == self.production:  # a replaced version is judged no more
                self.lucid.registry.evaluate(MODEL, actor="business-analytics")
        exposed = self.exposures.pop(day, [])
        if exposed and self.experiment is not None:
            self.lucid.experiments.record_outcomes(
                self.experiment,
                [
                    {"entity_id": e, "value": kept[e], "observed_at": self.clock()}
                    for e in exposed
                    if e in kept
                ],
                actor="business-analytics",
            )

    def retention_since(self, since_day: int) -> float:
        """Mean weekly retention of the weeks lived from `since_day` on (the contract's unit)."""
        first = since_day - since_day % CYCLE_DAYS
        weeks = range(max(first, 0), self.world.day - CYCLE_DAYS + 1, CYCLE_DAYS)
        return float(np.mean([np.mean(list(self.weekly_retention(d).values())) for d in weeks]))

    # -- deciding ----------------------------------------------------------------------------

    def decide(self, day: int) -> list[str]:
        if self.production is None and day >= FIRST_DEPLOY_DAY:
            self.first_deployment(day)
        if self.production is None:
            return []
        self.lucid.features.materialize(list(CANONICAL), at=self.clock())
        customers = self.world.active_customers()
        production = self.lucid.registry.load_model(MODEL)
        rows = production.online_rows(customers)
        scores = production.scores(rows)
        arms, challenger = self.serve_experiment(day, customers, rows, scores)
        versions = {"control": production.version, "challenger": challenger}
        self.predictions[day] = self.log_predictions(customers, rows, scores, arms, versions)
        self.served_at[day] = production.version
        return self.top_at_risk(customers, [float(s or 0.0) for s in scores], BUDGET_SHARE)

    def serve_experiment(
        self,
        day: int,
        customers: list[str],
        rows: list[dict[str, Any]],
        scores: list[float | None],
    ) -> tuple[dict[str, str], int | None]:
        """Each customer's arm and the challenger's version; with a running experiment, the
        challenger's scores replace production's for its arm (in `scores`), and the first
        week's customers are exposed as the experiment's one cohort."""
        if self.experiment is None:
            return {c: "control" for c in customers}, None
        design = self.lucid.experiments.design(self.experiment)
        challenger = self.lucid.registry.load_model(MODEL, version=design.challenger_version)
        arms = {c: assign(c, design.salt, design.challenger_share) for c in customers}
        chosen = [i for i, c in enumerate(customers) if arms[c] != "control"]
        challenger_scores = challenger.scores([rows[i] for i in chosen])
        for i, score in zip(chosen, challenger_scores, strict=True):
            scores[i] = score
        if not self.exposures and self.cohort_pending:
            # One cohort: the customers active in the experiment's first week.
            self.lucid.experiments.expose(
                self.experiment,
                [{"entity_id": c, "arm": arms[c], "exposed_at": self.clock()} for c in customers],
                actor="serving",
            )
            self.exposures[day] = customers
            self.cohort_pending = False
        return arms, challenger.version

    def log_predictions(
        self,
        customers: list[str],
        rows: list[dict[str, Any]],
        scores: list[float | None],
        arms: dict[str, str],
        versions: dict[str, int | None],
    ) -> dict[str, str]:
        """Log each arm's predictions with the version that made them; entity → prediction id."""
        now = self.clock()
        segments = self.segments()
        ids: dict[str, str] = {}
        for arm, version in versions.items():
            members = [i for i, c in enumerate(customers) if arms[c] == arm]
            if version is None or not members:
                continue
            logged = self.lucid.monitoring.log_predictions(
                MODEL,
                version,
                [
                    {
                        "entity": customers[i],
                        "served_at": now,
                        # The model's inputs, and the customer's segment for monitoring.
                        "features": {**rows[i], "segment": segments.get(customers[i])},
                        "score": scores[i],
                        "arm": arm,
                    }
                    for i in members
                ],
            )
            ids.update({customers[i]: pid for i, pid in zip(members, logged, strict=True)})
        return ids

    def watch(self) -> None:
        """The seed's churn policy, weekly, with performance judged label-free.

        Outcomes arrive 14 days after a prediction, so a week's window never holds labels and
        `accuracy_drop` would be "insufficient data" every week; its label-free estimate
        (confidence-based, from the calibrated scores) watches performance instead, with the
        seed's bounds and actions. The realised retention is judged by the business check and
        by the deployment's checkpoints.
        """
        seed = MonitoringPolicy.churn_default(MODEL)
        thresholds = tuple(
            replace(t, metric="estimated_accuracy_drop") if t.metric == "accuracy_drop" else t
            for t in seed.thresholds
        )
        policy = replace(
            seed,
            thresholds=thresholds,
            reporting=replace(seed.reporting, frequency=Frequency.WEEKLY),
        )
        self.lucid.monitoring.set_policy(
            policy, actor="dana", rationale="the seed's churn policy, on weekly windows"
        )

    def first_deployment(self, day: int) -> None:
        baseline = self.retention_since(0)
        self.watch()
        version = self.register(retention_contract(baseline), "first churn model")
        self.lucid.registry.promote(
            MODEL, version, Stage.CHALLENGER, actor="sam", rationale="ready for production"
        )
        self.lucid.loop.deploy(
            MODEL,
            version,
            hypotheses=[
                {
                    "description": "treating the customers the model ranks most at risk keeps "
                    "more of them than treating at random",
                    "expected_impact": 0.005,
                    "unit": "retention_7d",
                }
            ],
            actor="sam",
            rationale="first model: no production version to test against",
            override=Override(
                APPROVER,
                "first deployment: there is no production model to A/B against; the "
                "30/90/180-day checkpoints will judge it",
            ),
        )

    def register(self, impact: BusinessImpact, why: str, since_day: int | None = None) -> int:
        fitted = fit_churn_model(
            self.lucid,
            CANONICAL,
            since_day=since_day,
            snapshots=TRAINING_SNAPSHOTS if since_day is None else RETRAINING_SNAPSHOTS,
        )
        registered = self.lucid.registry.register_model(
            MODEL,
            artifact=SklearnArtifact(estimator=fitted.estimator),
            impact=impact,
            features=list(CANONICAL),
            training_data="the latest known weekly snapshots under labels/",
            offline_metrics=fitted.metrics,
            registered_by="sam",
            rationale=why,
        )
        segments = self.segments()
        reference = fitted.reference.append_column(
            "segment", pa.array([segments.get(e) for e in fitted.entities], pa.string())
        )
        self.profile(registered.version, reference)
        return registered.version

    def profile(self, version: int, reference: Any) -> None:
        path = write_reference(self.folder, MODEL, version, reference)
        self.lucid.monitoring.build_profile(MODEL, version, reference=path, actor="sam")

    def scorecard(self) -> Scorecard:
        return measure_scorecard(self.lucid.features, self.lucid.registry, self.lucid.incidents)
