"""What moved: the bins or categories behind a drift check, and one readable line per check.

A drift measurement keeps, in `details["moved"]`, the (at most `MOVED_LIMIT`) bins or
categories whose share moved most, each with its reference and current share and rows and its
term of PSI (`contribution`, nats: (c − r)·ln(c / r) over shares, an empty share taken as the
PSI epsilon), largest first; the terms of every bin sum to the column's PSI. `what_moved`
turns a check (as `Check.to_dict` or a stored run gives it) into one line that names the
column, the value and what moved; the CLI, the HTTP run, alerts and incidents all print it.

Pure: no I/O.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from typing import Any

MOVED_LIMIT = 5
"""The bins or categories a measurement names: the ones that moved most."""

_DEFAULT_EPSILON = 1e-4


def bin_labels(edges: Sequence[float]) -> list[str]:
    """Labels of the right-closed bins (e[i-1], e[i]] of ascending inner `edges`, the first
    open below and the last open above; a bin one double wide reads `= x`."""
    if not edges:
        return ["all values"]
    labels = []
    bounds = [-math.inf, *edges, math.inf]
    for low, high in itertools.pairwise(bounds):
        if math.isfinite(low) and math.isfinite(high) and math.nextafter(high, -math.inf) == low:
            labels.append(f"= {high:.6g}")
        elif not math.isfinite(low):
            after = bounds[2] if len(bounds) > 2 else math.inf
            if math.isfinite(after) and math.nextafter(after, -math.inf) == high:
                labels.append(f"< {after:.6g}")
            else:
                labels.append(f"≤ {high:.6g}")
        elif not math.isfinite(high):
            labels.append(f"> {low:.6g}")
        else:
            labels.append(f"({low:.6g}, {high:.6g}]")
    return labels


def moved_bins(
    labels: Sequence[str],
    reference: Sequence[float],
    current: Sequence[float],
    *,
    epsilon: float = _DEFAULT_EPSILON,
    limit: int = MOVED_LIMIT,
) -> list[dict[str, Any]]:
    """The `limit` bins whose share moved most, by their term of PSI (nats), largest first:
    `{bin, reference_share, current_share, reference_rows, current_rows, contribution}`.
    Bins whose share did not move are left out; empty when either side has no row."""
    n, m = float(sum(reference)), float(sum(current))
    if n <= 0 or m <= 0:
        return []
    found: list[dict[str, Any]] = []
    for label, r_rows, c_rows in zip(labels, reference, current, strict=True):
        r, c = r_rows / n, c_rows / m
        term = (max(c, epsilon) - max(r, epsilon)) * math.log(max(c, epsilon) / max(r, epsilon))
        if term <= 0:
            continue
        found.append(
            {
                "bin": label,
                "reference_share": round(r, 6),
                "current_share": round(c, 6),
                "reference_rows": int(r_rows),
                "current_rows": int(c_rows),
                "contribution": float(f"{term:.6g}"),
            }
        )
    found.sort(key=lambda item: -float(item["contribution"]))
    return found[:limit]


def _share(value: Any) -> str:
    return f"{100 * float(value):.1f}%"


def _moved_text(moved: Sequence[Mapping[str, Any]], shown: int = 3) -> str:
    parts = [
        f"{item['bin']} {_share(item['reference_share'])} → {_share(item['current_share'])}"
        for item in moved[:shown]
    ]
    return "moved most: " + ", ".join(parts) if parts else ""


def _rows(check: Mapping[str, Any]) -> str:
    n, m = check.get("reference_rows"), check.get("current_rows")
    if n is None and m is None:
        return ""
    return f"{m if m is not None else '?'} current rows vs {n if n is not None else '?'} reference"


def _health_text(metric: str, details: Mapping[str, Any], check: Mapping[str, Any]) -> str:
    rows = check.get("current_rows")
    if metric in ("null_share", "null_share_rise") and "current_missing" in details:
        return (
            f"{details['current_missing']} of {rows} rows missing, reference "
            f"{_share(details.get('reference_null_share', 0.0))}"
        )
    if metric == "volume_ratio" and "expected_rows" in details:
        return f"{rows} rows against {float(details['expected_rows']):.0f} expected"
    if metric == "out_of_range_share":
        outside = details.get("outside_rows")
        span = f"reference range [{details.get('minimum')}, {details.get('maximum')}]"
        return f"{outside} values outside the {span}" if outside is not None else span
    if metric == "new_category_share" and "new_rows" in details:
        return f"{details['new_rows']} rows in categories the reference does not name"
    if metric == "vanished_category_share" and details.get("vanished_count"):
        return f"{details['vanished_count']} reference categories absent: {details['vanished']}"
    return ""


def check_name(check: Mapping[str, Any]) -> str:
    """`threshold[feature]@segment`: the feature only when the threshold does not name it."""
    threshold = str(check.get("threshold") or check.get("metric"))
    feature, segment = check.get("feature"), check.get("segment")
    name = threshold + (f"[{feature}]" if feature and f"[{feature}]" not in threshold else "")
    return name + (f"@{segment}" if segment else "")


FAILING = ("warning", "critical")
"""The levels whose checks say what moved."""


def findings(checks: Sequence[Mapping[str, Any]]) -> list[str]:
    """`what_moved` of every warning or critical check, critical first."""
    ordered = sorted(
        (c for c in checks if c.get("level") in FAILING), key=lambda c: c["level"] != "critical"
    )
    return [what_moved(check) for check in ordered]


def what_moved(check: Mapping[str, Any]) -> str:
    """One line naming the check, its level and value and what moved (bins or categories,
    health counts, the source and the rows on each side, the p-value when there is one)."""
    details: Mapping[str, Any] = check.get("details") or {}
    value = check.get("value")
    shown = "-" if value is None else f"{float(value):.4g}"
    head = f"{check_name(check)} {check.get('level')} at {shown}"
    metric = str(check.get("metric") or "")
    parts = []
    moved = details.get("moved")
    if isinstance(moved, list) and moved:
        parts.append(_moved_text(moved))
    parts.append(_health_text(metric, details, check))
    if details.get("new_categories"):
        parts.append(f"new: {details['new_categories']}")
    if details.get("series"):
        parts.append(str(details["series"]))
    if details.get("source"):
        parts.append(f"source {details['source']}")
    if not metric.startswith(("cusum:", "page_hinkley:")):
        parts.append(_rows(check))
    adjusted, pvalue = check.get("adjusted_pvalue"), check.get("pvalue")
    if adjusted is not None:
        parts.append(f"adjusted p {float(adjusted):.2g}")
    elif pvalue is not None:
        parts.append(f"p {float(pvalue):.2g}")
    said = "; ".join(part for part in parts if part)
    return f"{head}: {said}" if said else head
