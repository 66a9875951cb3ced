"""Properties of the drift formulas and of grading, over generated inputs."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st
from scipy.spatial.distance import jensenshannon

from lucid.contracts.validity import Level, MonitoringPolicy
from lucid.monitoring import statistics

counts = st.lists(st.integers(min_value=0, max_value=10_000), min_size=2, max_size=30).filter(
    lambda c: sum(c) > 0
)


@given(st.data())
def test_psi_is_symmetric_non_negative_and_zero_on_equal_shares(data: st.DataObject) -> None:
    reference = data.draw(counts)
    current = data.draw(
        st.lists(
            st.integers(min_value=0, max_value=10_000),
            min_size=len(reference),
            max_size=len(reference),
        ).filter(lambda c: sum(c) > 0)
    )
    value = statistics.psi(reference, current)
    assert value >= 0
    assert math.isclose(value, statistics.psi(current, reference), rel_tol=1e-9, abs_tol=1e-12)
    assert statistics.psi(reference, [3 * c for c in reference]) == 0.0


@given(st.data())
def test_jensen_shannon_is_a_bounded_distance_equal_to_scipys(data: st.DataObject) -> None:
    reference = data.draw(counts)
    current = data.draw(
        st.lists(
            st.integers(min_value=0, max_value=10_000),
            min_size=len(reference),
            max_size=len(reference),
        ).filter(lambda c: sum(c) > 0)
    )
    value = statistics.jensen_shannon(reference, current)
    assert 0.0 <= value <= 1.0 + 1e-12
    assert math.isclose(value, jensenshannon(reference, current, base=2), abs_tol=1e-9)


@given(
    st.floats(min_value=0, max_value=10, allow_nan=False),
    st.floats(min_value=0, max_value=10, allow_nan=False),
)
def test_a_larger_drift_is_never_graded_less_severe(a: float, b: float) -> None:
    threshold = MonitoringPolicy.churn_default().thresholds[0]
    low, high = sorted((a, b))
    assert threshold.grade(low) <= threshold.grade(high)
    assert threshold.grade(high) is not Level.INSUFFICIENT_DATA
