"""What moved: bin labels, the bins that moved most (their terms sum to PSI) and the one line
a failing check is shown with, for drift and health checks."""

from __future__ import annotations

import math

import pytest

from lucid.contracts.validity.diagnostics import bin_labels, findings, moved_bins, what_moved
from lucid.monitoring.statistics import PSI_EPSILON, psi


def test_bins_are_labelled_right_closed_and_a_constant_reads_below_equal_above() -> None:
    assert bin_labels([1.5, 3.0]) == ["≤ 1.5", "(1.5, 3]", "> 3"]
    constant = [math.nextafter(5.0, -math.inf), 5.0]
    assert bin_labels(constant) == ["< 5", "= 5", "> 5"]
    assert bin_labels([]) == ["all values"]


def test_the_moved_bins_are_the_largest_terms_of_psi() -> None:
    reference, current = [100, 100, 100, 100, 0, 100, 100], [40, 90, 100, 180, 30, 100, 60]
    labels = [f"b{i}" for i in range(7)]
    every = moved_bins(labels, reference, current, epsilon=PSI_EPSILON, limit=7)
    assert sum(b["contribution"] for b in every) == pytest.approx(psi(reference, current), rel=1e-5)
    assert "b2" not in [b["bin"] for b in every] and "b5" not in [b["bin"] for b in every]
    top = moved_bins(labels, reference, current, epsilon=PSI_EPSILON)
    assert len(top) == 5
    assert [b["contribution"] for b in top] == sorted(
        (b["contribution"] for b in top), reverse=True
    )
    assert top[0]["bin"] == "b4" and top[0]["reference_rows"] == 0 and top[0]["current_rows"] == 30
    assert moved_bins(labels, [0] * 7, current) == []


def test_one_line_names_the_check_what_moved_and_the_rows() -> None:
    check = {
        "threshold": "psi",
        "metric": "psi",
        "feature": "tenure",
        "level": "critical",
        "value": 0.35,
        "reference_rows": 5000,
        "current_rows": 2000,
        "pvalue": 1e-9,
        "adjusted_pvalue": 2e-8,
        "details": {
            "moved": [
                {
                    "bin": "> 42.6",
                    "reference_share": 0.1,
                    "current_share": 0.258,
                    "contribution": 0.15,
                },
            ]
        },
    }
    assert what_moved(check) == (
        "psi[tenure] critical at 0.35: moved most: > 42.6 10.0% → 25.8%; "
        "2000 current rows vs 5000 reference; adjusted p 2e-08"
    )
    health = {
        "threshold": "null_share_rise[plan]",
        "metric": "null_share_rise",
        "feature": "plan",
        "level": "warning",
        "value": 0.3,
        "reference_rows": 4000,
        "current_rows": 1000,
        "details": {"reference_null_share": 0.0, "current_missing": 300},
    }
    assert what_moved(health).startswith(
        "null_share_rise[plan] warning at 0.3: 300 of 1000 rows missing, reference 0.0%"
    )
    ok = {**health, "level": "ok"}
    assert findings([health, ok, check]) == [what_moved(check), what_moved(health)]
