"""Text models: a Hugging Face model exported to ONNX with its tokenizer, the folder
`optimum-cli export onnx --model <id> <folder>/` writes: `model.onnx` and `tokenizer.json`
(and `config.json`, whose `id2label` names the classes).

The graph takes `input_ids` and `attention_mask` (and optionally `token_type_ids`), int64
[N, L], and answers `logits` [N, C]: one logit is a binary classifier (score = its sigmoid),
two are one (score = softmax P(class 1)), more are classes without a score. The model takes
one text input. The folder is copied into the artifact store as one archive (`archives`).

A Hub id is fetched when its snapshot holds such an export (`onnx/model.onnx` or `model.onnx`
with `tokenizer.json`); otherwise it is registered as a reference Lucid does not serve.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lucid.contracts.value.versions import ArtifactKind
from lucid.errors import Conflict, InvalidInput
from lucid.extras import require
from lucid.ports.artifacts import ModelHub
from lucid.registry.flavours import PreparedArtifact, Runner, archives
from lucid.registry.model_signature import Signature

LOCATION = "model.text.zip"

DEFAULT_MAX_LENGTH = 512
"""Tokens per text when the tokenizer states no truncation length."""

_HUB_FILES = ("onnx/model.onnx", "model.onnx", "tokenizer.json", "config.json")
_TOKEN_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
_EXPORT = "export it with `optimum-cli export onnx --model <id> <folder>/`"


def prepare_folder(folder: Path) -> PreparedArtifact:
    """Check a text model folder (`model.onnx`, `tokenizer.json`) and pack it."""
    root = folder.expanduser().resolve()
    if not root.is_dir():
        raise InvalidInput("artifact", f"{folder} is not a folder")
    _check(root / "model.onnx", root / "tokenizer.json", root / "config.json", str(folder))
    return PreparedArtifact(
        ArtifactKind.HUGGINGFACE, LOCATION, archives.pack(root), signature=Signature(1)
    )


def prepare_hub(model_id: str, hub: ModelHub) -> PreparedArtifact:
    """A Hub id, registered only when the Hub (or, offline, the local Hub cache) has it: its
    ONNX export and tokenizer copied into the store, else a reference Lucid does not serve."""
    model_id = model_id.strip()
    if not model_id:
        raise InvalidInput("artifact", "a Hugging Face Hub id must not be empty")
    answer = hub.availability(model_id)
    if not answer.available:
        raise Conflict(
            f"artifact: the Hugging Face model {model_id} is unavailable ({answer.reason}); "
            "nothing was registered."
        )
    snapshot = hub.snapshot(model_id, _HUB_FILES)
    graph = next((snapshot / name for name in _HUB_FILES[:2] if (snapshot / name).is_file()), None)
    tokenizer = snapshot / "tokenizer.json"
    if graph is None or not tokenizer.is_file():
        return PreparedArtifact(ArtifactKind.HUGGINGFACE, model_id)
    config = snapshot / "config.json"
    _check(graph, tokenizer, config, model_id)
    files = [("model.onnx", graph), ("tokenizer.json", tokenizer)]
    if config.is_file():
        files.append(("config.json", config))
    data = archives.pack_files(files, model_id)
    return PreparedArtifact(ArtifactKind.HUGGINGFACE, LOCATION, data, signature=Signature(1))


def _check(graph: Path, tokenizer: Path, config: Path, where: str) -> None:
    """Refuse, naming the file, a graph or tokenizer that cannot serve text."""
    for path in (graph, tokenizer):
        if not path.is_file():
            raise InvalidInput(
                "artifact",
                f"{where} has no {path.name}; a text model is a folder holding "
                f"model.onnx and tokenizer.json ({_EXPORT})",
            )
    require("tokenizers", "text", "a text model")
    from tokenizers import Tokenizer

    try:
        Tokenizer.from_str(tokenizer.read_text(encoding="utf-8"))
    except Exception:  # the Rust parser's error, or a file that is not text
        raise InvalidInput("artifact", f"{tokenizer} is not a tokenizers tokenizer") from None
    _check_graph(graph.read_bytes(), str(graph))
    _labels(config)


def _check_graph(data: bytes, where: str) -> None:
    import onnx

    try:
        model = onnx.load_model_from_string(data)
    except Exception:  # protobuf's DecodeError, or whatever a foreign file trips
        raise InvalidInput("artifact", f"{where} is not an ONNX model") from None
    constants = {tensor.name for tensor in model.graph.initializer}
    inputs = {v.name: v for v in model.graph.input if v.name not in constants}
    wanted = "int64 inputs input_ids and attention_mask (and optionally token_type_ids)"
    if not {"input_ids", "attention_mask"} <= set(inputs) <= set(_TOKEN_INPUTS):
        raise InvalidInput(
            "artifact",
            f"{where} takes {', '.join(inputs) or 'no input'}; a text model takes the {wanted}",
        )
    int64 = onnx.TensorProto.INT64
    if any(value.type.tensor_type.elem_type != int64 for value in inputs.values()):
        raise InvalidInput("artifact", f"{where} must take the {wanted}")
    logits = [v for v in model.graph.output if v.name == "logits"]
    if not logits or len(logits[0].type.tensor_type.shape.dim) != 2:
        raise InvalidInput("artifact", f"{where} must answer logits of shape [N, classes]")


def _labels(config: Path) -> dict[int, Any]:
    """The class names of `config.json`'s `id2label` (class index → name); none without it."""
    if not config.is_file():
        return {}
    try:
        spec = json.loads(config.read_text(encoding="utf-8"))
        names = spec.get("id2label") or {}
        return {int(index): name for index, name in dict(names).items()}
    except (ValueError, TypeError, AttributeError):  # not JSON, not an object, not indexes
        raise InvalidInput(
            "artifact", f"{config} is not JSON whose id2label maps class indexes to names"
        ) from None


def load(data: bytes, location: str, allow_pickle: bool) -> Runner:
    """The runner of a stored text model (no pickle involved)."""
    require("tokenizers", "text", "a text model")
    import onnxruntime  # type: ignore[import-untyped]
    from tokenizers import Tokenizer

    folder = archives.unpack(data, location)
    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    truncation = tokenizer.truncation or {}
    tokenizer.enable_truncation(max_length=int(truncation.get("max_length", DEFAULT_MAX_LENGTH)))
    if tokenizer.padding is None:
        pad = next((t for t in ("[PAD]", "<pad>") if tokenizer.token_to_id(t) is not None), None)
        if pad is None:
            tokenizer.enable_padding()
        else:
            tokenizer.enable_padding(pad_id=tokenizer.token_to_id(pad), pad_token=pad)
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    session = onnxruntime.InferenceSession(
        str(folder / "model.onnx"), options, providers=["CPUExecutionProvider"]
    )
    return TextRunner(tokenizer, session, _labels(folder / "config.json"))


class TextRunner:
    """Tokenizes a batch of texts (padded, truncated) and runs the graph on it."""

    def __init__(self, tokenizer: Any, session: Any, labels: dict[int, Any]) -> None:
        self.tokenizer = tokenizer
        self.session = session
        self.labels = labels
        self._inputs = [value.name for value in session.get_inputs()]

    def predict_scored(
        self, columns: Sequence[str], matrix: list[list[Any]]
    ) -> tuple[list[Any], list[float | None]]:
        """The most probable class (its `id2label` name, else its index) and, for a binary
        classifier, P(class 1)."""
        import numpy as np

        if len(columns) != 1:
            raise InvalidInput(
                "features", f"a text model takes one text input, not {len(columns)} inputs"
            )
        texts = [row[0] for row in matrix]
        for text in texts:
            if not isinstance(text, str):
                raise InvalidInput(columns[0], f"must be text for a text model, not {text!r}")
        encodings = self.tokenizer.encode_batch(texts)
        arrays = {
            "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
        }
        (logits,) = self.session.run(["logits"], {name: arrays[name] for name in self._inputs})
        logits = np.asarray(logits, dtype=np.float64)
        if logits.shape[1] == 1:
            scores = 1 / (1 + np.exp(-logits[:, 0]))
            classes = (scores >= 0.5).astype(int)
            return [self.labels.get(int(c), int(c)) for c in classes], scores.tolist()
        classes = logits.argmax(axis=1)
        predictions = [self.labels.get(int(c), int(c)) for c in classes]
        if logits.shape[1] > 2:
            return predictions, [None] * len(matrix)
        shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
        probabilities = shifted[:, 1] / shifted.sum(axis=1)
        return predictions, probabilities.tolist()
