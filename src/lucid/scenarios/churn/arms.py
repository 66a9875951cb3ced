"""The two architectures of the seed, each a team running its churn model on its own copy of
the same world.

Both arms see the same customers and the same shocks (the world's draws never depend on
treatments), spend the same retention budget every week (5 % of paying customers) on the
customers their model ranks most at risk, and learn outcomes the same way: a snapshot's churn
labels (churned within 14 days) become known 14 days after it. They differ only in
architecture:

- `EntropicArm` — the seed's baseline: the three teams' contradictory "activity" definitions;
  a model trained once on Data Science's definition, served with Marketing's, deployed by hand
  on its offline accuracy, never monitored.
- `NegentropicArm` — Lucid: canonical features approved by the three teams and served from
  the online store; a registered model with its retention contract (weekly retention, known at
  each week's end); the seed's churn policy run every week; and the loop — incident,
  diagnosis, proposals, retraining on outcomes observed since the detection, an A/B test on a
  cohort (10 %, or half the customers when 10 % cannot reach the minimum sample), promotion
  through the gate (an approver's override, saying why, when the evidence falls short),
  checkpoints, lesson.

Neither arm reads the world's ground truth (shock days, hazards, the causal model): only its
own data files, its own labels, its own stores, and what a business sees of its customers —
their segment and their cancellations.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import joblib
import numpy as np
import pyarrow as pa
import yaml

from lucid.bootstrap import Lucid, bootstrap
from lucid.contracts.events import parse_time
from lucid.contracts.experiments import assign, minimum_sample_size
from lucid.contracts.semantic import FeatureRef, ServedValue
from lucid.contracts.validity import Frequency, MonitoringPolicy
from lucid.contracts.value import BusinessImpact, Direction, Override, Stage
from lucid.errors import LucidError
from lucid.features.definition_files import load_definitions
from lucid.features.serving import log_served_values
from lucid.memory.scorecard import Scorecard, measure_scorecard
from lucid.project import init_project
from lucid.registry.model_artifacts import SklearnArtifact
from lucid.registry.portfolio import Portfolio
from lucid.scenarios.churn import (
    CANONICAL_DEFINITIONS,
    LEGACY_DEFINITIONS,
    SPEND_DEFINITIONS,
    TICKETS_DEFINITIONS,
    WORLD_SOURCES,
)
from lucid.scenarios.churn.training import (
    HORIZON_DAYS,
    LABEL,
    LABELS_FOLDER,
    TRAINING_SNAPSHOTS,
    feature_matrix,
    fit_churn_model,
    known_snapshots,
    write_reference,
)
from lucid.scenarios.churn.world import World, WorldConfig
from lucid.scenarios.churn.world_files import EVENT_TIME, write_labels, write_world
from lucid.settings import load_settings

MODEL = "churn"
CYCLE_DAYS = 7
BUDGET_SHARE = 0.05
"""Share of active customers the retention campaign can treat each week (both arms)."""
FIRST_DEPLOY_DAY = 28
"""Both arms deploy their first model once two weekly snapshots' outcomes are known."""
TEAMS = {"marketing": "mia", "data-science": "sam", "product": "paul"}
CANONICAL = (
    "customer_activity_30d@1.0.0",
    "customer_spend_30d@1.0.0",
    "customer_tickets_30d@1.0.0",
)
APPROVER = "olga"
"""The head of data: the approver who may override the promotion gate (four-eyes)."""
EXPERIMENT_SHARE = 0.1
LESSONS = {
    "concept_drift": "when behaviour changes, the old relation to churn stops holding: retrain "
    "on outcomes observed after the shift, test on a cohort, then re-baseline the contract",
    "data_drift": "a new population moves the feature mix before it moves retention: watch "
    "the segment mix, and refit with the newcomers in the reference",
    "upstream_change": "a source that stops recording silently empties a feature: check "
    "source volumes first, and retrain on what is still recorded",
}
"""What the team writes down when an incident of each root cause closes."""
READY_AFTER = timedelta(days=HORIZON_DAYS + 5 * CYCLE_DAYS)
"""After a detection, retraining waits for five weekly snapshots' outcomes since it: 30-day
features take a month to settle after a shift, and the reference must be the settled world."""
RETRAINING_SNAPSHOTS = 3
"""A retraining after an incident reads the latest three snapshots since the detection."""


class SimulatedClock:
    """The arm's time: the world's current moment, moved forward by the scenario."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC)


@dataclass
class WeekRecord:
    """What one arm did in one week: for the report's plots."""

    day: int
    treated: int
    retention: float
    level: str | None = None
    served_version: int | None = None


@dataclass
class Arm:
    """The parts both arms share: the world, the project, the clock, the weekly rhythm."""

    name: str
    folder: Path
    config: WorldConfig
    world: World = field(init=False)
    lucid: Lucid = field(init=False)
    clock: SimulatedClock = field(init=False)
    weeks: list[WeekRecord] = field(default_factory=list)
    labelled: set[int] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.world = World(self.config)
        self.clock = SimulatedClock(_aware(self.world.now))
        init_project(self.folder, name=f"churn-{self.name}", actor="scenario", environ={}).close()
        self.configure(self.folder)
        self.lucid = bootstrap(load_settings(self.folder, {}))
        self.lucid.clock = self.clock
        write_world(self.world, self.folder)  # the 30 days of history before day 0

    def configure(self, folder: Path) -> None:
        """Project settings before the handle opens (lucid.yaml)."""

    def close(self) -> None:
        self.lucid.close()

    # -- the weekly rhythm -------------------------------------------------------------------

    def cycle(self) -> None:
        """One week: learn the outcomes now known, act, live the week, publish its data."""
        day = self.world.day
        self.clock.moment = _aware(self.world.now)
        self.learn_outcomes(day)
        treated = self.decide(day)
        period = self.world.step(CYCLE_DAYS, treated=treated)
        self.clock.moment = _aware(self.world.now)
        write_world(self.world, self.folder)  # the week's rows land in the data files
        self.weeks.append(
            WeekRecord(day, len(treated), period.retention.retention_rate, *self.after_week())
        )

    def learn_outcomes(self, day: int) -> None:
        """Write the labels of every past weekly snapshot whose 14 days have passed."""
        for snapshot in range(0, day - HORIZON_DAYS + 1, CYCLE_DAYS):
            if snapshot in self.labelled:
                continue
            labels = self.world.labels([snapshot], horizon_days=HORIZON_DAYS)
            write_labels(labels, self.folder / LABELS_FOLDER / f"snapshot-{snapshot:04d}.parquet")
            self.labelled.add(snapshot)
            self.on_labels(snapshot, labels.to_pylist())

    def on_labels(self, snapshot: int, rows: list[dict[str, Any]]) -> None:
        """React to a snapshot's outcomes becoming known."""

    def decide(self, day: int) -> list[str]:
        """The customers to treat this week."""
        return []

    def after_week(self) -> tuple[str | None, int | None]:
        """(worst monitoring level, version served) after the week; None where not known."""
        return None, None

    def scorecard(self) -> Scorecard:
        raise NotImplementedError

    def segments(self) -> dict[str, str]:
        """Each customer's segment, as the CRM knows it (never who churned or why)."""
        table = self.world.customers().select(["customer_id", "segment"]).to_pydict()
        return dict(zip(table["customer_id"], table["segment"], strict=True))

    @staticmethod
    def top_at_risk(entities: Sequence[str], scores: Sequence[float], share: float) -> list[str]:
        """The `share` of entities with the highest scores (ties by id: deterministic)."""
        budget = round(len(entities) * share)
        order = sorted(range(len(entities)), key=lambda i: (-scores[i], entities[i]))
        return [entities[i] for i in order[:budget]]


# -- the entropic arm ----------------------------------------------------------------------


@dataclass(frozen=True)
class HandDeployedModels:
    """The entropic arm's model inventory: one model copied to production by hand, with no
    business-impact contract — what the scorecard's portfolio figures read for this arm."""

    deployed: int

    def portfolio(self, offline_metric: str | None = None) -> Portfolio:
        return Portfolio(self.deployed, self.deployed, offline_metric, None, (), ())


TRAINED_ON = "engaged_users@1.0"
"""Data Science trained on its own activity (logins over 7 days)..."""
SERVED_WITH = "active_buyers@1.0"
"""...and the serving job computes Marketing's (purchases over 30 days) under the same name."""


@dataclass
class EntropicArm(Arm):
    estimator: Any = None

    def __post_init__(self) -> None:
        super().__post_init__()
        features = self.lucid.features
        for path in (CANONICAL_DEFINITIONS, WORLD_SOURCES):
            sources = load_definitions(path)
            features.apply(
                type(sources)(sources=sources.sources, features=[]),
                actor="data-engineering",
                rationale="the event sources every team reads",
            )
        features.import_legacy(
            load_definitions(LEGACY_DEFINITIONS),
            actor="teams",
            rationale="each team wrote the activity it needed, as it understood it",
        )

    def decide(self, day: int) -> list[str]:
        if self.estimator is None and day >= FIRST_DEPLOY_DAY:
            self.train_once()
        if self.estimator is None:
            return []
        customers = self.world.active_customers()
        served = self.serving_job(customers)
        scores = self.estimator.predict_proba(np.array(served).reshape(-1, 1))[:, 1]
        return self.top_at_risk(customers, list(scores), BUDGET_SHARE)

    def train_once(self) -> None:
        """Trained once on Data Science's definition; 'deployed' by copying a file."""
        # Straight to the engine: nobody approved this definition, nobody asked.
        features = self.lucid.features
        definition = features.resolve(FeatureRef.parse(TRAINED_ON)).definition
        rows = [
            row
            for path in known_snapshots(self.folder)[-TRAINING_SNAPSHOTS:]
            for row in self.lucid.engine.training_set(
                path,
                [definition],
                features.sources(),
                entity_column="entity_id",
                time_column="timestamp",
            ).to_dicts()
        ]
        from sklearn.linear_model import LogisticRegression

        matrix = feature_matrix(rows, ["engaged_users"])
        labels = np.array([int(row[LABEL]) for row in rows])
        self.estimator = LogisticRegression(max_iter=1_000).fit(matrix, labels)
        accuracy = float(self.estimator.score(matrix, labels))
        path = self.folder / "models" / "churn.joblib"
        path.parent.mkdir(parents=True, exist_ok=True)
        joblib.dump(self.estimator, path)
        (self.folder / "models" / "churn.json").write_text(
            json.dumps({"trained_on": TRAINED_ON, "accuracy": accuracy}), encoding="utf-8"
        )

    def serving_job(self, customers: Sequence[str]) -> list[float]:
        """Marketing's count served as the model's input, logged as the model's feature."""
        features = self.lucid.features
        definition = features.resolve(FeatureRef.parse(SERVED_WITH)).definition
        moment = self.world.now
        computed = self.lucid.engine.compute(
            definition, features.sources(), [(c, moment) for c in customers], as_known_at=True
        )
        values = [float(computed.get((c, moment)) or 0.0) for c in customers]
        trained = str(features.resolve(FeatureRef.parse(TRAINED_ON)).definition.ref)
        log_served_values(
            self.lucid.uows,
            [
                ServedValue(c, trained, v, _aware(moment).timestamp(), "fresh")
                for c, v in zip(customers, values, strict=True)
            ],
            _aware(moment),
        )
        return values

    def scorecard(self) -> Scorecard:
        deployed = HandDeployedModels(1 if self.estimator is not None else 0)
        return measure_scorecard(self.lucid.features, deployed, self.lucid.incidents)


# -- the negentropic arm -------------------------------------------------------------------


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
class NegentropicArm(Arm):
    predictions: dict[int, dict[str, str]] = field(default_factory=dict)
    """Snapshot day → entity → prediction id (to log outcomes when they are known)."""
    exposures: dict[int, list[str]] = field(default_factory=dict)
    """Snapshot day → entities first exposed then, in the running experiment."""
    served_at: dict[int, int] = field(default_factory=dict)
    """Snapshot day → the production version that chose that week's treatments."""
    experiment: str | None = None
    cohort_pending: bool = False
    handling: dict[str, str] = field(default_factory=dict)
    """Incident id → where the team is with it: waiting, testing, deployed, closed."""
    failing_checks: list[str] = field(default_factory=list)

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
        arms = {c: "control" for c in customers}
        challenger = None
        if self.experiment is not None:
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
                    [
                        {"entity_id": c, "arm": arms[c], "exposed_at": self.clock()}
                        for c in customers
                    ],
                    actor="serving",
                )
                self.exposures[day] = customers
                self.cohort_pending = False
        now = self.clock()
        segments = self.segments()
        ids: dict[str, str] = {}
        for arm, model in (("control", production), ("challenger", challenger)):
            members = [i for i, c in enumerate(customers) if arms[c] == arm]
            if model is None or not members:
                continue
            logged = self.lucid.monitoring.log_predictions(
                MODEL,
                model.version,
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
        self.predictions[day] = ids
        self.served_at[day] = production.version
        return self.top_at_risk(customers, [float(s or 0.0) for s in scores], BUDGET_SHARE)

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

    # -- after the week: monitoring and the loop ---------------------------------------------

    def after_week(self) -> tuple[str | None, int | None]:
        self.observe_week(self.world.day - CYCLE_DAYS)
        self.lucid.loop.run_checkpoints(actor="loop")
        if self.production is None:
            return None, None
        now = self.clock()
        report = self.lucid.monitoring.run(MODEL, start=now - timedelta(days=CYCLE_DAYS), end=now)
        self.failing_checks = [
            f"{c['metric']}" + (f"[{c['feature']}]" if c.get("feature") else "") + f"={c['level']}"
            for c in report.record.checks
            if c["level"] in ("warning", "critical")
        ]
        self.respond(int(self.world.day))
        return report.record.level, self.production

    def respond(self, day: int) -> None:
        """The team's part of the loop, from what Lucid shows it (never the world's truth)."""
        incidents = self.lucid.incidents
        for incident in incidents.list(model=MODEL):
            if incident.status.value != "closed":
                self.work_on(incident, day)

    def work_on(self, incident: Any, day: int) -> None:
        """Move one incident along: take it in hand, diagnose, propose; once outcomes after
        the detection are known, retrain and test; deploy; close with a lesson once the
        checks are back in their band."""
        incidents = self.lucid.incidents
        record = incident.to_dict()
        state = self.handling.get(record["id"])
        if state is None:
            incidents.acknowledge(record["id"], actor="dana")
            silent = self.silent_sources()
            incidents.diagnose(
                record["id"],
                root_cause=self.root_cause(silent),
                details="checks outside their band: "
                + ", ".join(self.failing_checks)
                + "".join(f"; no {source} recorded last week" for source in silent),
                participants=["data-science", "data-engineering", "business"],
                actor="dana",
            )
            incidents.propose(
                record["id"],
                [
                    "retrain on outcomes observed since the detection",
                    "add or revise features if the behaviour-to-churn relation changed",
                    "try another algorithm if a refit does not restore retention",
                ],
                actor="sam",
            )
            state = self.handling[record["id"]] = "waiting"
        opened = parse_time(record["opened_at"])
        if state == "waiting" and record.get("recovered_at"):
            self.close_incident(record["id"], "the checks came back in their band without a change")
        elif state == "waiting" and self.clock() >= opened + READY_AFTER:
            self.handling[record["id"]] = self.start_experiment(record["id"])
        elif state == "testing" and self.try_conclude():
            self.handling[record["id"]] = "deployed"
        elif state == "deployed" and record.get("recovered_at"):
            self.close_incident(record["id"], LESSONS[record["root_cause"]])

    def close_incident(self, incident_id: str, lesson: str) -> None:
        self.lucid.incidents.record_lesson(incident_id, lesson, actor="dana")
        self.lucid.incidents.resolve(incident_id, resolution="checks back in band", actor="dana")
        self.handling[incident_id] = "closed"

    def start_experiment(self, incident_id: str) -> str:
        """Retrain, then test the candidate against production on a cohort of customers.

        The effect worth detecting is a drop to the rollback threshold; the challenger's share
        is the seed's 10 % when that reaches the minimum sample, else half the customers; when
        even that cannot, the candidate goes to production by an approver's override, saying
        so.
        """
        current = self.lucid.registry.production_version(MODEL)
        assert current is not None
        since = self.detected_day(incident_id)
        observed = self.retention_since(since)
        version = self.register(
            retention_contract(observed),
            "retrained on outcomes observed since the incident; the contract's baseline is the "
            "retention measured since then",
            since_day=since,
        )
        self.lucid.registry.promote(
            MODEL, version, Stage.CHALLENGER, actor="sam", rationale="A/B against production"
        )
        baseline, alpha = current.impact.baseline, current.impact.alpha
        # Powered to catch a challenger as bad as the rollback threshold: a gain of a few
        # tenths of a point needs far more customers than this base has.
        effect = round(current.impact.rollback_threshold - baseline, 4)
        active = len(self.world.active_customers())

        def reachable(option: float) -> bool:
            need = minimum_sample_size(baseline, effect, challenger_share=option, alpha=alpha)
            return need.challenger <= 0.95 * active * option and (
                need.control <= 0.95 * active * (1 - option)
            )

        share = next((option for option in (EXPERIMENT_SHARE, 0.5) if reachable(option)), None)
        if share is None:
            self.promote(
                version, None, f"no A/B can reach its minimum sample on {active} customers"
            )
            return "deployed"
        name = f"churn-v{version}-vs-v{current.version}"
        self.lucid.experiments.create(
            name,
            model=MODEL,
            challenger=version,
            minimum_detectable_effect=effect,
            challenger_share=share,
            actor="sam",
            rationale=f"does v{version} keep customers at least as well as v{current.version}?",
        )
        self.experiment, self.cohort_pending = name, True
        self.lucid.incidents.link_experiment(incident_id, name, actor="sam")
        return "testing"

    def detected_day(self, incident_id: str) -> int:
        """The simulated day the incident was opened (monitoring's detection)."""
        opened = self.lucid.incidents.get(incident_id).opened_at
        moment = parse_time(opened).replace(tzinfo=None)
        return (moment - self.config.start).days

    def try_conclude(self) -> bool:
        """Once the cohort's outcomes are known: conclude, then deploy through the gate."""
        assert self.experiment is not None
        if self.exposures or self.cohort_pending:  # the cohort's outcomes are still unknown
            return False
        design = self.lucid.experiments.design(self.experiment)
        try:
            evidence = self.lucid.experiments.conclude(
                self.experiment, actor="sam", rationale="every exposed customer's outcome is known"
            )
            found = f"p = {evidence.p_value:.3g}"
        except LucidError as refused:
            found = refused.sentence
        self.experiment = None
        self.promote(design.challenger_version, design.experiment_id, found)
        return True

    def promote(self, version: int, experiment: str | None, found: str) -> None:
        """Deploy `version` with its hypothesis: by evidence, else by the approver's override."""
        basis = f"the A/B test {experiment}" if experiment else "no A/B test"
        hypothesis = {
            "description": "the retrained version keeps more customers after the shift",
            "expected_impact": 0.005,
            "unit": "retention_7d",
        }
        try:
            self.lucid.loop.deploy(
                MODEL,
                version,
                hypotheses=[hypothesis],
                actor="sam",
                rationale=f"{basis} proved it ({found})",
            )
        except LucidError as refused:
            self.lucid.loop.deploy(
                MODEL,
                version,
                hypotheses=[hypothesis],
                actor="sam",
                rationale=f"{basis} did not prove it ({found})",
                override=Override(
                    APPROVER,
                    f"the gate refused: {refused.sentence} The production version's reference "
                    "no longer matches the world; the checkpoints will judge the new one.",
                ),
            )

    def root_cause(self, silent: Sequence[str]) -> str:
        """The data engineer's first look, then the checks that failed: a source that
        recorded nothing last week is an upstream change; a shifted segment mix, data drift;
        a failing business or performance check, concept drift; anything else, data drift."""
        text = " ".join(self.failing_checks)
        if silent:
            return "upstream_change"
        if "[segment]" in text:
            return "data_drift"
        if "business" in text or "accuracy" in text or "auc" in text:
            return "concept_drift"
        return "data_drift"

    def silent_sources(self) -> list[str]:
        """Sources with no row in the last week of the project's own data files."""
        end = self.world.now
        start = end - timedelta(days=CYCLE_DAYS)
        silent = []
        for source, column in EVENT_TIME.items():
            files = str(self.folder / "data" / source / "*.parquet")
            with duckdb.connect() as connection:
                [(count,)] = connection.execute(
                    f"SELECT count(*) FROM read_parquet('{files}') "
                    f"WHERE {column} >= ? AND {column} < ?",
                    [start, end],
                ).fetchall()
            if count == 0:
                silent.append(source)
        return silent

    def scorecard(self) -> Scorecard:
        return measure_scorecard(self.lucid.features, self.lucid.registry, self.lucid.incidents)


ArmFactory = Callable[[str, Path, WorldConfig], Arm]
