"""The entropic arm — the seed's baseline: the three teams' contradictory "activity"
definitions; a model trained on Data Science's definition, served with Marketing's, deployed
by hand on its offline accuracy, never monitored.

The team notices problems the way the seed describes: late, through the business. Every four
weeks a business review compares the last four weeks' customer churn with the level it
accepted at the previous reviews; when churn rose by more than a fifth, it files a ticket and
Data Science retrains in haste on the latest snapshots — no analysis (the ticket always
blames a stale model), no test, no lesson — and the ticket is closed once the new file is
copied. The accepted level then moves to what the review saw."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import skops.io  # type: ignore[import-untyped]

from lucid.contracts.override_share import (
    EVERY_MODEL,
    OverrideShares,
    PromotionTally,
    tally_promotions,
)
from lucid.contracts.periods import WHOLE_HISTORY
from lucid.contracts.semantic import FeatureRef, ServedValue
from lucid.features.definition_files import load_definitions
from lucid.features.serving import log_served_values
from lucid.memory.scorecard import Scorecard, measure_scorecard
from lucid.registry.portfolio import Portfolio
from lucid.scenarios.churn import CANONICAL_DEFINITIONS, LEGACY_DEFINITIONS, WORLD_SOURCES
from lucid.scenarios.churn.architecture import (
    BUDGET_SHARE,
    FIRST_DEPLOY_DAY,
    ArchitectureArm,
    TeamIncident,
    aware,
    promotion_counts,
)
from lucid.scenarios.churn.training import (
    LABEL,
    TRAINING_SNAPSHOTS,
    feature_matrix,
    known_snapshots,
)


@dataclass(frozen=True)
class HandDeployedModels:
    """The entropic arm's model inventory: one model copied to production by hand, with no
    business-impact contract — what the scorecard's portfolio figures read for this arm. No
    registry saw the copy: no promotion is recorded, so no override share is measured."""

    deployed: int

    def portfolio(self, offline_metric: str | None = None) -> Portfolio:
        return Portfolio(self.deployed, self.deployed, offline_metric, None, (), ())

    def override_shares(self, period: str = "month") -> OverrideShares:
        return tally_promotions((), period)


TRAINED_ON = "engaged_users@1.0"
"""Data Science trained on its own activity (logins over 7 days)..."""
SERVED_WITH = "active_buyers@1.0"
"""...and the serving job computes Marketing's (purchases over 30 days) under the same name."""


REVIEW_DAYS = 28
"""The business reviews churn every four weeks."""
ALARM_RISE = 0.2
"""A review files a ticket when four-week churn exceeds the accepted level by a fifth."""
HASTY_GUESS = "the model went stale"
"""What every ticket names as its cause: nobody analyses."""


@dataclass
class EntropicArm(ArchitectureArm):
    estimator: Any = None
    version: int = 0
    """How many model files were copied to production (each retrain copies a new one)."""
    accepted_churn: float | None = None
    """The four-week churn the business review takes as normal."""
    tickets: list[TeamIncident] = field(default_factory=list)

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
            self.train()
        if self.estimator is None:
            return []
        if day >= FIRST_DEPLOY_DAY + REVIEW_DAYS and (day - FIRST_DEPLOY_DAY) % REVIEW_DAYS == 0:
            self.business_review(day)
        customers = self.world.active_customers()
        served = self.serving_job(customers)
        matrix = np.array(served).reshape(-1, 1)
        scores = self.estimator.predict_proba(matrix)[:, 1]
        self.serve(day, customers, matrix, ("engaged_users",), list(scores), self.version)
        return self.top_at_risk(customers, list(scores), BUDGET_SHARE)

    def business_review(self, day: int) -> None:
        """Four-week churn against the accepted level; a rise of more than `ALARM_RISE` files
        a ticket, and the model is retrained at once and the ticket closed, without a lesson."""
        kept = self.world.retention(day - REVIEW_DAYS, day)
        churn = 1.0 - kept.retention_rate
        accepted = self.accepted_churn
        self.accepted_churn = churn
        if accepted is None or churn <= accepted * (1.0 + ALARM_RISE):
            return
        self.tickets.append(
            TeamIncident(
                id=f"ticket-{len(self.tickets) + 1}",
                opened_day=float(day),
                detected_by=f"business review: four-week churn {churn:.1%} against "
                f"{accepted:.1%} accepted",
                root_cause=HASTY_GUESS,
                lesson=None,
                closed=True,
            )
        )
        self.train()

    def team_incidents(self) -> list[TeamIncident]:
        return list(self.tickets)

    def train(self) -> None:
        """Trained on Data Science's definition; 'deployed' by copying a file."""
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
        self.version += 1
        accuracy = float(self.estimator.score(matrix, labels))
        path = self.folder / "models" / "churn.skops"
        path.parent.mkdir(parents=True, exist_ok=True)
        skops.io.dump(self.estimator, path)
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
                ServedValue(c, trained, v, aware(moment).timestamp(), "fresh")
                for c, v in zip(customers, values, strict=True)
            ],
            aware(moment),
        )
        return values

    def scorecard(self) -> Scorecard:
        deployed = HandDeployedModels(1 if self.estimator is not None else 0)
        return measure_scorecard(self.lucid.features, deployed, self.lucid.incidents)

    def promotions(self) -> dict[str, Any]:
        """Every hand-copied model file is a production deployment no gate saw."""
        nothing_recorded = PromotionTally(EVERY_MODEL, WHOLE_HISTORY)
        return promotion_counts(nothing_recorded, ungated=self.version)
