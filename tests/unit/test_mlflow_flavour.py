"""MLflow models saved by MLflow itself, copied as one archive and served by Lucid."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from lucid.errors import Conflict, InvalidInput
from lucid.registry.flavours import archives, mlflow
from tests import mlflow_models
from tests.mlflow_models import COLUMNS


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("mlflow")
    mlflow_models.sklearn_classifier(root / "classifier")
    mlflow_models.pyfunc_regressor(root / "regressor")
    return root


def test_a_classifier_scores_as_its_estimator_and_a_pyfunc_predicts_without_score(
    saved: Path,
) -> None:
    table, _ = mlflow_models.training_table(rows=25, seed=3)
    rows = table.values.tolist()
    classifier = mlflow.prepare(saved / "classifier")
    assert classifier.signature is not None and classifier.signature.names == tuple(COLUMNS)
    runner = mlflow.load(classifier.data or b"", classifier.location, True)
    predictions, scores = runner.predict_scored(COLUMNS, rows)
    native = mlflow_models.LogisticRegression().fit(*mlflow_models.training_table())
    expected = native.predict_proba(table)[:, 1]
    assert max(abs(s - e) for s, e in zip(scores, expected, strict=True)) < 1e-6  # type: ignore[operator]
    assert predictions == native.predict(table).tolist()
    regressor = mlflow.prepare(saved / "regressor")
    runner = mlflow.load(regressor.data or b"", regressor.location, True)
    predictions, scores = runner.predict_scored(COLUMNS, [[0.5, 3], [0.25, 30]])
    assert predictions == pytest.approx([4.0, 30.5]) and scores == [None, None]


def test_an_mlflow_model_loads_only_where_pickles_are_allowed(saved: Path) -> None:
    prepared = mlflow.prepare(saved / "regressor")
    with pytest.raises(Conflict, match=r"unpickles and runs its Python code.*allow_pickle"):
        mlflow.load(prepared.data or b"", prepared.location, False)


def test_the_archive_is_deterministic_and_refuses_links_leaving_the_folder(
    saved: Path, tmp_path: Path
) -> None:
    assert archives.pack(saved / "classifier") == archives.pack(saved / "classifier")
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "MLmodel").write_text("flavors: {}\n")
    (tmp_path / "secret.txt").write_text("not the model's")
    (folder / "leak.txt").symlink_to(tmp_path / "secret.txt")
    with pytest.raises(InvalidInput, match=r"artifact: leak\.txt .* leaves the folder"):
        mlflow.prepare(folder)


def test_an_archive_whose_member_leaves_its_folder_is_not_unpacked() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("../escaped.txt", "out")
    with pytest.raises(Conflict, match="would land outside its folder"):
        archives.unpack(buffer.getvalue(), "model.mlflow.zip")
