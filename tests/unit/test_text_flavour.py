"""Text models (ONNX and its tokenizer) built by the tests, served by Lucid as
onnxruntime and the tokenizer answer them directly."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from lucid.errors import InvalidInput
from lucid.registry.flavours import text
from lucid.registry.model_signature import Signature
from lucid.storage.hugging_face_hub import HuggingFaceHub
from tests.text_models import CORPUS, direct_logits, graph, text_model

TEXTS = [*CORPUS, "late delivery and an unknown word", ""]


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("text")
    text_model(root / "binary", 2, ["stays", "churns"])
    text_model(root / "single", 1)
    text_model(root / "three", 3)
    return root


def run(folder: Path, texts: list[str]) -> tuple[list[object], list[float | None]]:
    prepared = text.prepare_folder(folder)
    assert prepared.signature == Signature(1) and prepared.location == "model.text.zip"
    runner = text.load(prepared.data or b"", prepared.location, False)
    return runner.predict_scored(["ticket_text"], [[value] for value in texts])


def test_scores_equal_the_tokenizer_and_onnxruntime_called_directly(models: Path) -> None:
    logits = direct_logits(models / "binary", TEXTS)
    predictions, scores = run(models / "binary", TEXTS)
    expected = np.exp(logits[:, 1]) / np.exp(logits).sum(axis=1)
    assert np.abs(np.array(scores, dtype=float) - expected).max() < 1e-6
    assert predictions == [["stays", "churns"][i] for i in logits.argmax(axis=1)]
    logits = direct_logits(models / "single", TEXTS)
    predictions, scores = run(models / "single", TEXTS)
    expected = 1 / (1 + np.exp(-logits[:, 0]))
    assert np.abs(np.array(scores, dtype=float) - expected).max() < 1e-6
    assert predictions == [int(p >= 0.5) for p in expected]
    predictions, scores = run(models / "three", TEXTS)
    assert predictions == direct_logits(models / "three", TEXTS).argmax(axis=1).tolist()
    assert scores == [None] * len(TEXTS)


def test_a_text_value_must_be_text(models: Path) -> None:
    with pytest.raises(InvalidInput, match=r"^ticket_text: must be text for a text model"):
        run(models / "binary", ["fine", None])  # type: ignore[list-item]


def test_folders_that_are_not_text_models_are_refused(models: Path, tmp_path: Path) -> None:
    folder = text_model(tmp_path / "model", 2)
    (folder / "tokenizer.json").unlink()
    with pytest.raises(InvalidInput, match=r"has no tokenizer\.json.*optimum-cli export onnx"):
        text.prepare_folder(folder)
    (folder / "tokenizer.json").write_text("{}")
    with pytest.raises(InvalidInput, match="is not a tokenizers tokenizer"):
        text.prepare_folder(folder)
    text_model(folder, 2)
    (folder / "model.onnx").write_bytes(b"not a graph")
    with pytest.raises(InvalidInput, match="is not an ONNX model"):
        text.prepare_folder(folder)
    data = graph(10, 2).replace(b"attention_mask", b"attention_mast")
    (folder / "model.onnx").write_bytes(data)
    with pytest.raises(InvalidInput, match="takes input_ids, attention_mast; a text model takes"):
        text.prepare_folder(folder)
    text_model(folder, 2)
    (folder / "config.json").write_text(json.dumps({"id2label": {"first": "x"}}))
    with pytest.raises(InvalidInput, match="id2label maps class indexes to names"):
        text.prepare_folder(folder)


def hub_cache(cache: Path, model_id: str, files: dict[str, bytes]) -> Path:
    """A local Hugging Face cache holding one snapshot of `model_id` with `files`."""
    repo = cache / f"models--{model_id.replace('/', '--')}"
    commit = "0" * 40
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)
    for name, data in files.items():
        path = repo / "snapshots" / commit / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return cache


def test_a_hub_model_with_an_onnx_export_is_copied_and_one_without_is_a_reference(
    models: Path, tmp_path: Path
) -> None:
    folder = models / "binary"
    exported = {
        "onnx/model.onnx": (folder / "model.onnx").read_bytes(),
        "tokenizer.json": (folder / "tokenizer.json").read_bytes(),
        "config.json": (folder / "config.json").read_bytes(),
        "model.safetensors": b"weights Lucid does not copy",
    }
    hub = HuggingFaceHub(offline=True, cache_dir=hub_cache(tmp_path / "hf", "shop/churn", exported))
    prepared = text.prepare_hub("shop/churn", hub)
    assert prepared.location == "model.text.zip" and prepared.signature == Signature(1)
    runner = text.load(prepared.data or b"", prepared.location, False)
    assert runner.predict_scored(["t"], [[t] for t in TEXTS]) == run(folder, TEXTS)
    plain = {"model.safetensors": b"weights", "tokenizer.json": exported["tokenizer.json"]}
    hub = HuggingFaceHub(offline=True, cache_dir=hub_cache(tmp_path / "hf2", "shop/raw", plain))
    reference = text.prepare_hub("shop/raw", hub)
    assert (reference.location, reference.data, reference.sha256) == ("shop/raw", None, None)
