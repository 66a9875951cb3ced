"""A small text model the tests build themselves, laid out as `optimum-cli export onnx`
writes one: a WordLevel tokenizer trained on a tiny corpus (`tokenizer.json`) and an ONNX
graph (`model.onnx`): token embeddings, their mean over the attention mask, a linear layer
to `logits`."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from onnx import TensorProto, helper, numpy_helper

CORPUS = [
    "the delivery was late again and support never answered",
    "great service fast delivery thank you",
    "i want to cancel my subscription",
    "the app keeps crashing please fix it",
    "love the new features keep going",
]


def tokenizer_json() -> str:
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.WordLevel(unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.train_from_iterator(
        CORPUS, trainers.WordLevelTrainer(special_tokens=["[PAD]", "[UNK]"])
    )
    return str(tokenizer.to_str())


def graph(vocabulary: int, classes: int, seed: int = 0, token_types: bool = False) -> bytes:
    """Gather embedding → mean over the attention mask → MatMul + bias → logits [N, classes]."""
    generator = np.random.default_rng(seed)
    width = 8
    tensors = [
        numpy_helper.from_array(generator.normal(size=(vocabulary, width)).astype(np.float32), "E"),
        numpy_helper.from_array(generator.normal(size=(width, classes)).astype(np.float32), "W"),
        numpy_helper.from_array(generator.normal(size=(classes,)).astype(np.float32), "b"),
        numpy_helper.from_array(np.array([2], dtype=np.int64), "axis2"),
        numpy_helper.from_array(np.array([1], dtype=np.int64), "axis1"),
        numpy_helper.from_array(np.array(1e-9, dtype=np.float32), "eps"),
    ]
    nodes = [
        helper.make_node("Gather", ["E", "input_ids"], ["embedded"]),
        helper.make_node("Cast", ["attention_mask"], ["mask"], to=TensorProto.FLOAT),
        helper.make_node("Unsqueeze", ["mask", "axis2"], ["mask3"]),
        helper.make_node("Mul", ["embedded", "mask3"], ["masked"]),
        helper.make_node("ReduceSum", ["masked", "axis1"], ["summed"], keepdims=0),
        helper.make_node("ReduceSum", ["mask3", "axis1"], ["count"], keepdims=0),
        helper.make_node("Max", ["count", "eps"], ["safe"]),
        helper.make_node("Div", ["summed", "safe"], ["mean"]),
        helper.make_node("MatMul", ["mean", "W"], ["projected"]),
        helper.make_node("Add", ["projected", "b"], ["logits"]),
    ]
    names = ["input_ids", "attention_mask"] + (["token_type_ids"] if token_types else [])
    inputs = [helper.make_tensor_value_info(n, TensorProto.INT64, ["N", "L"]) for n in names]
    output = helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", classes])
    model = helper.make_model(
        helper.make_graph(nodes, "text", inputs, [output], tensors),
        opset_imports=[helper.make_opsetid("", 13)],
    )
    model.ir_version = 8
    return bytes(model.SerializeToString())


def text_model(folder: Path, classes: int = 2, labels: list[str] | None = None) -> Path:
    """Write `model.onnx`, `tokenizer.json` and (with `labels`) `config.json` into `folder`."""
    from tokenizers import Tokenizer

    folder.mkdir(parents=True, exist_ok=True)
    written = tokenizer_json()
    (folder / "tokenizer.json").write_text(written)
    size = Tokenizer.from_str(written).get_vocab_size()
    (folder / "model.onnx").write_bytes(graph(size, classes))
    if labels is not None:
        config = {"id2label": {str(i): label for i, label in enumerate(labels)}}
        (folder / "config.json").write_text(json.dumps(config))
    return folder


def direct_logits(folder: Path, texts: list[str]) -> np.ndarray:
    """The logits of the tokenizer and onnxruntime called directly, without Lucid."""
    import onnxruntime
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tokenizer.enable_padding(pad_id=tokenizer.token_to_id("[PAD]"), pad_token="[PAD]")
    encoded = tokenizer.encode_batch(texts)
    session = onnxruntime.InferenceSession(str(folder / "model.onnx"))
    feeds = {
        "input_ids": np.array([e.ids for e in encoded], dtype=np.int64),
        "attention_mask": np.array([e.attention_mask for e in encoded], dtype=np.int64),
    }
    return np.asarray(session.run(["logits"], feeds)[0], dtype=np.float64)
