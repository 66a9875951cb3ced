"""The generated churn world through Lucid's real feature store (SQLite metadata, DuckDB).

Its sources pass the schema check, its labels make point-in-time training sets, and the
known causal model is learnable from the canonical features — until the pandemic changes it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from lucid.bootstrap import Lucid
from lucid.features.definition_files import load_definitions
from lucid.project import init_project
from lucid.scenarios.churn import CANONICAL_DEFINITIONS, SPEND_DEFINITIONS, WORLD_SOURCES
from lucid.scenarios.churn.shocks import PandemicShift
from lucid.scenarios.churn.world import World, WorldConfig
from lucid.scenarios.churn.world_files import write_labels, write_world

FEATURES = ["customer_activity_30d@1.0.0", "customer_spend_30d@1.0.0"]
TEAMS = {"marketing": "mia", "data-science": "sam", "product": "paul"}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[World, Lucid, Path]]:
    """A 3,000-customer, 240-day world (pandemic at day 96) in a project whose canonical
    activity and spend are applied and approved."""
    folder = tmp_path_factory.mktemp("churn") / "project"
    world = World(WorldConfig(customers=3_000, days=240, seed=7)).run()
    handle = init_project(folder, actor="dana", environ={})
    write_world(world, folder)
    for path in (CANONICAL_DEFINITIONS, SPEND_DEFINITIONS, WORLD_SOURCES):
        handle.features.apply(load_definitions(path), actor="dana", rationale="the churn world")
    for feature in FEATURES:
        for team, person in TEAMS.items():
            handle.features.approve(feature, team=team, person=person, rationale="reviewed")
    yield world, handle, folder
    handle.close()


def training_set(
    world: World, lucid: Lucid, folder: Path, days: list[int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Features (activity, log spend), outcomes and customer numbers for labels at `days`."""
    path = write_labels(world.labels(days), folder / "labels" / f"from-{days[0]}.parquet")
    rows = lucid.features.get_training_set(path, FEATURES).to_dicts()
    features = np.array(
        [[r["customer_activity_30d"], np.log1p(r["customer_spend_30d"])] for r in rows]
    )
    outcomes = np.array([r["churned_within_30d"] for r in rows])
    numbers = np.array([int(r["entity_id"][1:]) for r in rows])
    return features, outcomes, numbers


def test_every_generated_source_passes_the_schema_check(project) -> None:
    _, lucid, _ = project
    assert set(lucid.features.sources()) == {
        "purchases",
        "logins",
        "app_interactions",
        "support_tickets",
    }


def test_training_sets_from_world_labels_are_point_in_time_correct(project) -> None:
    world, lucid, folder = project
    labels = world.labels([40, 70])
    path = write_labels(labels, folder / "labels" / "pit.parquet")
    rows = lucid.features.get_training_set(path, FEATURES).to_dicts()
    assert len(rows) == labels.num_rows > 4_000
    # Recount from the raw files, keeping only what was known at each label's time.
    connection = duckdb.connect()
    connection.execute("SET TimeZone = 'UTC'")
    expected = {}
    for entity, at, purchases, logins, spend in connection.execute(
        f"""
        WITH l AS (SELECT * FROM read_parquet('{path}')),
        p AS (SELECT * FROM read_parquet('{folder}/data/purchases/*.parquet')
              WHERE NOT is_bot AND NOT is_test),
        g AS (SELECT * FROM read_parquet('{folder}/data/logins/*.parquet') WHERE NOT is_bot)
        SELECT l.entity_id, l.timestamp,
          (SELECT count(*) FROM p WHERE p.customer_id = l.entity_id
             AND p.purchased_at <= l.timestamp AND p.ingested_at <= l.timestamp
             AND p.purchased_at > l.timestamp - INTERVAL 30 DAY),
          (SELECT count(*) FROM g WHERE g.customer_id = l.entity_id
             AND g.logged_in_at <= l.timestamp AND g.ingested_at <= l.timestamp
             AND g.logged_in_at > l.timestamp - INTERVAL 30 DAY),
          (SELECT coalesce(sum(amount), 0) FROM p WHERE p.customer_id = l.entity_id
             AND p.purchased_at <= l.timestamp AND p.ingested_at <= l.timestamp
             AND p.purchased_at > l.timestamp - INTERVAL 30 DAY)
        FROM l USING SAMPLE 300 ROWS (reservoir, 1)
        """
    ).fetchall():
        activity = 0.7 * min(purchases / 10, 1) + 0.3 * min(logins / 20, 1)
        expected[(entity, at)] = (activity, spend)
    checked = 0
    for row in rows:
        key = (row["entity_id"], row["timestamp"])
        if key in expected:
            activity, spend = expected[key]
            assert row["customer_activity_30d"] == pytest.approx(activity)
            assert row["customer_spend_30d"] == pytest.approx(spend)
            checked += 1
    assert checked == 300


def test_the_causal_model_is_learnable_before_the_pandemic_and_changes_after(project) -> None:
    world, lucid, folder = project
    pandemic = next(s for s in world.shocks if isinstance(s, PandemicShift)).day
    # Labels whose 30-day horizon ends before the shock, then labels whose features and
    # horizon both lie after it.
    features, outcomes, numbers = training_set(
        world, lucid, folder, list(range(0, pandemic - 30 + 1, 7))
    )
    train = numbers % 2 == 0  # half of the customers to fit, the other half to score
    model = LogisticRegression().fit(features[train], outcomes[train])
    before = roc_auc_score(outcomes[~train], model.predict_proba(features[~train])[:, 1])
    after_features, after_outcomes, _ = training_set(
        world, lucid, folder, list(range(pandemic + 30, world.day - 30 + 1, 7))
    )
    after = roc_auc_score(after_outcomes, model.predict_proba(after_features)[:, 1])
    refit = LogisticRegression().fit(after_features, after_outcomes)
    refit_auc = roc_auc_score(after_outcomes, refit.predict_proba(after_features)[:, 1])
    print(
        f"AUC before the pandemic {before:.3f}; pre-shock model after it {after:.3f}; "
        f"refit on post-shock labels (in-sample) {refit_auc:.3f}; churn rate "
        f"{outcomes.mean():.1%} -> {after_outcomes.mean():.1%}"
    )
    assert before > 0.68
    assert after < before - 0.2
    assert refit_auc > after + 0.1
