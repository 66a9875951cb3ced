"""The registry and the feature store together: pins resolved, skew gating promotion, and a
production model served from the online store — on every metadata backend and online store."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sklearn.linear_model import LogisticRegression

from lucid.bootstrap import utc_now
from lucid.contracts.value import Override
from lucid.errors import Conflict, Forbidden, NotFound
from lucid.features.definition_files import load_definitions
from lucid.features.store import FeatureStore
from lucid.registry.model_artifacts import SklearnArtifact
from lucid.registry.model_registry import ModelRegistry
from lucid.scenarios.churn import LEGACY_DEFINITIONS, SPEND_DEFINITIONS
from lucid.storage.artifacts import ArtifactStore
from lucid.storage.database import Database
from lucid.storage.event_log import SqlEventLog
from lucid.storage.hugging_face_hub import HuggingFaceHub
from lucid.storage.online_store import OnlineStore
from lucid.storage.unit_of_work import SqlUnitsOfWork
from tests.contract.test_feature_governance import approve_all
from tests.contract.test_feature_serving import AT, V1
from tests.contract.test_feature_serving import store as feature_store  # noqa: F401
from tests.contract.test_registry import prove, retention

SPEND = "customer_spend_30d@1.0.0"


@pytest.fixture
def registry(
    feature_store: FeatureStore,  # noqa: F811
    db: Database,
    event_log: SqlEventLog,
    tmp_path: Path,
) -> Iterator[ModelRegistry]:
    feature_store.apply(load_definitions(SPEND_DEFINITIONS), actor="dana", rationale="spend")
    approve_all(feature_store, SPEND)
    hub = HuggingFaceHub(offline=True, cache_dir=tmp_path / "hub")
    yield ModelRegistry(
        SqlUnitsOfWork(db, event_log),
        event_log,
        ArtifactStore(str(tmp_path / "artifacts")),
        hub,
        approvers=["bea"],
        features=feature_store,
        clock=utc_now,
    )


FIRST = Override("bea", "the first model: no version serves production to test against")
"""A first version enters production by override: a business test needs a production version."""


def register(registry: ModelRegistry, pins: list[str]) -> int:
    model = LogisticRegression().fit(
        [[0.0, 0.0], [0.9, 80.0], [0.1, 5.0], [0.8, 60.0]], [1, 0, 1, 0]
    )
    version = registry.register_model(
        "churn",
        artifact=SklearnArtifact(estimator=model),
        impact=retention(),
        features=pins,
        training_data="sha256:1f2e",
        offline_metrics={"auc": 0.8},
        registered_by="ana",
        rationale="first churn model",
    )
    return version.version


def test_pins_are_resolved_to_approved_stored_versions(
    registry: ModelRegistry,
    feature_store: FeatureStore,  # noqa: F811
) -> None:
    version = register(registry, ["customer_activity_30d@1", "customer_spend_30d@1.0"])
    assert registry.get_version("churn", version).features == (V1, SPEND)
    with pytest.raises(NotFound, match=r"customer_activity_30d@9\.0\.0 is not stored"):
        register(registry, ["customer_activity_30d@9"])
    feature_store.import_legacy(load_definitions(LEGACY_DEFINITIONS), actor="a", rationale="r")
    with pytest.raises(Forbidden, match="was never approved"):
        register(registry, ["active_buyers@1.0"])
    assert [v.version for v in registry.versions("churn")] == [version]


def test_skewed_features_block_production_and_clean_ones_pass(
    registry: ModelRegistry,
    feature_store: FeatureStore,  # noqa: F811
) -> None:
    version = register(registry, [V1, SPEND])
    prove(registry, version)
    registry.promote("churn", version, "challenger", actor="ana", rationale="A/B test")
    # Values materialised 12 days ago, served now: alice's is stale online (her data then is
    # over 2 days old) where offline her event at AT makes it fresh — a mismatch; bob's latest
    # event is 29 days old, stale both ways — no skew.
    feature_store.materialize([V1, SPEND], at=AT - timedelta(days=12))
    feature_store.get_online_features(["alice", "bob"], [V1, SPEND], log=True, now=AT)
    with pytest.raises(Conflict, match=r"skew between training and serving beyond 2\.0%"):
        registry.promote(
            "churn", version, "production", actor="bea", rationale="first", override=FIRST
        )
    assert registry.get_version("churn", version).stage.value == "challenger"
    assert feature_store.skew([V1])[V1] == 0.5


def test_the_gate_judges_the_last_30_days_of_serving_not_old_mistakes(
    registry: ModelRegistry,
    feature_store: FeatureStore,  # noqa: F811
    online_store: OnlineStore,
) -> None:
    version = register(registry, [V1, SPEND])
    prove(registry, version)
    registry.promote("churn", version, "challenger", actor="ana", rationale="A/B test")
    # Wrong values (100 % mismatch) served 40 days before the clean serving that follows.
    old = (AT - timedelta(days=40)).timestamp()
    for ref in (V1, SPEND):
        online_store.write(ref, [("alice", 0.99, old, old), ("bob", 0.99, old, old)])
    feature_store.get_online_features(
        ["alice", "bob"], [V1, SPEND], log=True, now=AT - timedelta(days=40)
    )
    feature_store.materialize([V1, SPEND], at=AT)
    feature_store.get_online_features(["alice", "bob"], [V1, SPEND], log=True, now=AT)
    assert feature_store.skew([V1])[V1] == 0.0
    assert feature_store.skew_report(features=[V1]).overall.mismatch_rate == 0.5
    registry.promote("churn", version, "production", actor="bea", rationale="first", override=FIRST)


def test_a_clean_model_is_served_from_the_online_store(
    registry: ModelRegistry,
    feature_store: FeatureStore,  # noqa: F811
    online_store: OnlineStore,
) -> None:
    version = register(registry, [V1, SPEND])
    prove(registry, version)
    registry.promote("churn", version, "challenger", actor="ana", rationale="A/B test")
    feature_store.materialize([V1, SPEND], at=AT)
    # alice and carol had events within the 2-day TTL (bob's latest is 29 days old: stale).
    feature_store.get_online_features(["alice", "carol"], [V1, SPEND], log=True, now=AT)
    registry.promote("churn", version, "production", actor="bea", rationale="first", override=FIRST)
    model = registry.load_model("churn")
    # Read online at the pinned versions: the same as passing the rows by hand.
    rows = feature_store.get_online_features(["alice", "carol"], [V1, SPEND], now=AT)
    by_hand = model(
        [
            {"customer_activity_30d": row[V1].value, "customer_spend_30d": row[SPEND].value}
            for row in rows
        ]
    )
    later = AT.timestamp() + 10**9  # fresh at the real clock's now
    for ref in (V1, SPEND):
        online_store.write(ref, [("alice", rows[0][ref].value, later, later)])
        online_store.write(ref, [("carol", rows[1][ref].value, later, later)])
    assert model.for_entities(["alice", "carol"]) == by_hand
    # Computed later than the value in place, from data older than the TTL: stale.
    online_store.write(V1, [("carol", 0.5, later + 1, AT.timestamp() - 10**7)])
    with pytest.raises(Conflict, match=r"customer_activity_30d@1\.0\.0 is stale for entity carol"):
        model.for_entities(["carol"])
