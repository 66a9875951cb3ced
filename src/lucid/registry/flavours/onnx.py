"""The ONNX flavour: any classifier or regressor, run by onnxruntime on the CPU.

Inputs: a graph of one 2-D tensor takes the features as its columns, by position; a graph of
several inputs takes one feature per input, by name ([N, 1] or [N], each cast to its declared
element type; a string tensor takes text). Outputs: a classifier (skl2onnx's, or any graph of
two outputs) answers its label output and its probabilities (a [N, C] tensor, or ZipMap's
sequence of maps), its score P(class index 1); a regressor (one output) answers its value,
without a score.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from lucid.contracts.value.versions import ArtifactKind
from lucid.errors import Conflict, InvalidInput
from lucid.registry.flavours import PreparedArtifact, model_file
from lucid.registry.flavours.arrays import numeric_column, numeric_matrix
from lucid.registry.model_signature import of_onnx

_ELEMENT_TYPES: dict[str, Any] = {
    "tensor(float)": np.float32,
    "tensor(double)": np.float64,
    "tensor(float16)": np.float16,
    "tensor(int64)": np.int64,
    "tensor(int32)": np.int32,
    "tensor(int16)": np.int16,
    "tensor(int8)": np.int8,
    "tensor(uint8)": np.uint8,
    "tensor(bool)": np.bool_,
    "tensor(string)": object,
}


def prepare(path: Path) -> PreparedArtifact:
    """Check an ONNX file (onnxruntime must load it) and read its signature."""
    data = model_file(path)
    signature = of_onnx(data, str(path))
    try:
        OnnxRunner(_session(data))
    except Conflict as error:
        raise InvalidInput("artifact", f"{path} {error.sentence.rstrip('.')}") from None
    return PreparedArtifact(ArtifactKind.ONNX, "model.onnx", data, signature=signature)


def load(data: bytes, location: str, allow_pickle: bool) -> OnnxRunner:
    """The runner of a stored ONNX model."""
    try:
        return OnnxRunner(_session(data))
    except Conflict as error:
        raise Conflict(f"The artifact {location} {error.sentence}") from None


def _session(data: bytes) -> Any:
    import onnxruntime as ort  # type: ignore[import-untyped]

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1  # serving workers each run one model call at a time
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    try:
        return ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])
    except Exception as error:  # onnxruntime raises its own Fail/InvalidGraph/... kinds
        reason = str(error).splitlines()[0][:200]
        raise Conflict(f"is not an ONNX model onnxruntime can run ({reason}).") from None


@dataclass(frozen=True, slots=True)
class _Input:
    name: str
    dtype: Any
    rank: int


class OnnxRunner:
    """An onnxruntime session with its inputs and outputs read once, so a call only builds
    its arrays and runs."""

    def __init__(self, session: Any) -> None:
        self.session = session
        self._inputs = [
            _Input(i.name, _dtype(i.type), len(i.shape or ())) for i in session.get_inputs()
        ]
        outputs = session.get_outputs()
        if not 1 <= len(outputs) <= 2:
            raise Conflict(
                f"answers {len(outputs)} outputs; Lucid serves a regressor's one output or a "
                "classifier's label and probabilities."
            )
        self._outputs = [output.name for output in outputs]
        self._classifier = len(outputs) == 2

    def predict_scored(
        self, columns: Sequence[str], matrix: list[list[Any]]
    ) -> tuple[list[Any], list[float | None]]:
        """A classifier's labels and P(class index 1) (no score with one class); a regressor's
        values and no score."""
        feed = self._feed(columns, matrix)
        try:
            found = self.session.run(self._outputs, feed)
        except Exception as error:  # onnxruntime's InvalidArgument, Fail, ...
            reason = str(error).splitlines()[0][:200]
            raise InvalidInput("rows", f"the ONNX model refused the rows ({reason})") from None
        first = np.asarray(found[0])
        if first.size != len(matrix):
            raise Conflict(
                f"The ONNX model answers {first.size} values for {len(matrix)} rows; Lucid "
                "serves a classifier's label and probabilities or a regressor's one value a row."
            )
        values = first.reshape(len(matrix)).tolist()
        if not self._classifier:
            return values, [None] * len(matrix)
        return values, self._scores(found[1], len(matrix))

    def _feed(self, columns: Sequence[str], matrix: list[list[Any]]) -> dict[str, Any]:
        if len(self._inputs) == 1:
            only = self._inputs[0]
            if only.rank <= 1:
                return {
                    only.name: numeric_column(columns[0], [row[0] for row in matrix], only.dtype)
                }
            if only.dtype is object:
                return {
                    only.name: np.array([[str(v) for v in row] for row in matrix], dtype=object)
                }
            return {only.name: numeric_matrix(columns, matrix, only.dtype)}
        feed: dict[str, Any] = {}
        for index, given in enumerate(self._inputs):
            position = index if columns[index] == given.name else _position(columns, given.name)
            values = numeric_column(given.name, [row[position] for row in matrix], given.dtype)
            feed[given.name] = values if given.rank <= 1 else values.reshape(-1, 1)
        return feed

    def _scores(self, probabilities: Any, rows: int) -> list[float | None]:
        if isinstance(probabilities, list):  # ZipMap: one {class: probability} per row
            classes = sorted(probabilities[0])  # as scikit-learn's classes_ are
            if len(classes) < 2:
                return [None] * rows
            return [float(row[classes[1]]) for row in probabilities]
        table = np.asarray(probabilities).reshape(rows, -1)
        if table.shape[1] < 2:
            return [None] * rows
        scores: list[float | None] = table[:, 1].astype(float).tolist()
        return scores


def _position(columns: Sequence[str], name: str) -> int:
    try:
        return list(columns).index(name)
    except ValueError:
        raise InvalidInput("rows", f"no column gives the ONNX model its input {name}") from None


def _dtype(onnx_type: str) -> Any:
    dtype = _ELEMENT_TYPES.get(onnx_type)
    if dtype is None:
        raise Conflict(f"takes an input of type {onnx_type}, which Lucid does not feed.")
    return dtype
