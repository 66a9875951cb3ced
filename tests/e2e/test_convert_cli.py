"""`lucid models convert` and `lucid models register --kind onnx|lightgbm` in real
processes: a skops model becomes an ONNX file scoring as it does, which registers; a file that
is not a skops model is refused with a sentence and nothing is written."""

from __future__ import annotations

from pathlib import Path

import lightgbm as lgb
import numpy as np
import onnxruntime as ort
import pandas as pd
import pytest
import skops.io
import yaml
from sklearn.linear_model import LogisticRegression

from tests.conftest import new_project, run_lucid
from tests.e2e.test_models_cli import CONTRACT

NAMES = ["activity", "spend"]
RNG = np.random.default_rng(7)
TRAIN = pd.DataFrame(RNG.normal(size=(120, 2)), columns=NAMES)
LABELS = (TRAIN["activity"] > 0).astype(int)


@pytest.mark.slow
def test_a_skops_model_converts_to_onnx_that_registers_beside_native_boosters(
    tmp_path: Path,
) -> None:
    model = LogisticRegression().fit(TRAIN, LABELS)
    skops.io.dump(model, tmp_path / "model.skops")
    converted = run_lucid(
        "models", "convert", str(tmp_path / "model.skops"), "--out", "m.onnx", cwd=tmp_path
    )
    assert converted.code == 0, converted.stderr
    said = " ".join(converted.stdout.split())
    assert "Wrote m.onnx: the LogisticRegression as ONNX" in said
    assert "one input per feature, by name: activity, spend" in said
    assert "lucid models register MODEL --kind onnx --artifact m.onnx" in said
    session = ort.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    rows = TRAIN.to_numpy(np.float32)[:20]
    _, probabilities = session.run(None, {n: rows[:, [i]] for i, n in enumerate(NAMES)})
    expected = model.predict_proba(pd.DataFrame(rows.astype(float), columns=NAMES))[:, 1]
    assert probabilities[:, 1] == pytest.approx(expected, abs=1e-5)

    (tmp_path / "not-a-model.txt").write_text("activity,spend\n1,2\n")
    refused = run_lucid("models", "convert", "not-a-model.txt", "--out", "bad.onnx", cwd=tmp_path)
    assert refused.code == 1 and not (tmp_path / "bad.onnx").exists()
    assert "FILE: not-a-model.txt is neither a skops file nor a pickle" in " ".join(
        refused.stderr.split()
    )

    project = tmp_path / "project"
    environ = new_project(project)
    (tmp_path / "contract.yaml").write_text(yaml.safe_dump(CONTRACT))
    lgb.train({"objective": "binary", "verbose": -1}, lgb.Dataset(TRAIN, LABELS), 5).save_model(
        tmp_path / "model.txt"
    )
    for kind, file in (("onnx", "m.onnx"), ("lightgbm", "model.txt")):
        registered = run_lucid(
            "models", "register", "churn", "--kind", kind, "--artifact", str(tmp_path / file),
            "--contract", str(tmp_path / "contract.yaml"), "--training-data", "sha256:1f2e",
            "--rationale", f"served as {kind}", "--as", "dana",
            env=environ,
        )  # fmt: skip
        assert registered.code == 0, registered.stderr
        assert f"as a candidate ({kind})" in registered.stdout
