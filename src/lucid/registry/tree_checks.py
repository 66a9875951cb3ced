"""Tree models checked before they predict: skops checks the types a file names, not its values.

scikit-learn walks a tree's node table by the indices stored in it, without bounds checks
(skops distrusts `sklearn.tree._tree.Tree` and HistGradientBoosting's `TreePredictor` by
default for that reason). A crafted table could make `predict` read outside memory or loop
forever. Every tree reachable from a loaded model is checked here: at most `capacity` nodes;
each node a leaf or a split whose children come after it (so every walk ends) and lie inside
the table; each split's feature one of the model's inputs; a categorical split's bitset inside
its table.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

_LEAF = -1
"""scikit-learn's child index of a leaf (`TREE_LEAF`)."""


class MalformedTree(ValueError):
    """A tree's node table points outside itself, backwards, or at a feature the model does not
    take."""


def check_trees(model: Any) -> None:
    """Refuse (MalformedTree) a model holding a tree whose node table is not well formed."""
    from sklearn.ensemble._hist_gradient_boosting.predictor import TreePredictor
    from sklearn.tree._tree import Tree

    for found, inputs in _reachable(model):
        if isinstance(found, Tree):
            _check_tree(found)
        elif isinstance(found, TreePredictor):
            _check_predictor(found, inputs)


def _reachable(model: Any) -> Iterator[tuple[Any, int | None]]:
    """Every object reachable from `model` through attributes, containers and object arrays,
    with the input count (`n_features_in_`) of the nearest estimator holding it."""
    seen: set[int] = set()
    stack: list[tuple[Any, int | None]] = [(model, None)]
    while stack:
        found, inputs = stack.pop()
        if id(found) in seen or isinstance(found, str | bytes | int | float | bool | None):
            continue
        seen.add(id(found))
        yield found, inputs
        count = getattr(found, "__dict__", {}).get("n_features_in_")
        if isinstance(count, int | np.integer):
            inputs = int(count)
        if isinstance(found, list | tuple | set | frozenset):
            stack.extend((item, inputs) for item in found)
        elif isinstance(found, dict):
            stack.extend((item, inputs) for item in found.values())
        elif isinstance(found, np.ndarray):
            if found.dtype == object:
                stack.extend((item, inputs) for item in found.ravel())
        elif hasattr(found, "__dict__"):
            stack.extend((item, inputs) for item in vars(found).values())


def _check_tree(tree: Any) -> None:
    count = int(tree.node_count)
    if not 0 < count <= int(tree.capacity):
        raise MalformedTree(f"a tree claims {count} nodes in a table of {tree.capacity}")
    left, right, feature = tree.children_left, tree.children_right, tree.feature
    _check_nodes(left == _LEAF, left, right, feature, count, int(tree.n_features))
    leaves = (left == _LEAF) != (right == _LEAF)
    if leaves.any():
        raise MalformedTree(f"node {int(np.argmax(leaves))} of a tree has one child")


def _check_predictor(predictor: Any, inputs: int | None) -> None:
    from sklearn.ensemble._hist_gradient_boosting.common import PREDICTOR_RECORD_DTYPE

    nodes = predictor.nodes
    if not isinstance(nodes, np.ndarray) or nodes.dtype != PREDICTOR_RECORD_DTYPE:
        raise MalformedTree("a gradient-boosting tree's node table has an unexpected layout")
    if inputs is None or nodes.ndim != 1 or len(nodes) == 0:
        raise MalformedTree("a gradient-boosting tree is held by no model that states its inputs")
    leaf = nodes["is_leaf"] != 0
    left = nodes["left"].astype(np.int64)
    right = nodes["right"].astype(np.int64)
    _check_nodes(leaf, left, right, nodes["feature_idx"], len(nodes), inputs)
    categorical = ~leaf & (nodes["is_categorical"] != 0)
    bitsets = len(predictor.raw_left_cat_bitsets)
    if (nodes["bitset_idx"][categorical] >= bitsets).any():
        raise MalformedTree("a categorical split of a gradient-boosting tree has no bitset")


def _check_nodes(leaf: Any, left: Any, right: Any, feature: Any, count: int, features: int) -> None:
    """Each split's children come after it inside the table; its feature is an input."""
    index = np.arange(count)
    split = ~leaf
    inside = (left > index) & (left < count) & (right > index) & (right < count)
    known = (feature >= 0) & (feature < features)
    wrong = split & ~(inside & known)
    if wrong.any():
        raise MalformedTree(
            f"node {int(np.argmax(wrong))} of a tree points outside its table or its inputs"
        )
