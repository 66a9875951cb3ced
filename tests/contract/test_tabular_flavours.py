"""ONNX, XGBoost and LightGBM models on SQLite and PostgreSQL: registered through the
registry, served by their flavour with the native library's scores (within 1e-6), and
refused with a sentence naming the field — nothing stored — when the file is corrupt, of
another kind, or takes inputs its pins do not give."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import onnxruntime as ort
import pandas as pd
import pytest
import skops.io as sio
import xgboost as xgb
from skl2onnx import convert_sklearn
from skl2onnx.common.data_types import FloatTensorType
from sklearn.ensemble import GradientBoostingRegressor, RandomForestClassifier
from sklearn.linear_model import LogisticRegression

from lucid.errors import ConfigurationError, InvalidInput
from lucid.registry import model_artifacts
from lucid.registry.convert import convert_estimator
from lucid.registry.model_artifacts import LightgbmArtifact, OnnxArtifact, XgboostArtifact
from lucid.registry.model_registry import ModelRegistry

# The registry fixtures of the signature suite: SQLite and PostgreSQL, the rows and event log
# checked unchanged after a refusal.
from tests.contract.test_model_signature import (  # noqa: F401
    LABELS,
    NAMES,
    ROWS,
    TRAIN,
    pins,
    register,
    registry,
    unchanged,
)

MATRIX = np.array([[row[name] for name in NAMES] for row in ROWS])
SPEND = TRAIN["spend"].to_numpy()


@dataclass(frozen=True)
class Case:
    """A model file, its artifact and the native library's own scores of `MATRIX` (None
    for a regressor, whose `values` are its predictions)."""

    artifact: Any
    named: bool
    scores: list[float] | None
    values: list[Any]


def _onnx_native(path: Path, named: bool) -> list[Any]:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    rows = MATRIX.astype(np.float32)
    if named:
        feed = {name: rows[:, [i]] for i, name in enumerate(NAMES)}
    else:
        feed = {session.get_inputs()[0].name: rows}
    return list(session.run(None, feed))


def _onnx_cases(folder: Path) -> dict[str, Case]:
    cases: dict[str, Case] = {}
    logistic = convert_estimator(LogisticRegression().fit(TRAIN, LABELS))
    (folder / "logistic.onnx").write_bytes(logistic.data)
    label, probabilities = _onnx_native(folder / "logistic.onnx", named=True)
    cases["onnx-named-classifier"] = Case(
        OnnxArtifact(folder / "logistic.onnx"), True, probabilities[:, 1].tolist(), label.tolist()
    )
    forest = RandomForestClassifier(n_estimators=15, max_depth=4, random_state=0)
    forest.fit(TRAIN.to_numpy(), LABELS)
    zipmap = convert_sklearn(forest, initial_types=[("x", FloatTensorType([None, 3]))])
    (folder / "zipmap.onnx").write_bytes(zipmap.SerializeToString())
    label, maps = _onnx_native(folder / "zipmap.onnx", named=False)
    cases["onnx-zipmap-classifier"] = Case(
        OnnxArtifact(folder / "zipmap.onnx"), False, [m[1] for m in maps], label.tolist()
    )
    boosted = GradientBoostingRegressor(n_estimators=30, random_state=0).fit(TRAIN, SPEND)
    regressor = convert_estimator(boosted)
    (folder / "regressor.onnx").write_bytes(regressor.data)
    [values] = _onnx_native(folder / "regressor.onnx", named=True)
    cases["onnx-named-regressor"] = Case(
        OnnxArtifact(folder / "regressor.onnx"), True, None, values.ravel().tolist()
    )
    return cases


def _xgboost_cases(folder: Path) -> dict[str, Case]:
    named = xgb.DMatrix(TRAIN.to_numpy(), LABELS.to_numpy(), feature_names=NAMES)
    binary = xgb.train({"objective": "binary:logistic", "max_depth": 3}, named, 25)
    scores = binary.predict(xgb.DMatrix(MATRIX, feature_names=NAMES)).tolist()
    classes = [1 if score >= 0.5 else 0 for score in scores]
    cases: dict[str, Case] = {}
    for suffix in ("json", "ubj"):
        binary.save_model(folder / f"binary.{suffix}")
        artifact = XgboostArtifact(folder / f"binary.{suffix}")
        cases[f"xgboost-{suffix}-binary"] = Case(artifact, True, scores, classes)
    three = (TRAIN["activity"] > 0).astype(int) + (TRAIN["tenure"] > 0).astype(int)
    bare = xgb.DMatrix(TRAIN.to_numpy(), three.to_numpy())
    multi = xgb.train({"objective": "multi:softprob", "num_class": 3}, bare, 15)
    multi.save_model(folder / "multi.ubj")
    probabilities = multi.predict(xgb.DMatrix(MATRIX))
    cases["xgboost-ubj-multiclass"] = Case(
        XgboostArtifact(folder / "multi.ubj"),
        False,
        probabilities[:, 1].tolist(),
        probabilities.argmax(axis=1).tolist(),
    )
    regressor = xgb.train({"objective": "reg:squarederror"}, xgb.DMatrix(TRAIN, SPEND), 20)
    regressor.save_model(folder / "regressor.json")
    values = regressor.predict(xgb.DMatrix(pd.DataFrame(MATRIX, columns=NAMES))).tolist()
    cases["xgboost-json-regressor"] = Case(
        XgboostArtifact(folder / "regressor.json"), True, None, values
    )
    return cases


def _lightgbm_cases(folder: Path) -> dict[str, Case]:
    quiet = {"verbose": -1, "num_leaves": 7}
    binary = lgb.train({"objective": "binary", **quiet}, lgb.Dataset(TRAIN, LABELS), 25)
    binary.save_model(folder / "binary.txt")
    scores = lgb.Booster(model_file=folder / "binary.txt").predict(MATRIX).tolist()
    regressor = lgb.train(
        {"objective": "regression", **quiet}, lgb.Dataset(TRAIN.to_numpy(), SPEND), 20
    )
    regressor.save_model(folder / "regressor.txt")
    values = lgb.Booster(model_file=folder / "regressor.txt").predict(MATRIX).tolist()
    return {
        "lightgbm-binary": Case(
            LightgbmArtifact(folder / "binary.txt"),
            True,
            scores,
            [1 if score >= 0.5 else 0 for score in scores],
        ),
        "lightgbm-regressor": Case(LightgbmArtifact(folder / "regressor.txt"), False, None, values),
    }


@pytest.fixture(scope="module")
def cases(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Case]:
    folder = tmp_path_factory.mktemp("tabular")
    return {**_onnx_cases(folder), **_xgboost_cases(folder), **_lightgbm_cases(folder)}


CASES = [
    "onnx-named-classifier",
    "onnx-zipmap-classifier",
    "onnx-named-regressor",
    "xgboost-json-binary",
    "xgboost-ubj-binary",
    "xgboost-ubj-multiclass",
    "xgboost-json-regressor",
    "lightgbm-binary",
    "lightgbm-regressor",
]


@pytest.mark.parametrize("name", CASES)
def test_a_registered_model_scores_as_its_native_library_does(
    registry: ModelRegistry,  # noqa: F811
    cases: dict[str, Case],
    name: str,
) -> None:
    case = cases[name]
    order = ["tenure", "activity", "spend"] if case.named else NAMES  # by name: any order
    version = register(registry, case.artifact, pins(*order))
    assert version.inputs == tuple(NAMES)
    served = registry.load_model("churn", version=version.version)
    predictions, scores = served.predict_scored(ROWS)
    if case.scores is None:
        assert scores == [None] * len(ROWS)
        assert predictions == pytest.approx(case.values, abs=1e-6, rel=1e-6)
    else:
        assert scores == pytest.approx(case.scores, abs=1e-6)
        assert predictions == case.values
    one_row = served.predict_scored(ROWS[:1])
    assert one_row[0] == predictions[:1] and one_row[1] == pytest.approx(scores[:1], abs=1e-9)


@pytest.mark.parametrize(
    ("name", "features", "sentence"),
    [
        ("onnx-named-classifier", pins("activity", "spend", "region"), "input\\(s\\) tenure"),
        ("onnx-zipmap-classifier", pins("activity", "spend"), "takes 3 unnamed inputs"),
        ("xgboost-json-binary", pins("activity", "tenure"), "input\\(s\\) spend"),
        ("xgboost-ubj-multiclass", pins(*NAMES, "region"), "takes 3 unnamed inputs"),
        ("lightgbm-binary", pins("activity", "spend", "tenure_days"), "input\\(s\\) tenure"),
        ("lightgbm-regressor", pins("activity"), "takes 3 unnamed inputs"),
    ],
)
def test_a_model_whose_inputs_its_pins_do_not_give_is_refused_and_nothing_stored(
    registry: ModelRegistry,  # noqa: F811
    unchanged: Callable[[], Any],  # noqa: F811
    cases: dict[str, Case],
    tmp_path: Path,
    name: str,
    features: list[str],
    sentence: str,
) -> None:
    with unchanged(), pytest.raises(InvalidInput, match=f"^features: .*{sentence}"):
        register(registry, cases[name].artifact, features)
    assert not (tmp_path / "artifacts").exists() or not any((tmp_path / "artifacts").rglob("*.*"))


def _truncated(path: Path, into: Path) -> Path:
    into.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    return into


def _edited(path: Path, into: Path, pattern: str, new: str) -> Path:
    """`path` with the first match of `pattern` replaced by as many bytes (so every tree stays
    where the header says)."""
    text = path.read_text()
    found = re.search(pattern, text)
    assert found is not None and len(found[0]) == len(new)
    into.write_text(text[: found.start()] + new + text[found.end() :])
    return into


def _first_tree_edited(path: Path, into: Path, key: str, value: int) -> Path:
    """An XGBoost JSON model whose first tree's first `key` is `value` (XGBoost reads it)."""
    model = json.loads(path.read_text())
    model["learner"]["gradient_booster"]["model"]["trees"][0][key][0] = value
    into.write_text(json.dumps(model))
    return into


BAD_FILES: dict[str, Callable[[dict[str, Case], Path], tuple[Any, str]]] = {
    "onnx-corrupt": lambda c, d: (
        OnnxArtifact(_truncated(c["onnx-named-classifier"].artifact.path, d / "cut.onnx")),
        "cut.onnx is not an ONNX model",
    ),
    "onnx-given-a-lightgbm-file": lambda c, d: (
        OnnxArtifact(c["lightgbm-binary"].artifact.path),
        "binary.txt is not an ONNX model",
    ),
    "xgboost-json-truncated": lambda c, d: (
        XgboostArtifact(_truncated(c["xgboost-json-binary"].artifact.path, d / "cut.json")),
        "cut.json is not an XGBoost model",
    ),
    "xgboost-ubj-truncated": lambda c, d: (
        XgboostArtifact(_truncated(c["xgboost-ubj-binary"].artifact.path, d / "cut.ubj")),
        "cut.ubj is not an XGBoost model",
    ),
    "xgboost-given-a-lightgbm-file": lambda c, d: (
        XgboostArtifact(c["lightgbm-binary"].artifact.path),
        "binary.txt is not an XGBoost model",
    ),
    "xgboost-split-on-a-feature-it-does-not-take": lambda c, d: (
        XgboostArtifact(
            _first_tree_edited(
                c["xgboost-json-binary"].artifact.path, d / "edited.json", "split_indices", 9
            )
        ),
        r"edited.json holds malformed trees \(tree 0 splits on a feature the model does not take",
    ),
    "xgboost-walk-that-never-ends": lambda c, d: (
        XgboostArtifact(
            _first_tree_edited(
                c["xgboost-json-binary"].artifact.path, d / "edited.json", "left_children", 0
            )
        ),
        r"edited.json holds malformed trees \(tree 0 node 0 points outside its table",
    ),
    "lightgbm-truncated": lambda c, d: (
        LightgbmArtifact(_truncated(c["lightgbm-binary"].artifact.path, d / "cut.txt")),
        r"cut.txt is not a LightGBM model .*\(it ends inside tree \d+ \(the file is truncated\)\)",
    ),
    "lightgbm-given-an-xgboost-file": lambda c, d: (
        LightgbmArtifact(c["xgboost-json-binary"].artifact.path),
        "binary.json is not a LightGBM model",
    ),
    "lightgbm-split-on-a-feature-it-does-not-take": lambda c, d: (
        LightgbmArtifact(
            _edited(
                c["lightgbm-regressor"].artifact.path,
                d / "edited.txt",
                r"\nsplit_feature=\d ",
                "\nsplit_feature=9 ",
            )
        ),
        "edited.txt is not a LightGBM model .*tree 0 splits on a feature the model does not take",
    ),
    "lightgbm-child-outside-its-table": lambda c, d: (
        LightgbmArtifact(
            _edited(
                c["lightgbm-regressor"].artifact.path,
                d / "edited.txt",
                r"\nleft_child=\d ",
                "\nleft_child=0 ",
            )
        ),
        "edited.txt is not a LightGBM model .*tree 0 node 0 points outside its table",
    ),
}


@pytest.mark.parametrize("bad", list(BAD_FILES))
def test_a_corrupt_or_foreign_file_is_refused_with_a_sentence_and_nothing_stored(
    registry: ModelRegistry,  # noqa: F811
    unchanged: Callable[[], Any],  # noqa: F811
    cases: dict[str, Case],
    tmp_path: Path,
    bad: str,
) -> None:
    artifact, sentence = BAD_FILES[bad](cases, tmp_path)
    with unchanged(), pytest.raises(InvalidInput, match=f"^artifact: .*{sentence}"):
        register(registry, artifact, pins(*NAMES))
    assert not (tmp_path / "artifacts").exists() or not any((tmp_path / "artifacts").rglob("*.*"))


def test_a_converted_model_scores_as_the_scikit_learn_model_and_a_pickle_is_not_converted(
    tmp_path: Path,
) -> None:
    model = LogisticRegression().fit(TRAIN.to_numpy(), LABELS)
    converted = convert_estimator(model)
    assert converted.inputs is None and converted.width == 3
    assert converted.largest_difference <= 1e-5
    session = ort.InferenceSession(converted.data, providers=["CPUExecutionProvider"])
    [only] = session.get_inputs()
    _, probabilities = session.run(None, {only.name: MATRIX.astype(np.float32)})
    assert probabilities[:, 1] == pytest.approx(model.predict_proba(MATRIX)[:, 1], abs=1e-6)
    sio.dump(model, tmp_path / "model.skops")
    from lucid.registry.convert import convert_file

    from_file = convert_file(tmp_path / "model.skops")  # the same model, read through skops
    assert from_file.largest_difference == converted.largest_difference
    import joblib

    joblib.dump(model, tmp_path / "model.joblib")
    with pytest.raises(InvalidInput, match=r"^FILE: .*model\.joblib is a pickle"):
        convert_file(tmp_path / "model.joblib")


@pytest.mark.parametrize(
    ("module", "artifact"),
    [("xgboost", "xgboost-json-binary"), ("lightgbm", "lightgbm-binary")],
)
def test_a_booster_without_its_package_names_the_install_that_brings_it(
    monkeypatch: pytest.MonkeyPatch, cases: dict[str, Case], module: str, artifact: str
) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # import refuses it, as when not installed
    path = cases[artifact].artifact.path
    with pytest.raises(ConfigurationError, match=rf"pip install 'lucidml\[{module}\]'"):
        model_artifacts.prepare(cases[artifact].artifact, hub=None)  # type: ignore[arg-type]
    assert path.is_file()


def test_a_graph_of_typed_named_inputs_is_fed_each_input_in_its_own_type(
    registry: ModelRegistry,  # noqa: F811
    tmp_path: Path,
) -> None:
    from onnx import TensorProto, helper

    inputs = [
        helper.make_tensor_value_info("activity", TensorProto.DOUBLE, [None, 1]),
        helper.make_tensor_value_info("tenure", TensorProto.INT64, [None]),
        helper.make_tensor_value_info("spend", TensorProto.STRING, [None, 1]),
    ]
    nodes = [
        helper.make_node("Cast", ["tenure"], ["tenure_real"], to=TensorProto.DOUBLE),
        helper.make_node("Unsqueeze", ["tenure_real", "axis"], ["tenure_column"]),
        helper.make_node("Add", ["activity", "tenure_column"], ["value"]),
    ]
    axis = helper.make_tensor("axis", TensorProto.INT64, [1], [1])
    output = helper.make_tensor_value_info("value", TensorProto.DOUBLE, [None, 1])
    graph = helper.make_graph(nodes, "typed", inputs, [output], initializer=[axis])
    path = tmp_path / "typed.onnx"
    path.write_bytes(
        helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString()
    )
    version = register(registry, OnnxArtifact(path), pins(*NAMES))
    rows = [
        {"activity": 0.5, "tenure": 12, "spend": "high"},
        {"activity": None, "tenure": 3, "spend": "low"},
    ]
    predictions, scores = registry.load_model("churn", version=version.version).predict_scored(rows)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    [native] = session.run(
        None,
        {
            "activity": np.array([[0.5], [np.nan]]),
            "tenure": np.array([12, 3], dtype=np.int64),
            "spend": np.array([["high"], ["low"]], dtype=object),
        },
    )
    assert predictions[0] == native[0, 0] == 12.5 and np.isnan(predictions[1])
    assert scores == [None, None]
    with pytest.raises(
        InvalidInput, match=r"^rows: the model's input tenure takes an integer, not 'x'"
    ):
        registry.load_model("churn", version=version.version).predict_scored(
            [{"activity": 1.0, "tenure": "x", "spend": "high"}]
        )
