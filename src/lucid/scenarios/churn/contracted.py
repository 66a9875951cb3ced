"""The negentropic arm's contracts, before its loop: canonical features approved by the three
teams and served from the online store; a registered model with its retention contract
(weekly retention, known at each week's end) and its reference profile; the seed's churn
policy on daily windows, with the data-health checks of the served features; each customer
scored once a week on their own weekday (`weekday_of`), so every day's window holds about a
seventh of the base, from features materialised that morning; predictions logged with the
running experiment's arms; outcomes joined to predictions and the contract's metric
observed every week. `negentropic` adds the team's loop on top."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa
import yaml

from lucid.contracts.experiments import assign
from lucid.contracts.validity import Frequency, MonitoringPolicy
from lucid.contracts.validity.actions import SEED_ACTIONS, Action, ActionKind
from lucid.contracts.validity.health import default_health_thresholds
from lucid.contracts.validity.source_health import default_source_thresholds
from lucid.contracts.value import (
    BusinessImpact,
    Comparison,
    Direction,
    EvidenceClause,
    EvidenceKind,
    Stage,
)
from lucid.errors import LucidError
from lucid.features.definition_files import load_definitions
from lucid.features.serving import fresh_rows
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
    HORIZON_DAYS,
    LABEL,
    TRAINING_SNAPSHOTS,
    fit_churn_model,
    held_out_labels,
    write_reference,
)

TEAMS = {"marketing": "mia", "data-science": "sam", "product": "paul"}
CANONICAL = (
    "customer_activity_30d@1.0.0",
    "customer_spend_30d@1.0.0",
    "customer_tickets_30d@1.0.0",
)
DEFINITION_FILES = (CANONICAL_DEFINITIONS, SPEND_DEFINITIONS, WORLD_SOURCES, TICKETS_DEFINITIONS)
"""The definition files the arm applies, in order."""
APPROVER = "olga"
"""The head of data: the approver who may override the promotion gate (four-eyes)."""
RETRAINING_SNAPSHOTS = 3
"""A retraining after an incident reads the latest three weekly snapshots since the detection."""
URGENT_SNAPSHOTS = 7
"""An urgent retraining reads at most the latest seven daily snapshots since the detection."""

METRIC = "retention_7d"
"""The contract's metric: the share of a week's paying customers still paying at its end."""
MINIMUM_ROWS = 200
"""A daily window holds a seventh of the base (about 570 rows at 4,000 customers, fewer as
customers leave): checks judge from 200 rows on."""

DAILY_FALSE_ALARM_BUDGET = 0.001
"""The daily policy's chance per run of a false alarm: at most one in about three years of
daily runs (the default 0.01 would expect about one every hundred days)."""


def weekday_of(entity: str) -> int:
    """The day of the week (0..6, by simulated day modulo 7) a customer is scored: a stable
    hash of their id, so each day's window holds about a seventh of the base."""
    digest = hashlib.blake2b(entity.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % CYCLE_DAYS


FIRST_RULE = (EvidenceClause(EvidenceKind.PREDICTIVE, Comparison.SUPERIORITY, "auc"),)
"""The first model's rule of evidence: it must rank churners above stayers better than no
model (random targeting) on a labelled snapshot it was not trained on."""
FOLLOW_UP_RULE = (
    EvidenceClause(EvidenceKind.PREDICTIVE, Comparison.NON_INFERIORITY, "auc", margin=0.02),
)
"""A follow-up retraining's rule of evidence, stated before its back-test: refit on the outcomes
since an alert, it ranks the churners of the latest labelled snapshot at least as well as
production (AUC within 0.02, one-sided at the contract's alpha). A day's snapshot holds too
few churners to prove the few points a refit gains, but enough to refuse one that ranks
worse; its business value is then judged by its contract's checkpoints and rollback, as every
deployment's."""
RETRAIN_RULE = (
    EvidenceClause(EvidenceKind.PREDICTIVE, Comparison.NON_INFERIORITY, "auc", margin=0.02),
    EvidenceClause(EvidenceKind.BUSINESS, Comparison.NON_INFERIORITY),
)
"""A retrained model's rule of evidence, stated before its tests: it ranks at least as well
as production on the latest labelled snapshot (AUC within 0.02) and keeps customers at least
as well on an A/B cohort (retention within the contract's rollback margin)."""


def retention_contract(
    baseline: float, rule: tuple[EvidenceClause, ...] = RETRAIN_RULE
) -> BusinessImpact:
    """The churn model's contract: weekly retention, higher is better, around `baseline`,
    promoted by `rule`."""
    return BusinessImpact(
        metric=METRIC,
        direction=Direction.HIGHER,
        baseline=round(baseline, 4),
        target=round(min(baseline + 0.005, 0.999), 4),
        measurement_period="7d",
        rollback_threshold=round(baseline - 0.03, 4),
        rationale="the retention campaign exists to keep customers; accuracy is not the goal",
        evidence_rule=rule,
    )


@dataclass
class ContractedArm(ArchitectureArm):
    """The negentropic arm's contracts and its daily serving, without the team's loop."""

    cadence_days: ClassVar[int] = 1
    snapshot_days: ClassVar[int] = 1
    predictions: dict[int, dict[str, str]] = field(default_factory=dict)
    """Serving day → entity → prediction id (to log outcomes when they are known)."""
    exposures: dict[int, list[str]] = field(default_factory=dict)
    """Day → entities first exposed then, in the running experiment."""
    served_at: dict[int, int] = field(default_factory=dict)
    """Serving day → the production version that scored that day's customers."""
    campaign: dict[int, list[str]] = field(default_factory=dict)
    """Serving day → the customers picked for the retention campaign (treated for a week)."""
    experiment: str | None = None
    cohort_pending: bool = False
    next_first_try: int = FIRST_DEPLOY_DAY
    """The day the first deployment is (re)tried: a week later when its evidence fell short."""
    materialised_at: Any = None
    """The moment the online store was last materialised (once per simulated day)."""
    seen: set[str] = field(default_factory=set)
    """Customers scored at least once: a newcomer is scored the evening of their signup."""

    def configure(self, folder: Path) -> None:
        path = folder / "lucid.yaml"
        settings = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        settings["training_pipelines"] = {MODEL: "lucid.scenarios.churn.training:retrain"}
        settings["approvers"] = [APPROVER]
        path.write_text(yaml.safe_dump(settings, sort_keys=False), encoding="utf-8")

    def __post_init__(self) -> None:
        super().__post_init__()
        features = self.lucid.features
        for path in DEFINITION_FILES:
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

    def learn_outcomes(self, day: int) -> None:
        """The weekly snapshots' labels (for training), and the outcomes of every serving day
        whose 14 days have passed, joined to that day's predictions."""
        super().learn_outcomes(day)
        for served in sorted(d for d in self.predictions if d + HORIZON_DAYS <= day):
            labels = self.world.labels([served], horizon_days=HORIZON_DAYS)
            self.log_outcomes(served, labels.to_pylist())

    def log_outcomes(self, served: int, rows: list[dict[str, Any]]) -> None:
        """The model's own outcomes (churned within 14 days) joined to its predictions."""
        churned = {row["entity_id"]: int(row[LABEL]) for row in rows}
        logged = self.predictions.pop(served, {})
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
        """The contract's metric for the week starting at `day`: the retention of the
        customers the version serving that day scored during the week."""
        kept = self.weekly_retention(day)
        served = self.served_at.get(day)
        scored = {
            e
            for d in range(day, day + CYCLE_DAYS)
            if self.served_at.get(d) == served
            for e in self.predictions.get(d, {})
            if e in kept
        }
        if served is not None and scored:
            self.lucid.registry.observe(
                MODEL,
                served,
                metric=METRIC,
                value=round(float(np.mean([kept[e] for e in sorted(scored)])), 4),
                period=f"week of day {day}",
                actor="business-analytics",
            )
            if served == self.production:  # a replaced version is judged no more
                self.lucid.registry.evaluate(MODEL, actor="business-analytics")

    def record_exposures(self) -> None:
        """The A/B cohort's outcomes, once a week has passed since its exposure."""
        for day in [d for d in self.exposures if d + CYCLE_DAYS <= self.world.day]:
            exposed = self.exposures.pop(day)
            if self.experiment is None:
                continue
            kept = self.weekly_retention(day)
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
        """Score the day's customers (those whose weekday it is), pick the top 5 % of them
        for the campaign, and return everyone picked in the last seven days: a treatment
        lasts a week, so at any time about 5 % of the base is treated."""
        if self.production is None and day >= self.next_first_try:
            self.first_deployment(day)
        if self.production is None:
            return []
        self.refresh_online()
        active = self.world.active_customers()
        if not self.seen:
            self.seen.update(active)
        customers = [c for c in active if weekday_of(c) == day % CYCLE_DAYS]
        production = self.lucid.registry.load_model(MODEL)
        rows = production.online_rows(customers)
        scores = production.scores(rows)
        arms, challenger = self.serve_experiment(day, customers, rows, scores)
        versions = {"control": production.version, "challenger": challenger}
        self.predictions[day] = self.log_predictions(customers, rows, scores, arms, versions)
        self.served_at[day] = production.version
        self.keep_served(day, customers, rows, scores, production.version)
        self.campaign[day] = self.top_at_risk(
            customers, [float(s or 0.0) for s in scores], BUDGET_SHARE
        )
        for old in [d for d in self.campaign if d <= day - CYCLE_DAYS]:
            del self.campaign[old]
        return sorted({c for picked in self.campaign.values() for c in picked})

    def refresh_online(self) -> None:
        """Materialise the canonical features as known now, once per moment: the evening's
        run also serves the next morning."""
        now = self.clock()
        if self.materialised_at != now:
            self.lucid.features.materialize(list(CANONICAL), at=now)
            self.materialised_at = now

    def keep_served(
        self,
        day: int,
        customers: Sequence[str],
        rows: Sequence[dict[str, Any]],
        scores: Sequence[float | None],
        version: int | None,
    ) -> None:
        """The scoring, as served, for the referee."""
        columns = tuple(pin.split("@")[0] for pin in CANONICAL)
        matrix = np.array([[float(row.get(c) or 0.0) for c in columns] for row in rows])
        self.serve(day, customers, matrix, columns, scores, version)

    def welcome_newcomers(self) -> None:
        """Score the customers who signed up today, the evening of their signup, with
        production (they join the weekday rhythm from then on); the day's monitoring window
        sees them."""
        production_version = self.production
        if production_version is None:
            return
        newcomers = [c for c in self.world.active_customers() if c not in self.seen]
        self.seen.update(newcomers)
        if not newcomers:
            return
        self.refresh_online()
        production = self.lucid.registry.load_model(MODEL)
        rows = production.online_rows(newcomers)
        scores = production.scores(rows)
        evening = self.clock() - timedelta(minutes=1)
        day = self.world.day - 1
        logged = self.log_predictions(
            newcomers,
            rows,
            scores,
            {c: "control" for c in newcomers},
            {"control": production.version},
            served_at=evening,
        )
        self.predictions.setdefault(day, {}).update(logged)
        self.keep_served(day, newcomers, rows, scores, production.version)

    def picked(self, treated: Sequence[str]) -> Sequence[str]:
        return self.campaign.get(max(self.campaign, default=-1), [])

    def serve_experiment(
        self,
        day: int,
        customers: list[str],
        rows: list[dict[str, Any]],
        scores: list[float | None],
    ) -> tuple[dict[str, str], int | None]:
        """Each customer's arm and the challenger's version; with a running experiment, the
        challenger's scores replace production's for its arm (in `scores`), and the customers
        active on its first day are exposed as the experiment's one cohort (each is scored
        with their arm's version on their weekday)."""
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
            # One cohort: the customers active on the experiment's first day.
            active = self.world.active_customers()
            activity = self.pre_period_activity(active)
            self.lucid.experiments.expose(
                self.experiment,
                [
                    {
                        "entity_id": c,
                        "arm": assign(c, design.salt, design.challenger_share),
                        "exposed_at": self.clock(),
                        "covariate": activity[c],
                    }
                    for c in active
                ],
                actor="serving",
            )
            self.exposures[day] = active
            self.cohort_pending = False
        return arms, challenger.version

    def pre_period_activity(self, customers: list[str]) -> dict[str, float]:
        """Each customer's canonical 30-day activity as served this morning: the A/B test's
        CUPED covariate, measured before the treatment starts."""
        rows = fresh_rows(self.lucid.features.get_online_features(customers, [CANONICAL[0]]))
        return {c: float(row[CANONICAL[0]] or 0.0) for c, row in zip(customers, rows, strict=True)}

    def log_predictions(
        self,
        customers: list[str],
        rows: list[dict[str, Any]],
        scores: list[float | None],
        arms: dict[str, str],
        versions: dict[str, int | None],
        served_at: datetime | None = None,
    ) -> dict[str, str]:
        """Log each arm's predictions with the version that made them, with the customer's
        segment and plan as the CRM knows them; entity → prediction id."""
        now = served_at or self.clock()
        crm = self.crm()
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
                        # The model's inputs, and the CRM's segment and plan for monitoring.
                        "features": {**rows[i], **crm.get(customers[i], {})},
                        "score": scores[i],
                        "arm": arm,
                    }
                    for i in members
                ],
            )
            ids.update({customers[i]: pid for i, pid in zip(members, logged, strict=True)})
        return ids

    def watch(self) -> None:
        """The seed's churn policy, daily, with performance judged label-free, and the health
        of the served features.

        Outcomes arrive 14 days after a prediction, so a day's window never holds labels and
        `accuracy_drop` would be "insufficient data" every day; its label-free estimate
        (confidence-based, from the calibrated scores) watches performance instead, with the
        seed's bounds and actions. The realised retention is judged by the business check and
        by the deployment's checkpoints. The health checks (NULL share rise, values out of the
        reference's range, new and vanished categories — the segment is logged with each
        prediction) alert the data team, and at critical ask for an investigation: retraining
        on broken data would learn the breakage. The sources behind the pinned features are
        watched too (daily volume against the same weekday of the trailing weeks, freshness,
        NULL share, schema), so a source that stops recording is seen on its first day. No
        volume check on the predictions: the
        reference comes from a file and has no duration to scale the expected rows by.
        """
        seed = MonitoringPolicy.churn_default(MODEL)
        thresholds = tuple(
            replace(t, metric="estimated_accuracy_drop") if t.metric == "accuracy_drop" else t
            for t in seed.thresholds
        )
        data_team = SEED_ACTIONS["alert_data_team"]
        investigate = (*data_team, Action(ActionKind.INVESTIGATE))
        health = default_health_thresholds(
            None, warning_actions=data_team, critical_actions=investigate
        )
        sources = default_source_thresholds(warning_actions=data_team, critical_actions=investigate)
        policy = replace(
            seed,
            thresholds=(
                *thresholds,
                *(t for t in health if t.metric != "volume_ratio"),
                *sources,
            ),
            reporting=replace(seed.reporting, frequency=Frequency.DAILY),
            minimum_rows=MINIMUM_ROWS,
            false_alarm_budget=DAILY_FALSE_ALARM_BUDGET,
        )
        self.lucid.monitoring.set_policy(
            policy,
            actor="dana",
            rationale="the seed's churn policy on daily windows, and the served features' health",
        )

    def first_deployment(self, day: int) -> None:
        """Register the first model, back-test it against no model on the latest labelled
        snapshot (held out of its training) and deploy it through the gate. When the back-test
        is refused (a snapshot of a small world holds too few churners to compare) or the gate
        refuses, the version is archived and a new one is tried a week later: no evidence, no
        model."""
        baseline = self.retention_since(0)
        if day == FIRST_DEPLOY_DAY:
            self.watch()
        version = self.register(retention_contract(baseline, FIRST_RULE), "first churn model")
        self.lucid.registry.promote(
            MODEL, version, Stage.CHALLENGER, actor="sam", rationale="ready for its back-test"
        )
        try:
            self.backtest(version, "the first model against no model (random targeting)")
            self.lucid.loop.deploy(
                MODEL,
                version,
                hypotheses=[
                    {
                        "description": "treating the customers the model ranks most at risk "
                        "keeps more of them than treating at random",
                        "expected_impact": 0.005,
                        "unit": "retention_7d",
                    }
                ],
                actor="sam",
                rationale="its back-test proved it ranks churners better than no model",
            )
        except LucidError as refused:
            self.lucid.registry.archive(MODEL, version, actor="sam", rationale=refused.sentence)
            self.next_first_try = day + CYCLE_DAYS

    def backtest(self, version: int, why: str) -> None:
        """Score the latest labelled snapshot (held out of `version`'s training) with
        `version` and with production (or no model), and attach the paired comparison."""
        self.lucid.shadow.backtest(
            MODEL,
            version,
            labels=held_out_labels(self.folder),
            actor="sam",
            rationale=why,
        )

    def register(
        self,
        impact: BusinessImpact,
        why: str,
        since_day: int | None = None,
        *,
        daily: bool = False,
    ) -> int:
        """Fit, register and profile a version: on the latest weekly snapshots (since
        `since_day` when given), or on every daily snapshot since `since_day` (`daily`)."""
        fitted = fit_churn_model(
            self.lucid,
            CANONICAL,
            since_day=since_day,
            snapshots=(
                URGENT_SNAPSHOTS
                if daily
                else TRAINING_SNAPSHOTS
                if since_day is None
                else RETRAINING_SNAPSHOTS
            ),
            every=1 if daily else CYCLE_DAYS,
        )
        registered = self.lucid.registry.register_model(
            MODEL,
            artifact=SklearnArtifact(estimator=fitted.estimator),
            impact=impact,
            features=list(CANONICAL),
            training_data=(
                "the daily snapshots since the detection under labels/"
                if daily
                else "the latest known weekly snapshots under labels/"
            ),
            offline_metrics=fitted.metrics,
            registered_by="sam",
            rationale=why,
        )
        crm = self.crm()
        reference = fitted.reference
        for column in ("segment", "plan"):
            reference = reference.append_column(
                column,
                pa.array([crm.get(e, {}).get(column) for e in fitted.entities], pa.string()),
            )
        self.profile(registered.version, reference)
        return registered.version

    def profile(self, version: int, reference: Any) -> None:
        path = write_reference(self.folder, MODEL, version, reference)
        self.lucid.monitoring.build_profile(MODEL, version, reference=path, actor="sam")

    def scorecard(self) -> Scorecard:
        return measure_scorecard(self.lucid.features, self.lucid.registry, self.lucid.incidents)
