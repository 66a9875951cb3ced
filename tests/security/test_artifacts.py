"""Issue 20, item 1 — a model file runs code.

A pickle whose unpickling writes a marker file is refused at `lucid models register` (SDK and
CLI) before anything unpickles it: the marker is never written and nothing stored changes. A
project with `allow_pickle: true` accepts it, and unpickles it only from the artifact store
with its registered SHA-256; without the opt-in, `lucid serve` refuses a stored pickle. skops
files load only when every type they name is on the allow-list; ordinary scikit-learn models
register as skops and predict exactly as the estimator does.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import pickle
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import joblib
import numpy as np
import pytest
import skops.io
import yaml
from sklearn.ensemble import (
    GradientBoostingClassifier,
    HistGradientBoostingClassifier,
    RandomForestClassifier,
)
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from sklearn.tree import DecisionTreeClassifier
from sklearn.tree._tree import Tree

from lucid.bootstrap import Lucid, open_project
from lucid.errors import ConfigurationError, Conflict, IntegrityViolation, InvalidInput
from lucid.project import init_project
from lucid.registry.artifact_formats import ModelFormat, detect
from lucid.registry.model_artifacts import SklearnArtifact
from lucid.registry.skops_trust import allowed
from lucid.settings import load_settings
from tests.conftest import run_lucid
from tests.contract.test_registry import prove, retention
from tests.e2e.service_world import build_project, served
from tests.e2e.test_models_cli import approve_churn_features
from tests.security.stored_state import stored_state, unchanged

ROWS = np.random.default_rng(20).normal(size=(60, 2))
LABELS = (ROWS[:, 0] + ROWS[:, 1] > 0).astype(int)
PINS = ["customer_activity_30d@1", "customer_spend_30d@1"]
FEATURE_ROWS = [{"customer_activity_30d": a, "customer_spend_30d": b} for a, b in ROWS.tolist()]
PICKLE_SENTENCE = "a pickle runs code when it is loaded"


class WritesMarker:
    """Pickles as a call of `os.mkdir(marker)`: unpickling it creates the marker."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return (os.mkdir, (str(self.marker),))


class HomeMade(LogisticRegression):
    """An estimator whose class lives outside scikit-learn: skops may not construct it."""


def fitted() -> LogisticRegression:
    return LogisticRegression().fit(ROWS, LABELS)


def model_writing_marker(marker: Path) -> bytes:
    """A protocol-2 pickle that creates `marker`, then gives a working LogisticRegression."""
    model = pickle.dumps(fitted(), protocol=2)
    gadget = pickle.dumps(WritesMarker(marker), protocol=2)
    return model[:2] + gadget[2:-1] + b"0" + model[2:]  # 0: POP what mkdir returned


def crafted_skops(module: str, name: str, arguments: tuple[Any, ...]) -> bytes:
    """A skops file whose root is `module.name(*arguments)` (skops' constructor-from-reduce
    node): what a hand-edited archive can ask the loader to call."""
    with zipfile.ZipFile(io.BytesIO(skops.io.dumps(arguments))) as archive:
        members = {member: archive.read(member) for member in archive.namelist()}
    content = json.loads(members["schema.json"])
    header = {key: content.pop(key) for key in ("protocol", "_skops_version")}
    root = {"__class__": name, "__module__": module, "__loader__": "ConstructorFromReduceNode"}
    members["schema.json"] = json.dumps({**root, "content": content, **header}).encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for member, data in members.items():
            archive.writestr(member, data)
    return out.getvalue()


@pytest.fixture
def bare_project(tmp_path: Path) -> Path:
    folder = tmp_path / "shop"
    init_project(folder, actor="dana", environ={}).close()
    return folder


@pytest.fixture
def project(bare_project: Path) -> Path:
    """A project whose churn features (the models' pins) are approved."""
    approve_churn_features(bare_project)
    return bare_project


@pytest.fixture
def lucid(project: Path) -> Iterator[Lucid]:
    with open_project(project, environ={}) as handle:
        yield handle


def allow_pickle(project: Path, allowed: bool) -> None:
    config = yaml.safe_load((project / "lucid.yaml").read_text())
    config["allow_pickle"] = allowed
    (project / "lucid.yaml").write_text(yaml.safe_dump(config))


def register(lucid: Lucid, artifact: SklearnArtifact) -> Any:
    return lucid.registry.register_model(
        "churn",
        artifact=artifact,
        impact=retention(),
        features=PINS,
        training_data="sha256:1f2e",
        offline_metrics={"auc": 0.8},
        registered_by="ana",
        rationale="monthly retrain",
    )


def stored_models(project: Path) -> list[Path]:
    return sorted((project / "artifacts").rglob("model.*"))


# -- pickles -------------------------------------------------------------------------------------


def pickles(marker: Path) -> dict[str, bytes]:
    """The same attack in every form joblib.load would unpickle, under misleading names too."""
    forms = {"model.pkl": pickle.dumps(WritesMarker(marker))}
    forms["model.skops"] = pickle.dumps(WritesMarker(marker), protocol=0)
    forms["model.onnx"] = pickle.dumps(WritesMarker(marker), protocol=1)
    for name, compress in (("model.joblib", 3), ("model.gz", ("gzip", 3)), ("model.xz", "xz")):
        buffer = io.BytesIO()
        joblib.dump(WritesMarker(marker), buffer, compress=compress)
        forms[name] = buffer.getvalue()
    return forms


@pytest.mark.parametrize(
    "name", ["model.pkl", "model.skops", "model.onnx", "model.joblib", "model.gz", "model.xz"]
)
def test_a_pickle_is_refused_at_register_before_it_is_unpickled(
    lucid: Lucid, project: Path, tmp_path: Path, name: str
) -> None:
    marker = tmp_path / "marker"
    path = tmp_path / name
    path.write_bytes(pickles(marker)[name])
    assert detect(path.read_bytes()) is ModelFormat.PICKLE
    with unchanged(lucid), pytest.raises(InvalidInput) as refused:
        register(lucid, SklearnArtifact(path=path))
    assert refused.value.field == "artifact"
    assert PICKLE_SENTENCE in refused.value.rule
    assert "skops" in refused.value.rule and "allow_pickle: true" in refused.value.rule
    assert not marker.exists() and stored_models(project) == []


def test_the_cli_refuses_a_pickle_with_one_sentence(
    lucid: Lucid, project: Path, tmp_path: Path
) -> None:
    marker = tmp_path / "marker"
    (project / "contract.yaml").write_text(yaml.safe_dump(retention().to_dict()))
    (project / "model.pkl").write_bytes(model_writing_marker(marker))
    with unchanged(lucid):
        result = run_lucid(
            "models",
            "register",
            "churn",
            "--artifact",
            "model.pkl",
            "--contract",
            "contract.yaml",
            "--training-data",
            "sha256:1f2e",
            "--rationale",
            "monthly retrain",
            "--feature",
            PINS[0],
            "--feature",
            PINS[1],
            cwd=project,
            env={"LUCID_ACTOR": "ana"},
        )
    said = " ".join(result.stderr.split())
    assert result.code == 1 and "Traceback" not in result.stderr
    assert said.startswith("error: artifact: model.pkl is a pickle (joblib) file")
    assert PICKLE_SENTENCE in said and "skops" in said and "ONNX" in said
    assert not marker.exists() and stored_models(project) == []


def test_a_project_that_allows_pickles_unpickles_them_from_the_store_only(
    project: Path, tmp_path: Path
) -> None:
    marker = tmp_path / "marker"
    path = tmp_path / "model.pkl"
    path.write_bytes(model_writing_marker(marker))
    allow_pickle(project, True)
    with open_project(project, environ={}) as lucid:
        version = register(lucid, SklearnArtifact(path=path))
        stored = project / "artifacts" / version.artifact.location
        assert version.artifact.location == "models/churn/1/model.joblib"
        assert version.artifact.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
        assert stored.read_bytes() == path.read_bytes()
        assert marker.exists()  # the opt-in's risk: registering unpickled it, from the store
        marker.rmdir()
        served = lucid.registry.load_model("churn", version=1)
        assert served(FEATURE_ROWS) == fitted().predict(ROWS).tolist()
        assert marker.exists()


def test_a_stored_pickle_is_not_loaded_once_the_project_does_not_allow_pickles(
    project: Path, tmp_path: Path
) -> None:
    marker = tmp_path / "marker"
    path = tmp_path / "model.pkl"
    path.write_bytes(model_writing_marker(marker))
    allow_pickle(project, True)
    with open_project(project, environ={}) as lucid:
        register(lucid, SklearnArtifact(path=path))
    marker.rmdir()
    allow_pickle(project, False)
    with (
        open_project(project, environ={}) as lucid,
        unchanged(lucid),
        pytest.raises(Conflict) as refused,
    ):
        lucid.registry.load_model("churn", version=1)
    assert refused.value.sentence == (
        "The artifact models/churn/1/model.joblib is a pickle, which runs code when it is "
        "loaded, and this project does not set allow_pickle: true, so it is not loaded; "
        "register the model again as skops or ONNX."
    )
    assert not marker.exists()


def test_an_in_memory_model_skops_may_not_load_is_a_pickle_only_by_opt_in(
    lucid: Lucid, project: Path
) -> None:
    model = HomeMade().fit(ROWS, LABELS)
    with unchanged(lucid), pytest.raises(InvalidInput) as refused:
        register(lucid, SklearnArtifact(estimator=model))
    assert refused.value.rule.startswith(
        "a HomeMade holds types that are not scikit-learn, NumPy or SciPy types skops may load "
        "(tests.security.test_artifacts.HomeMade)"
    )
    assert stored_models(project) == []
    allow_pickle(project, True)
    with open_project(project, environ={}) as opted_in:
        version = register(opted_in, SklearnArtifact(estimator=model))
        assert version.artifact.location.endswith("model.joblib")
        served = opted_in.registry.load_model("churn", version=version.version)
        assert served(FEATURE_ROWS) == model.predict(ROWS).tolist()


@pytest.mark.parametrize(
    ("line", "allowed"),
    [("", False), ("allow_pickle: true\n", True), ("allow_pickle: no\n", False)],
)
def test_pickles_are_off_unless_lucid_yaml_says_true(
    bare_project: Path, line: str, allowed: bool
) -> None:
    config = bare_project / "lucid.yaml"
    config.write_text(config.read_text() + line)
    assert load_settings(bare_project, {}).allow_pickle is allowed


@pytest.mark.parametrize("value", ['"yes"', "1", '"true"'])
def test_allow_pickle_takes_a_yaml_boolean_only(bare_project: Path, value: str) -> None:
    config = bare_project / "lucid.yaml"
    config.write_text(config.read_text() + f"allow_pickle: {value}\n")
    with pytest.raises(ConfigurationError, match=r"Setting allow_pickle in .* is invalid"):
        load_settings(bare_project, {})


# -- a changed artifact --------------------------------------------------------------------------


@pytest.mark.parametrize("pickles_allowed", [False, True], ids=["skops", "pickle-opt-in"])
def test_an_artifact_changed_in_the_store_is_refused_at_load(
    project: Path, tmp_path: Path, pickles_allowed: bool
) -> None:
    marker = tmp_path / "marker"
    allow_pickle(project, pickles_allowed)
    with open_project(project, environ={}) as lucid:
        version = register(lucid, SklearnArtifact(estimator=fitted()))
        stored = project / "artifacts" / version.artifact.location
        stored.write_bytes(model_writing_marker(marker))  # the store's bytes, replaced
        with unchanged(lucid), pytest.raises(IntegrityViolation) as refused:
            lucid.registry.load_model("churn", version=version.version)
    assert refused.value.sentence.startswith(f"The artifact {version.artifact.location} has")
    assert "was changed after registration and is refused" in refused.value.sentence
    assert not marker.exists()


# -- skops ---------------------------------------------------------------------------------------


def untrusted_skops(marker: Path) -> dict[str, bytes]:
    return {
        "open": crafted_skops("builtins", "open", (str(marker), "w")),
        "memmap": crafted_skops("numpy", "memmap", (str(marker), "uint8", "w+", 0, (4,))),
        "os.system": skops.io.dumps(make_pipeline(FunctionTransformer(os.system))),
    }


@pytest.mark.parametrize(
    ("gadget", "named"),
    [("open", "builtins.open"), ("memmap", "numpy.memmap"), ("os.system", "posix.system")],
)
def test_a_skops_file_naming_an_untrusted_type_is_refused(
    lucid: Lucid, project: Path, tmp_path: Path, gadget: str, named: str
) -> None:
    marker = tmp_path / "marker"
    path = tmp_path / "model.skops"
    path.write_bytes(untrusted_skops(marker)[gadget])
    assert named in skops.io.get_untrusted_types(data=path.read_bytes())
    with unchanged(lucid), pytest.raises(InvalidInput) as refused:
        register(lucid, SklearnArtifact(path=path))
    assert refused.value.rule == (
        f"{path} holds types that are not scikit-learn, NumPy or SciPy types skops may load "
        f"({named}); constructing them could run their code, so it is refused"
    )
    assert not marker.exists() and stored_models(project) == []


def tree_with(change: str) -> Any:
    """A fitted decision tree whose node table was edited as a crafted file would be."""
    model = DecisionTreeClassifier(random_state=0).fit(ROWS, LABELS)
    state = model.tree_.__getstate__()
    nodes = state["nodes"]
    child = int(nodes["left_child"][0])
    if change == "outside":
        nodes["left_child"][0] = 10**6
    elif change == "backwards":  # a child pointing at the root: predict would never end
        nodes["left_child"][child] = nodes["right_child"][child] = 0
    else:
        nodes["feature"][0] = 99
    tree = Tree(model.tree_.n_features, np.asarray(model.tree_.n_classes), model.tree_.n_outputs)
    tree.__setstate__(state)
    model.tree_ = tree
    return model


def boosting_with(field: str, value: int) -> Any:
    model = HistGradientBoostingClassifier(max_iter=3, random_state=0).fit(ROWS, LABELS)
    model._predictors[0][0].nodes[field][0] = value
    return model


@pytest.mark.parametrize(
    "crafted",
    [
        pytest.param(lambda: tree_with("outside"), id="tree-child-outside"),
        pytest.param(lambda: tree_with("backwards"), id="tree-cycle"),
        pytest.param(lambda: tree_with("feature"), id="tree-unknown-feature"),
        pytest.param(lambda: boosting_with("left", 10**6), id="boosting-child-outside"),
        pytest.param(lambda: boosting_with("feature_idx", 7), id="boosting-unknown-feature"),
    ],
)
def test_a_skops_file_of_allowed_types_with_a_malformed_tree_is_refused(
    lucid: Lucid, project: Path, tmp_path: Path, crafted: Any
) -> None:
    path = tmp_path / "model.skops"
    skops.io.dump(crafted(), path)
    with unchanged(lucid), pytest.raises(InvalidInput) as refused:
        register(lucid, SklearnArtifact(path=path))
    assert refused.value.rule.startswith(f"{path} holds a malformed tree (node ")
    assert "of a tree points outside its table or its inputs); it is refused" in refused.value.rule
    assert stored_models(project) == []


@pytest.mark.parametrize(
    ("name", "trusted"),
    [
        ("sklearn.tree._tree.Tree", True),
        ("sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor", True),
        ("sklearn.feature_selection._univariate_selection.f_classif", True),
        ("numpy.dtype", True),
        ("numpy.random._generator.Generator", True),
        ("scipy.sparse._csr.csr_matrix", True),
        ("functools.partial", True),
        ("sklearn.utils.validation.check_array", True),
        ("numpy.memmap", False),  # opens and writes a file
        ("numpy.testing._private.extbuild.build_and_import_extension", False),
        ("scipy.io._netcdf.netcdf_file", False),
        ("sklearn.utils._testing.TempMemmap", False),
        ("sklearn.datasets._base.load_files", False),
        ("sklearn.utils.validation.check_memory", False),  # a function, not a score function
        ("sklearn.linear_model.os", False),  # not what it claims
        ("builtins.eval", False),
        ("posix.system", False),
        ("numpy.nothing_here", False),
    ],
)
def test_the_allow_list_judges_what_a_name_resolves_to(name: str, trusted: bool) -> None:
    assert allowed(name) is trusted


# -- the safe path -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "estimator",
    [
        LogisticRegression(),
        make_pipeline(StandardScaler(), LogisticRegression()),
        GradientBoostingClassifier(n_estimators=20, random_state=0),
        HistGradientBoostingClassifier(max_iter=20, random_state=0),
        RandomForestClassifier(n_estimators=10, random_state=0),
    ],
    ids=["logistic", "pipeline", "gradient-boosting", "hist-gradient-boosting", "forest"],
)
@pytest.mark.parametrize("given", ["in-memory", "skops-file"])
def test_ordinary_models_register_as_skops_and_predict_as_the_estimator(
    lucid: Lucid, tmp_path: Path, estimator: Any, given: str
) -> None:
    model = estimator.fit(ROWS, LABELS)
    if given == "in-memory":
        artifact = SklearnArtifact(estimator=model)
    else:
        skops.io.dump(model, tmp_path / "model.bin")  # the name does not matter, the bytes do
        artifact = SklearnArtifact(path=tmp_path / "model.bin")
    version = register(lucid, artifact)
    assert version.artifact.location == "models/churn/1/model.skops"
    served = lucid.registry.load_model("churn", version=version.version)
    predictions, scores = served.predict_scored(FEATURE_ROWS)
    assert predictions == model.predict(ROWS).tolist()
    assert scores == model.predict_proba(ROWS)[:, 1].tolist()


@pytest.mark.parametrize(
    "data",
    [b"metric: retention_rate\n", b"", b"PK\x03\x04 not a zip", b"\x1f\x8b broken gzip"],
    ids=["yaml", "empty", "broken-zip", "broken-gzip"],
)
def test_a_file_that_is_neither_skops_nor_pickle_is_refused(
    lucid: Lucid, project: Path, tmp_path: Path, data: bytes
) -> None:
    path = tmp_path / "model.skops"
    path.write_bytes(data)
    assert detect(data) is None
    before = stored_state(lucid)
    refusal = "is empty" if not data else "is neither a skops file nor a pickle"
    with pytest.raises(InvalidInput, match=refusal):
        register(lucid, SklearnArtifact(path=path))
    assert stored_state(lucid) == before and stored_models(project) == []


# -- lucid serve ---------------------------------------------------------------------------------


def test_serve_refuses_a_stored_pickle_where_pickles_are_not_allowed(tmp_path: Path) -> None:
    folder = tmp_path / "served"
    secrets = build_project(folder, monitored=False)
    marker = tmp_path / "marker"
    pickled = tmp_path / "model.pkl"
    pickled.write_bytes(model_writing_marker(marker))
    allow_pickle(folder, True)
    with open_project(folder, environ={}) as lucid:  # a pickle registered while allowed
        version = register(lucid, SklearnArtifact(path=pickled)).version
        prove(lucid.registry, version)
        for stage, by in (("challenger", "ana"), ("production", "bea")):
            marker.rmdir()  # each load unpickles it again: promotion loads what it serves
            lucid.registry.promote("churn", version, stage, actor=by, rationale="A/B")
    marker.rmdir()
    allow_pickle(folder, False)
    with open_project(folder, environ={}) as lucid, unchanged(lucid), served(folder) as (base, _):
        answer = httpx.post(
            f"{base}/v1/predict/churn",
            headers={"Authorization": f"Bearer {secrets['scientist']}"},
            json={"entity_id": "c00001"},
            timeout=30,
        )
    assert answer.status_code == 409, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["detail"] == (
        f"The artifact models/churn/{version}/model.joblib is a pickle, which runs code when it "
        "is loaded, and this project does not set allow_pickle: true, so it is not loaded; "
        "register the model again as skops or ONNX."
    )
    assert not marker.exists()
