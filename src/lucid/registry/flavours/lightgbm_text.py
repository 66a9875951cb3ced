"""A LightGBM text model checked before LightGBM parses it.

LightGBM parses a model's trees in parallel at the byte offsets its header states
(`tree_sizes`) and trusts them: a truncated or edited file makes it read past its text or
throw inside its parallel loop, which ends the process, and a tree whose node table points
outside itself or at a feature the model does not take reads outside memory when it predicts.
So Lucid checks, from the bytes: the header, that each tree starts where `tree_sizes` says and
that `end of trees` follows them, and each tree's node table — its arrays as long as its
leaves say, its children inside the table and after their parent (every walk ends), its
split features among the model's inputs, its categorical splits inside their bitsets.
"""

from __future__ import annotations

from dataclasses import dataclass

_REQUIRED = ("num_class", "num_tree_per_iteration", "label_index", "max_feature_idx", "tree_sizes")
_CATEGORICAL = 1
"""The bit of `decision_type` marking a categorical split."""


class MalformedModel(ValueError):
    """The text is not a well-formed LightGBM model (the message says where)."""


@dataclass(frozen=True, slots=True)
class ModelHeader:
    """What Lucid reads of a checked model: its objective (e.g. `binary`, `multiclass`,
    `regression`) and number of classes (1 for a binary model or a regressor)."""

    objective: str
    num_class: int


def check(data: bytes) -> ModelHeader:
    """The header of a well-formed LightGBM text model; MalformedModel otherwise."""
    if not data.startswith((b"tree\n", b"tree\r\n")):
        raise MalformedModel("it does not start as a LightGBM text model does ('tree')")
    start = data.find(b"\nTree=")
    if start < 0:
        raise MalformedModel("it holds no tree")
    start += 1
    header = _key_values(data[:start].decode("utf-8", errors="replace").splitlines()[1:])
    missing = [key for key in _REQUIRED if key not in header]
    if missing:
        raise MalformedModel(f"its header lacks {', '.join(missing)}")
    num_class = _int(header["num_class"], "num_class", low=1)
    if _int(header["num_tree_per_iteration"], "num_tree_per_iteration", low=1) != num_class:
        raise MalformedModel("its num_tree_per_iteration is not its num_class")
    features = _int(header["max_feature_idx"], "max_feature_idx", low=0) + 1
    sizes = [_int(size, "tree_sizes", low=1) for size in header["tree_sizes"].split()]
    offset = start
    for index, size in enumerate(sizes):
        chunk = data[offset : offset + size]
        if len(chunk) < size:
            raise MalformedModel(f"it ends inside tree {index} (the file is truncated)")
        _check_tree(chunk, index, features)
        offset += size
    if not data[offset:].startswith(b"end of trees"):
        raise MalformedModel("its trees are not followed by 'end of trees' (it is truncated)")
    objective = header.get("objective", "").split(" ")[0]
    return ModelHeader(objective, num_class)


def _key_values(lines: list[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for line in lines:
        if not line.strip():
            continue
        key, sep, value = line.partition("=")
        if not sep:
            raise MalformedModel(f"its line {line[:40]!r} is not key=value")
        found[key] = value
    return found


def _check_tree(chunk: bytes, index: int, features: int) -> None:
    text = chunk.decode("utf-8", errors="replace")
    body, blank, _ = text.replace("\r\n", "\n").partition("\n\n")
    if not blank or not body.startswith("Tree="):
        raise MalformedModel(f"tree {index} is not where tree_sizes puts it")
    where = f"tree {index}"
    values = _key_values(body.splitlines()[1:])
    if values.get("is_linear", "0").strip() not in ("", "0"):
        raise MalformedModel(f"{where} is a linear tree, which Lucid does not serve")
    leaves = _int(values.get("num_leaves", ""), f"{where} num_leaves", low=1)
    _numbers(values, "leaf_value", leaves, where)
    if leaves == 1:
        return
    nodes = leaves - 1
    for key in ("threshold", "split_gain", "internal_value", "internal_weight", "internal_count"):
        if key in values or key == "threshold":
            _numbers(values, key, nodes, where)
    for key in ("leaf_weight", "leaf_count"):
        if key in values:
            _numbers(values, key, leaves, where)
    left, right = (
        _ints(values, "left_child", nodes, where),
        _ints(values, "right_child", nodes, where),
    )
    for node, children in enumerate(zip(left, right, strict=True)):
        for child in children:
            if not (node < child < nodes or 0 <= ~child < leaves):
                raise MalformedModel(f"{where} node {node} points outside its table")
    if any(not 0 <= feature < features for feature in _ints(values, "split_feature", nodes, where)):
        raise MalformedModel(f"{where} splits on a feature the model does not take")
    _check_categories(values, _ints(values, "decision_type", nodes, where), where)


def _check_categories(values: dict[str, str], decisions: list[int], where: str) -> None:
    categories = _int(values.get("num_cat", ""), f"{where} num_cat", low=0)
    splits = [index for index, kind in enumerate(decisions) if kind & _CATEGORICAL]
    if not categories:
        if splits:
            raise MalformedModel(f"{where} has categorical splits but no num_cat")
        return
    bounds = _ints(values, "cat_boundaries", categories + 1, where)
    bits = len(values.get("cat_threshold", "").split())
    if bounds[0] != 0 or bounds != sorted(bounds) or bounds[-1] != bits:
        raise MalformedModel(f"{where} has categorical bitsets outside their table")
    thresholds = _numbers(values, "threshold", len(decisions), where)
    for node in splits:
        if not (thresholds[node].is_integer() and 0 <= thresholds[node] < categories):
            raise MalformedModel(f"{where} node {node} names a categorical bitset it lacks")


def _numbers(values: dict[str, str], key: str, count: int, where: str) -> list[float]:
    parts = values.get(key, "").split()
    if len(parts) != count:
        raise MalformedModel(f"{where} {key} holds {len(parts)} values, not {count}")
    try:
        return [float(part) for part in parts]
    except ValueError:
        raise MalformedModel(f"{where} {key} holds a value that is not a number") from None


def _ints(values: dict[str, str], key: str, count: int, where: str) -> list[int]:
    return [_int(part, f"{where} {key}") for part in _strings(values, key, count, where)]


def _strings(values: dict[str, str], key: str, count: int, where: str) -> list[str]:
    parts = values.get(key, "").split()
    if len(parts) != count:
        raise MalformedModel(f"{where} {key} holds {len(parts)} values, not {count}")
    return parts


def _int(text: str, what: str, low: int | None = None) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        raise MalformedModel(f"its {what} is not a whole number") from None
    if low is not None and value < low:
        raise MalformedModel(f"its {what} is below {low}")
    return value
