"""The model signature on SQLite and PostgreSQL: a model's inputs are read at registration
(scikit-learn, ONNX, MLflow), matched to the pins by name or refused with a sentence naming
the inputs no pin provides and the pins the model does not take, and served by name."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from lightgbm import LGBMClassifier
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sqlalchemy import select, update

from lucid.bootstrap import utc_now
from lucid.errors import InvalidInput
from lucid.registry.model_artifacts import MlflowArtifact, OnnxArtifact, SklearnArtifact
from lucid.registry.model_registry import ModelRegistry
from lucid.storage.artifacts import ArtifactStore
from lucid.storage.database import Database
from lucid.storage.event_log import SqlEventLog
from lucid.storage.hugging_face_hub import HuggingFaceHub
from lucid.storage.tables import model_versions, registered_models
from lucid.storage.unit_of_work import SqlUnitsOfWork
from tests.contract.test_registry import onnx_file, retention

NAMES = ["activity", "spend", "tenure"]
RNG = np.random.default_rng(18)
TRAIN = pd.DataFrame(RNG.normal(size=(300, 3)) * [1.0, 40.0, 12.0], columns=NAMES)
LABELS = (TRAIN["activity"] - TRAIN["spend"] / 40 + RNG.normal(scale=0.3, size=300) > 0).astype(int)
ROWS = [dict(zip(NAMES, map(float, row), strict=True)) for row in RNG.normal(size=(40, 3))]


def pins(*names: str) -> list[str]:
    return [f"{name}@1" for name in names]


@pytest.fixture
def registry(db: Database, event_log: SqlEventLog, tmp_path: Path) -> Iterator[ModelRegistry]:
    hub = HuggingFaceHub(offline=True, cache_dir=tmp_path / "hub")
    artifacts = ArtifactStore(str(tmp_path / "artifacts"))
    yield ModelRegistry(SqlUnitsOfWork(db, event_log), event_log, artifacts, hub, clock=utc_now)


@pytest.fixture
def pickling_registry(db: Database, event_log: SqlEventLog, tmp_path: Path) -> ModelRegistry:
    """The registry of a project with `allow_pickle: true`."""
    hub = HuggingFaceHub(offline=True, cache_dir=tmp_path / "hub")
    artifacts = ArtifactStore(str(tmp_path / "artifacts"))
    return ModelRegistry(
        SqlUnitsOfWork(db, event_log), event_log, artifacts, hub, clock=utc_now, allow_pickle=True
    )


def registry_for(model: Any, registry: ModelRegistry, pickling: ModelRegistry) -> ModelRegistry:
    """LightGBM holds types skops may not load: only a project allowing pickles stores it."""
    return pickling if isinstance(model, LGBMClassifier) else registry


@pytest.fixture
def unchanged(db: Database, event_log: SqlEventLog) -> Callable[[], Any]:
    """A block after which the registry's rows and the event log are exactly as before."""

    def take() -> Any:
        with db.transaction() as conn:
            tables = [
                sorted(tuple(row) for row in conn.execute(select(table)))
                for table in (registered_models, model_versions)
            ]
        return tables, event_log.count()

    @contextmanager
    def check() -> Iterator[None]:
        before = take()
        yield
        assert take() == before

    return check


def register(registry: ModelRegistry, artifact: Any, features: list[str]) -> Any:
    return registry.register_model(
        "churn",
        artifact=artifact,
        impact=retention(),
        features=features,
        training_data="sha256:1f2e",
        offline_metrics={"auc": 0.8},
        registered_by="ana",
        rationale="signature",
    )


def named_model() -> LogisticRegression:
    return LogisticRegression().fit(TRAIN, LABELS)


def mlflow_folder(path: Path, inputs: list[dict[str, Any]] | None) -> MlflowArtifact:
    """An MLflow model folder whose MLmodel file states `inputs` (no signature when None)."""
    path.mkdir()
    mlmodel = "flavors:\n  python_function: {loader_module: mlflow.sklearn}\n"
    if inputs is not None:
        spec = json.dumps(inputs)
        mlmodel += f"signature:\n  inputs: '{spec}'\n  outputs: '[{{\"type\": \"long\"}}]'\n"
    (path / "MLmodel").write_text(mlmodel)
    return MlflowArtifact(path)


# -- scikit-learn --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "estimator",
    [
        named_model(),
        make_pipeline(
            ColumnTransformer(
                [("scaled", StandardScaler(), ["spend", "tenure"])], remainder="passthrough"
            ),
            LogisticRegression(),
        ).fit(TRAIN, LABELS),
        LGBMClassifier(n_estimators=20, verbose=-1).fit(TRAIN, LABELS),
    ],
    ids=["estimator", "pipeline-by-column-name", "lightgbm"],
)
def test_the_same_model_pinned_in_another_order_gives_the_same_scores(
    registry: ModelRegistry, pickling_registry: ModelRegistry, estimator: Any
) -> None:
    registry = registry_for(estimator, registry, pickling_registry)
    expected = estimator.predict_proba(pd.DataFrame(ROWS, columns=NAMES))[:, 1]
    scores = []
    for order in (NAMES, ["tenure", "activity", "spend"], ["spend", "tenure", "activity"]):
        version = register(registry, SklearnArtifact(estimator=estimator), pins(*order))
        assert version.features == tuple(pins(*order))
        assert version.inputs == tuple(NAMES)  # the model's order, whatever the pins'
        served = registry.load_model("churn", version=version.version)
        predictions, served_scores = served.predict_scored(ROWS)
        assert served_scores == pytest.approx(served.scores(ROWS))
        assert predictions == served(ROWS)
        scores.append(served_scores)
    for served_scores in scores:
        assert served_scores == pytest.approx(expected.tolist(), abs=1e-12)


@pytest.mark.parametrize(
    ("features", "sentence"),
    [
        (
            pins("activity", "spend"),
            r"features: no pin provides the model's input\(s\) tenure \(the model takes "
            r"activity, spend, tenure\)",
        ),
        (
            pins("tenure", "region", "activity", "spend"),
            r"features: the model does not take the pinned feature\(s\) region@1 \(",
        ),
        (
            pins("spend", "region", "activity"),
            r"features: no pin provides the model's input\(s\) tenure; the model does not take "
            r"the pinned feature\(s\) region@1 \(the model takes activity, spend, tenure\)",
        ),
        (
            ["activity@1", "spend@1", "tenure@1", "tenure@2"],
            r"features: two pins give the model the same input tenure",
        ),
    ],
    ids=["missing", "extra", "both", "twice"],
)
def test_a_mismatch_of_names_is_refused_and_stores_nothing(
    registry: ModelRegistry,
    unchanged: Callable[[], Any],
    tmp_path: Path,
    features: list[str],
    sentence: str,
) -> None:
    register(registry, SklearnArtifact(estimator=named_model()), pins(*NAMES))
    with unchanged(), pytest.raises(InvalidInput, match=sentence):
        register(registry, SklearnArtifact(estimator=named_model()), features)
    stored = tmp_path / "artifacts" / "models" / "churn"
    assert sorted(p.name for p in stored.iterdir()) == ["1"]


@pytest.mark.parametrize(
    "model",
    [LogisticRegression(), LGBMClassifier(n_estimators=20, verbose=-1)],
    ids=["scikit-learn", "lightgbm"],
)
def test_a_model_fitted_on_a_bare_array_takes_as_many_pins_in_their_order(
    registry: ModelRegistry,
    pickling_registry: ModelRegistry,
    unchanged: Callable[[], Any],
    model: Any,
) -> None:
    registry = registry_for(model, registry, pickling_registry)
    bare = model.fit(TRAIN.to_numpy(), LABELS)
    with (
        unchanged(),
        pytest.raises(
            InvalidInput,
            match=r"features: the model takes 3 unnamed inputs in the order of the pins but 2 "
            r"features are pinned",
        ),
    ):
        register(registry, SklearnArtifact(estimator=bare), pins("activity", "spend"))
    version = register(registry, SklearnArtifact(estimator=bare), pins("spend", "tenure", "a"))
    assert version.inputs == ("spend", "tenure", "a")
    served = registry.load_model("churn", version=version.version)
    rows = [{"spend": r["activity"], "tenure": r["spend"], "a": r["tenure"]} for r in ROWS]
    expected = bare.predict_proba(np.array([list(r.values()) for r in ROWS]))[:, 1]
    assert served.scores(rows) == pytest.approx(expected.tolist(), abs=1e-12)
    unpinned = register(registry, SklearnArtifact(estimator=bare), [])  # fed by its caller
    assert unpinned.features == () and unpinned.inputs is None


def test_a_version_stored_without_a_signature_keeps_the_order_of_its_pins(
    registry: ModelRegistry, db: Database
) -> None:
    bare = LogisticRegression().fit(TRAIN.to_numpy(), LABELS)
    version = register(registry, SklearnArtifact(estimator=bare), pins("tenure", "activity", "x"))
    with db.transaction() as conn:  # as a version registered before signatures were stored
        conn.execute(update(model_versions).values(inputs=None))
    assert registry.get_version("churn", version.version).inputs is None
    served = registry.load_model("churn", version=version.version)
    assert served.columns == ["tenure", "activity", "x"]
    rows = [{"tenure": r["activity"], "activity": r["spend"], "x": r["tenure"]} for r in ROWS]
    expected = bare.predict_proba(np.array([list(r.values()) for r in ROWS]))[:, 1]
    assert served.scores(rows) == pytest.approx(expected.tolist(), abs=1e-12)


def test_the_signature_is_recorded_with_the_registration(
    registry: ModelRegistry, event_log: SqlEventLog
) -> None:
    model = SklearnArtifact(estimator=named_model())
    register(registry, model, pins("spend", "tenure", "activity"))
    [event] = event_log.read(subject="model:churn")
    assert event.payload["inputs"] == NAMES
    assert registry.get_version("churn").to_dict()["inputs"] == NAMES


# -- ONNX ----------------------------------------------------------------------------------------


def test_an_onnx_graph_s_input_names_are_matched_to_the_pins(
    registry: ModelRegistry, unchanged: Callable[[], Any], tmp_path: Path
) -> None:
    graph = onnx_file(tmp_path / "named.onnx", {name: [None, 1] for name in NAMES})
    version = register(registry, graph, pins("tenure", "spend", "activity"))
    assert version.inputs == tuple(NAMES)
    with (
        unchanged(),
        pytest.raises(
            InvalidInput,
            match=r"no pin provides the model's input\(s\) spend; the model does not take the "
            r"pinned feature\(s\) region@1",
        ),
    ):
        register(registry, graph, pins("tenure", "region", "activity"))


def test_an_onnx_graph_of_one_tensor_takes_its_width_in_pins_and_garbage_is_refused(
    registry: ModelRegistry, unchanged: Callable[[], Any], tmp_path: Path
) -> None:
    tensor = onnx_file(tmp_path / "tensor.onnx", {"float_input": [None, 3]})
    with unchanged(), pytest.raises(InvalidInput, match=r"takes 3 unnamed inputs .* but 2"):
        register(registry, tensor, pins("activity", "spend"))
    assert register(registry, tensor, pins("spend", "tenure", "x")).inputs == (
        "spend",
        "tenure",
        "x",
    )
    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(b"\x08\x07onnx-bytes")
    with unchanged(), pytest.raises(InvalidInput, match=r"artifact: .*garbage.onnx is not an ONNX"):
        register(registry, OnnxArtifact(garbage), pins("activity"))
    unstated = onnx_file(tmp_path / "unstated.onnx", {"float_input": [None, None]})
    assert register(registry, unstated, pins("activity")).inputs is None  # nothing to check


# -- MLflow --------------------------------------------------------------------------------------


def test_an_mlflow_signature_is_read_from_the_mlmodel_file(
    registry: ModelRegistry, unchanged: Callable[[], Any], tmp_path: Path
) -> None:
    columns = [{"type": "double", "name": name, "required": True} for name in NAMES]
    named = mlflow_folder(tmp_path / "named", columns)
    assert register(registry, named, pins("spend", "activity", "tenure")).inputs == tuple(NAMES)
    with (
        unchanged(),
        pytest.raises(
            InvalidInput, match=r"features: no pin provides the model's input\(s\) spend, tenure"
        ),
    ):
        register(registry, named, pins("activity"))
    tensor = mlflow_folder(
        tmp_path / "tensor",
        [{"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1, 2]}}],
    )
    with unchanged(), pytest.raises(InvalidInput, match=r"takes 2 unnamed inputs .* but 3"):
        register(registry, tensor, pins(*NAMES))
    assert register(registry, tensor, pins("tenure", "spend")).inputs == ("tenure", "spend")
    unsigned = mlflow_folder(tmp_path / "unsigned", None)
    assert register(registry, unsigned, pins("anything")).inputs is None
