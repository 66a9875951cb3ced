"""Evidence produced outside Lucid: a mapping a team writes (YAML, JSON, an HTTP body, a Python
dict) checked against the documented schema (`docs/evidence.md`), every problem at once.

The record that comes out is marked `origin: external`; a team may not set `origin`, `digest`
or `produced_at`, which Lucid sets for the evidence it produces itself.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from lucid.contracts.names import refuse_all, unknown_key_rule
from lucid.contracts.value.direction import Direction
from lucid.contracts.value.evidence import ARM_KEYS, EVIDENCE_REQUIRED, Arm, Evidence
from lucid.contracts.value.rule import PREDICTIVE_METRICS, EvidenceKind, Origin
from lucid.errors import InvalidInput

REQUIRED = ("kind", *EVIDENCE_REQUIRED, "test")
"""The fields an external record must give: those of any evidence, its kind and its test."""
OPTIONAL = ("direction", "design", "data", "guardrail_values")
SET_BY_LUCID = ("origin", "digest", "produced_at")


class _Problems:
    """The problems found so far, each a sentence naming its field."""

    def __init__(self) -> None:
        self.found: list[InvalidInput] = []

    def add(self, field: str, rule: str) -> None:
        self.found.append(InvalidInput(f"evidence.{field}", rule))


def read_external_evidence(raw: object) -> Evidence:
    """The evidence record `raw` describes, marked external; else one `InvalidInput` whose
    sentence names every problem (`evidence: 3 problems: evidence.p_value: …`)."""
    if not isinstance(raw, Mapping):
        raise InvalidInput("evidence", f"must be a mapping of fields, not {raw!r}")
    problems = _Problems()
    _keys(raw, problems)
    kind = _kind(raw.get("kind"), problems)
    metric = _metric(raw.get("metric"), kind, problems)
    direction = _direction(raw.get("direction"), kind, metric, problems)
    arms = {role: _arm(raw.get(role), role, problems) for role in ("control", "treatment")}
    numbers = {name: _number(raw.get(name), name, problems) for name in _NUMBERS}
    _ranges(numbers, problems)
    texts = {name: _text(raw.get(name), name, problems) for name in ("source", "test")}
    design = _json_mapping(raw.get("design"), "design", problems)
    data = _json_mapping(raw.get("data"), "data", problems)
    guardrails = _guardrails(raw.get("guardrail_values"), problems)
    refuse_all(problems.found, "evidence")
    assert kind is not None and metric is not None
    return Evidence(
        metric=metric,
        control=arms["control"],
        treatment=arms["treatment"],
        effect=numbers["effect"],
        ci_low=numbers["ci_low"],
        ci_high=numbers["ci_high"],
        confidence=numbers["confidence"],
        p_value=numbers["p_value"],
        alpha=numbers["alpha"],
        source=texts["source"],
        guardrail_values=guardrails,
        test=texts["test"],
        kind=kind,
        origin=Origin.EXTERNAL,
        direction=direction,
        design=design,
        data=data,
    )


_NUMBERS = ("effect", "ci_low", "ci_high", "confidence", "p_value", "alpha")


def _keys(raw: Mapping[Any, Any], problems: _Problems) -> None:
    known = set(REQUIRED) | set(OPTIONAL)
    for key in sorted((k for k in raw if k not in known), key=str):
        if key in SET_BY_LUCID:
            problems.add(str(key), "is set by Lucid, never by the record's author")
        else:
            problems.add(str(key), unknown_key_rule(str(key), known))
    for key in REQUIRED:
        if raw.get(key) is None:
            problems.add(key, "is required")


def _kind(value: object, problems: _Problems) -> EvidenceKind | None:
    if value is None:
        return None
    try:
        return EvidenceKind(str(value))
    except ValueError:
        kinds = ", ".join(k.value for k in EvidenceKind)
        problems.add("kind", f"must be one of {kinds}, not {value!r}")
        return None


def _metric(value: object, kind: EvidenceKind | None, problems: _Problems) -> str | None:
    if value is None:
        return None
    metric: str | None = _text(value, "metric", problems)
    if metric is not None and kind is EvidenceKind.PREDICTIVE and metric not in PREDICTIVE_METRICS:
        options = ", ".join(PREDICTIVE_METRICS)
        problems.add("metric", f"must be one of {options} for predictive evidence, not {metric!r}")
    return metric


def _direction(
    value: object, kind: EvidenceKind | None, metric: str | None, problems: _Problems
) -> Direction | None:
    """The stated direction; a predictive metric's own when none is stated."""
    natural = PREDICTIVE_METRICS.get(metric or "") if kind is EvidenceKind.PREDICTIVE else None
    if value is None:
        return natural
    try:
        direction = Direction(str(value))
    except ValueError:
        problems.add("direction", f"must be one of higher, lower, not {value!r}")
        return None
    if natural is not None and direction is not natural:
        problems.add("direction", f"{metric} is {natural.value}-is-better, not {direction.value}")
    return direction


def _arm(value: object, role: str, problems: _Problems) -> Arm:
    placeholder = Arm("?", 1, 0.0)
    if value is None:
        return placeholder
    if not isinstance(value, Mapping):
        problems.add(role, f"must be a mapping with name, sample_size, value, not {value!r}")
        return placeholder
    for key in sorted((k for k in value if k not in ARM_KEYS), key=str):
        problems.add(f"{role}.{key}", unknown_key_rule(str(key), ARM_KEYS))
    for key in ARM_KEYS:
        if value.get(key) is None:
            problems.add(f"{role}.{key}", "is required")
    name = _text(value.get("name"), f"{role}.name", problems) if "name" in value else None
    size = value.get("sample_size")
    if size is not None and (isinstance(size, bool) or not isinstance(size, int)):
        problems.add(f"{role}.sample_size", f"must be a whole number, not {size!r}")
        size = None
    elif isinstance(size, int) and size < 1:
        problems.add(f"{role}.sample_size", f"must be at least 1, not {size}")
        size = None
    measured = _number(value.get("value"), f"{role}.value", problems)
    if name is None or size is None or measured is None:
        return placeholder
    return Arm(name, size, measured)


def _number(value: object, field: str, problems: _Problems) -> Any:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        problems.add(field, f"must be a number, not {value!r}")
        return None
    if not math.isfinite(value):
        problems.add(field, f"must be a finite number, not {value}")
        return None
    return float(value)


def _ranges(numbers: Mapping[str, float | None], problems: _Problems) -> None:
    p, alpha, confidence = numbers["p_value"], numbers["alpha"], numbers["confidence"]
    if p is not None and not 0 <= p <= 1:
        problems.add("p_value", f"must be between 0 and 1, not {p:g}")
    if alpha is not None and not 0 < alpha < 1:
        problems.add("alpha", f"must be between 0 and 1 (exclusive), not {alpha:g}")
    if confidence is not None and not 0 < confidence < 1:
        problems.add("confidence", f"must be between 0 and 1 (exclusive), not {confidence:g}")
    effect, low, high = numbers["effect"], numbers["ci_low"], numbers["ci_high"]
    if effect is not None and low is not None and high is not None and not low <= effect <= high:
        problems.add(
            "effect", f"{effect:g} must lie inside its confidence interval [{low:g}, {high:g}]"
        )


def _text(value: object, field: str, problems: _Problems) -> Any:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        problems.add(field, f"must be non-empty text, not {value!r}")
        return None
    return value.strip()


def _json_mapping(value: object, field: str, problems: _Problems) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        problems.add(field, f"must be a mapping, not {value!r}")
        return {}
    found = {str(k): v for k, v in value.items()}
    try:
        json.dumps(found, allow_nan=False)
    except (TypeError, ValueError):
        problems.add(field, "must hold only text, finite numbers, lists and mappings")
        return {}
    return found


def _guardrails(value: object, problems: _Problems) -> dict[str, float]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        problems.add("guardrail_values", f"must map metric names to numbers, not {value!r}")
        return {}
    found: dict[str, float] = {}
    for metric, measured in value.items():
        number = _number(measured, f"guardrail_values.{metric}", problems)
        if number is not None:
            found[str(metric)] = number
    return found
