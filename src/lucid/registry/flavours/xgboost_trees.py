"""An XGBoost model's trees checked before it predicts.

XGBoost reads a model file with a careful parser but keeps the node tables it states as they
are, and walks them at prediction without bounds checks: an edited table (a child outside the
tree, a split on a feature the model does not take, a tree writing to a class the model lacks)
makes `predict` read outside memory and end the process. So Lucid checks the model XGBoost
loaded, from its JSON form (`Booster.save_raw("json")`): each tree's arrays as long as its
nodes, every node but the root the child of exactly one node (so every walk ends), its split
features among the model's inputs, its categorical splits inside their table, and each tree's
output group among the model's outputs; a linear booster's weights as many as its inputs and
outputs say.
"""

from __future__ import annotations

import json
from typing import Any

_PER_NODE = (
    "left_children",
    "right_children",
    "parents",
    "split_indices",
    "split_conditions",
    "default_left",
    "base_weights",
)
_CATEGORICAL = 1
"""XGBoost's `split_type` of a categorical split."""


class MalformedTrees(ValueError):
    """The model's trees are not well formed (the message says where)."""


def check_trees(booster: Any) -> None:
    """Refuse (MalformedTrees) a loaded XGBoost booster whose trees are not well formed."""
    try:
        learner = json.loads(bytes(booster.save_raw("json")))["learner"]
        parameters = learner["learner_model_param"]
        features = int(parameters["num_feature"])
        outputs = max(int(parameters["num_class"]), int(parameters.get("num_target", 1)), 1)
        booster_model = learner["gradient_booster"]
    except (KeyError, TypeError, ValueError) as error:
        raise MalformedTrees(f"its learner is not as XGBoost writes it ({error})") from None
    name = booster_model.get("name")
    if name == "gblinear":
        weights = booster_model.get("model", {}).get("weights", [])
        if len(weights) != (features + 1) * outputs:
            raise MalformedTrees("its linear weights are not one per input and output")
        return
    model = booster_model.get("gbtree", booster_model).get("model")  # dart nests its gbtree
    if name not in ("gbtree", "dart") or not isinstance(model, dict):
        raise MalformedTrees(f"its booster {name!r} is not gbtree, dart or gblinear")
    trees, groups = model.get("trees", []), model.get("tree_info", [])
    if len(groups) != len(trees) or any(not 0 <= group < outputs for group in groups):
        raise MalformedTrees("its trees write to outputs the model does not have")
    for index, tree in enumerate(trees):
        _check_tree(tree, f"tree {index}", features)


def _check_tree(tree: dict[str, Any], where: str, features: int) -> None:
    try:
        nodes = int(tree["tree_param"]["num_nodes"])
        leaf_size = int(tree["tree_param"].get("size_leaf_vector", 1))
    except (KeyError, TypeError, ValueError):
        raise MalformedTrees(f"{where} states no node count") from None
    if nodes < 1 or leaf_size > 1:
        raise MalformedTrees(f"{where} is empty or a multi-output tree, which Lucid does not check")
    for key in _PER_NODE:
        if len(tree.get(key, ())) != nodes:
            raise MalformedTrees(f"{where} {key} is not one value per node")
    left, right = tree["left_children"], tree["right_children"]
    parent_of: dict[int, int] = {}
    for node in range(nodes):
        children = (left[node], right[node])
        if children == (-1, -1):
            continue
        for child in children:
            if not isinstance(child, int) or not 0 < child < nodes or child in parent_of:
                raise MalformedTrees(f"{where} node {node} points outside its table")
            parent_of[child] = node
        if not 0 <= tree["split_indices"][node] < features:
            raise MalformedTrees(f"{where} splits on a feature the model does not take")
    if any(tree["parents"][child] != node for child, node in parent_of.items()):
        raise MalformedTrees(f"{where} names parents its children do not have")
    _check_categories(tree, where, nodes)


def _check_categories(tree: dict[str, Any], where: str, nodes: int) -> None:
    kinds = tree.get("split_type", [0] * nodes)
    categorical = {node for node in range(nodes) if kinds[node] == _CATEGORICAL}
    listed = tree.get("categories_nodes", [])
    segments, sizes = tree.get("categories_segments", []), tree.get("categories_sizes", [])
    values = tree.get("categories", [])
    if len(kinds) != nodes or set(listed) != categorical or len(listed) != len(categorical):
        raise MalformedTrees(f"{where} lists categorical splits it does not make")
    if len(segments) != len(listed) or len(sizes) != len(listed):
        raise MalformedTrees(f"{where} has categorical splits outside their table")
    for start, size in zip(segments, sizes, strict=True):
        if min(start, size) < 0 or start + size > len(values):
            raise MalformedTrees(f"{where} has categorical splits outside their table")
