"""A model's signature: the inputs it takes, read from its artifact, and how the features a
version pins are given to it.

A signature names the inputs in the model's order (scikit-learn's `feature_names_in_`, the
inputs of a multi-input ONNX graph, an MLflow column signature) or, for a model that knows no
names (fitted on a bare array, an ONNX graph of one tensor), only counts them. Pins map to
named inputs by feature name (the pin without `@version`), and so do request-time inputs
(`lucid.contracts.value.request_inputs`); unnamed inputs take the pins in their order, then the
request-time inputs in theirs. A model whose artifact says nothing readable (a Hugging Face
id, an MLflow model logged without a signature, an ONNX tensor of unstated width, an object
without those attributes) has no signature, and takes the pins in their order unchecked.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from numbers import Integral
from typing import Any

import yaml

from lucid.contracts.value.names import PINNED_FEATURE
from lucid.errors import InvalidInput


@dataclass(frozen=True, slots=True)
class Signature:
    """The inputs a model takes: `count` of them, named in the model's order when it knows
    their names (`names`), else taken by position."""

    count: int
    names: tuple[str, ...] | None = None


def feature_name(pin: str) -> str:
    """The feature name of a pin `name@version`."""
    match = PINNED_FEATURE.fullmatch(pin)
    return match["name"] if match else pin


def input_order(
    signature: Signature | None, pins: Sequence[str], request_inputs: Sequence[str] = ()
) -> tuple[str, ...] | None:
    """The model's input names (pinned features by name, and the request-time inputs) in the
    order the model takes them, or None when the model has no signature (the pins' order,
    then the request-time inputs', is then the only one there is). A model's inputs must be
    exactly those the pins and the request-time inputs provide: by name when the model names
    its inputs; by count otherwise, the pins first, then the request-time inputs, each in the
    order given. A version that pins no feature and takes no request-time input is not
    checked: its caller feeds it rows (or it is served elsewhere)."""
    names = [feature_name(pin) for pin in pins]
    asked = list(request_inputs)
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise InvalidInput(
            "features",
            f"two pins give the model the same input {', '.join(twice)}; pin one version of each "
            "feature",
        )
    if signature is None or not (pins or asked):
        return None
    if signature.names is None:
        given = len(pins) + len(asked)
        if signature.count != given:
            provided = f"{len(pins)} {'feature is' if len(pins) == 1 else 'features are'} pinned"
            if asked:
                provided += f" and {len(asked)} request-time input(s) declared"
            raise InvalidInput(
                "features",
                f"the model takes {signature.count} unnamed inputs in the order of the pins "
                f"{'then the request-time inputs ' if asked else ''}but {provided}",
            )
        return (*names, *asked)
    missing = [name for name in signature.names if name not in names and name not in asked]
    extra = [pin for pin, name in zip(pins, names, strict=True) if name not in signature.names]
    unused = [name for name in asked if name not in signature.names]
    if missing or extra or unused:
        parts = []
        if missing:
            providers = "pin or request-time input" if asked else "pin"
            parts.append(f"no {providers} provides the model's input(s) {', '.join(missing)}")
        if extra:
            parts.append(f"the model does not take the pinned feature(s) {', '.join(extra)}")
        if unused:
            parts.append(f"the model does not take the request-time input(s) {', '.join(unused)}")
        raise InvalidInput(
            "features", f"{'; '.join(parts)} (the model takes {', '.join(signature.names)})"
        )
    return signature.names


def of_estimator(estimator: Any) -> Signature | None:
    """The signature of a fitted scikit-learn estimator (or pipeline, or XGBoost/LightGBM model
    through their scikit-learn API): `feature_names_in_`, else `n_features_in_`."""
    names = _attribute(estimator, "feature_names_in_")
    count = _attribute(estimator, "n_features_in_")
    if names is not None:
        named = tuple(str(name) for name in names)
        return Signature(len(named), named)
    if isinstance(count, Integral) and not isinstance(count, bool):
        return Signature(int(count))
    return None


def _attribute(estimator: Any, name: str) -> Any:
    try:
        return getattr(estimator, name, None)
    except Exception:  # a property may refuse on an unfitted or foreign model
        return None


def of_onnx(data: bytes, where: str) -> Signature | None:
    """The signature of an ONNX model: one input per graph input, by name; a graph of a single
    input takes the features as the columns of that tensor, by position, and its width is the
    count (None when the graph does not state it)."""
    import onnx

    try:
        model = onnx.load_model_from_string(data)
    except Exception:  # protobuf's DecodeError, or whatever a foreign file trips
        raise InvalidInput("artifact", f"{where} is not an ONNX model") from None
    constants = {tensor.name for tensor in model.graph.initializer}
    inputs = [value for value in model.graph.input if value.name not in constants]
    if not inputs or not model.graph.node:
        raise InvalidInput("artifact", f"{where} is not an ONNX model (it has no graph inputs)")
    if len(inputs) > 1:
        names = tuple(value.name for value in inputs)
        return Signature(len(names), names)
    dims = inputs[0].type.tensor_type.shape.dim
    if len(dims) <= 1:
        return Signature(1)
    width = dims[-1].dim_value if dims[-1].HasField("dim_value") else 0
    return Signature(width) if len(dims) == 2 and width > 0 else None


def of_mlmodel(text: str, where: str) -> Signature | None:
    """The signature of an MLflow model from its `MLmodel` file (YAML whose `signature.inputs`
    is a JSON list): column names in order, or the width of a single tensor; None when the
    model was logged without a signature."""
    try:
        spec = yaml.safe_load(text)
    except yaml.YAMLError:
        raise InvalidInput("artifact", f"{where} is not valid YAML") from None
    signature = spec.get("signature") if isinstance(spec, dict) else None
    inputs = signature.get("inputs") if isinstance(signature, dict) else None
    if not inputs:
        return None
    try:
        columns = json.loads(inputs) if isinstance(inputs, str) else inputs
    except json.JSONDecodeError:
        columns = None
    if not isinstance(columns, list) or not all(isinstance(c, dict) for c in columns):
        raise InvalidInput("artifact", f"the signature inputs of {where} are not a JSON list")
    if any(column.get("type") == "tensor" for column in columns):
        return _of_tensors(columns)
    names = [column.get("name") for column in columns]
    if all(isinstance(name, str) for name in names):
        return Signature(len(names), tuple(names))
    return Signature(len(columns))


def _of_tensors(tensors: list[dict[str, Any]]) -> Signature | None:
    """A tensor signature: several tensors are named inputs; one takes its columns by position
    (None when its shape is not a stated width)."""
    if len(tensors) > 1:
        names = [tensor.get("name") for tensor in tensors]
        if all(isinstance(name, str) for name in names):
            return Signature(len(names), tuple(str(name) for name in names))
        return None
    shape = (tensors[0].get("tensor-spec") or {}).get("shape") or []
    if len(shape) == 1:
        return Signature(1)
    if len(shape) == 2 and isinstance(shape[1], int) and shape[1] > 0:
        return Signature(shape[1])
    return None


def of_xgboost(booster: Any) -> Signature:
    """The signature of a loaded XGBoost `Booster`: its `feature_names`, else its feature
    count, unnamed."""
    names = booster.feature_names
    if names:
        return Signature(len(names), tuple(str(name) for name in names))
    return Signature(int(booster.num_features()))


def of_lightgbm(booster: Any) -> Signature:
    """The signature of a loaded LightGBM `Booster`: its `feature_name()`, unless they are
    the names LightGBM gives unnamed columns (`Column_0`, `Column_1`, ...)."""
    names = tuple(str(name) for name in booster.feature_name())
    if names == tuple(f"Column_{index}" for index in range(len(names))):
        return Signature(len(names))
    return Signature(len(names), names)
