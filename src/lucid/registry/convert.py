"""Converting a scikit-learn model to ONNX (skl2onnx), checked against the model itself.

The model comes from a skops file loaded with the allow-list (`sklearn_artifacts`); a pickle is
refused, never unpickled. A model that knows its input names (`feature_names_in_`) becomes a
graph of one float input per name, so Lucid matches its pins by name; one fitted on a bare
array becomes a graph of one float tensor taking its inputs by position. A classifier's
probabilities are a plain tensor (no ZipMap). The graph is kept only when Lucid's ONNX runner
scores rows of the model's own making as the model does, within `TOLERANCE`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from lucid.errors import InvalidInput
from lucid.extras import require
from lucid.registry import sklearn_artifacts
from lucid.registry.flavours import onnx as onnx_flavour
from lucid.registry.model_signature import of_estimator

TOLERANCE = 1e-5
"""Largest difference allowed between the model's and the ONNX graph's scores, relative to
the score when it exceeds 1."""

_ROWS = 64


@dataclass(frozen=True)
class Conversion:
    """An ONNX graph (`data`) of a scikit-learn model: its input names (None: one tensor of
    `width` columns taken by position) and how closely it scores as the model did
    (`largest_difference` over `rows_checked` rows)."""

    data: bytes
    model: str
    inputs: tuple[str, ...] | None
    width: int
    rows_checked: int
    largest_difference: float


def convert_file(path: Path) -> Conversion:
    """The checked ONNX graph of the scikit-learn model in the skops file `path`."""
    try:
        data = path.expanduser().read_bytes()
    except FileNotFoundError:
        raise InvalidInput("FILE", f"the file {path} does not exist") from None
    except IsADirectoryError:
        raise InvalidInput("FILE", f"{path} is a folder, not a model file") from None
    try:
        estimator, _ = sklearn_artifacts.file_bytes(path, data, allow_pickle=False)
    except InvalidInput as error:
        raise InvalidInput("FILE", error.rule) from None
    return convert_estimator(estimator, str(path))


def convert_estimator(estimator: Any, where: str = "the model") -> Conversion:
    """The checked ONNX graph of a fitted scikit-learn estimator (or pipeline)."""
    signature = of_estimator(estimator)
    if signature is None:
        raise InvalidInput(
            "FILE", f"{where} states no inputs (n_features_in_), so it cannot be converted"
        )
    require("skl2onnx", "convert", "lucid models convert")
    data = _converted(estimator, signature.count, signature.names, where)
    rows = _rows(signature.count)
    difference = _largest_difference(estimator, data, rows, signature.names)
    if not difference <= TOLERANCE:
        raise InvalidInput(
            "FILE",
            f"the ONNX graph of {where} scores rows up to {difference:.3g} away from the model "
            f"(more than {TOLERANCE:g}), so it was not written",
        )
    return Conversion(
        data, type(estimator).__name__, signature.names, signature.count, len(rows), difference
    )


def _converted(estimator: Any, width: int, names: tuple[str, ...] | None, where: str) -> bytes:
    from skl2onnx import convert_sklearn  # type: ignore[import-untyped]
    from skl2onnx.common.data_types import FloatTensorType  # type: ignore[import-untyped]

    options = {id(_final(estimator)): {"zipmap": False}} if _is_classifier(estimator) else None
    if names is not None:
        try:
            named = [(name, FloatTensorType([None, 1])) for name in names]
            return bytes(
                convert_sklearn(estimator, initial_types=named, options=options).SerializeToString()
            )
        except Exception:  # most estimators take one tensor: their named inputs are joined below
            pass
    try:
        model = convert_sklearn(
            estimator,
            initial_types=[("float_input", FloatTensorType([None, width]))],
            options=options,
        )
    except Exception as error:  # skl2onnx raises many kinds for what it cannot convert
        reason = str(error).splitlines()[0][:200] if str(error) else type(error).__name__
        raise InvalidInput("FILE", f"skl2onnx cannot convert {where} ({reason})") from None
    if names is not None:
        _take_named_inputs(model, names)
    return bytes(model.SerializeToString())


def _take_named_inputs(model: Any, names: tuple[str, ...]) -> None:
    """Replace a graph's one tensor input by one [N, 1] float input per name, joined in order."""
    from onnx import TensorProto, helper

    graph = model.graph
    tensor = graph.input[0].name
    del graph.input[:]
    graph.input.extend(
        helper.make_tensor_value_info(n, TensorProto.FLOAT, [None, 1]) for n in names
    )
    graph.node.insert(
        0, helper.make_node("Concat", list(names), [tensor], axis=1, name="lucid_inputs")
    )


def _final(estimator: Any) -> Any:
    steps = getattr(estimator, "steps", None)
    return steps[-1][1] if steps else estimator


def _is_classifier(estimator: Any) -> bool:
    return hasattr(estimator, "classes_") and callable(getattr(estimator, "predict_proba", None))


def _rows(width: int) -> Any:
    """Rows spanning several scales, rounded to float32 as the graph reads them."""
    generator = np.random.default_rng(24)
    scales = np.repeat([0.1, 1.0, 10.0, 1000.0], _ROWS // 4)[:, None]
    return (generator.normal(size=(_ROWS, width)) * scales).astype(np.float32).astype(np.float64)


def _largest_difference(
    estimator: Any, data: bytes, rows: Any, names: tuple[str, ...] | None
) -> float:
    table: Any = rows
    if names is not None:
        import pandas as pd  # type: ignore[import-untyped]

        table = pd.DataFrame(rows, columns=list(names))
    columns = list(names) if names is not None else [f"x{i}" for i in range(rows.shape[1])]
    predictions, scores = onnx_flavour.load(data, "model.onnx", False).predict_scored(
        columns, rows.tolist()
    )
    if _is_classifier(estimator):
        expected = np.asarray(estimator.predict_proba(table))[:, 1]
        found = np.array(scores, dtype=float)
    else:
        expected = np.asarray(estimator.predict(table), dtype=float).reshape(-1)
        found = np.array(predictions, dtype=float)
    gaps = np.abs(found - expected) / np.maximum(1.0, np.abs(expected))
    return float(np.nanmax(gaps)) if np.isfinite(gaps).all() else float("inf")
