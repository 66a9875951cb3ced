"""Evidence built from fixed experiment counts, as the learning loop's experiments will."""

from __future__ import annotations

import math

from scipy.stats import norm

from lucid.contracts.value import Arm, BusinessImpact, Evidence


def two_proportion_evidence(
    impact: BusinessImpact,
    treatment: str,
    successes: tuple[int, int],
    sizes: tuple[int, int],
    guardrails: dict[str, float] | None = None,
    alpha: float = 0.05,
    control: str = "churn@1",
) -> Evidence:
    """Evidence from fixed counts: a two-proportion z-test (pooled SE for p, unpooled for CI)."""
    (sc, st_), (nc, nt) = successes, sizes
    pc, pt = sc / nc, st_ / nt
    pooled = (sc + st_) / (nc + nt)
    z = (pt - pc) / math.sqrt(pooled * (1 - pooled) * (1 / nc + 1 / nt))
    p_value = float(2 * norm.sf(abs(z)))
    se = math.sqrt(pc * (1 - pc) / nc + pt * (1 - pt) / nt)
    margin = float(norm.ppf(1 - alpha / 2)) * se
    return Evidence(
        metric=impact.metric,
        control=Arm(control, nc, pc),
        treatment=Arm(treatment, nt, pt),
        effect=pt - pc,
        ci_low=pt - pc - margin,
        ci_high=pt - pc + margin,
        confidence=1 - alpha,
        p_value=p_value,
        alpha=alpha,
        source="experiment exp-42",
        guardrail_values=guardrails if guardrails is not None else {"compute_cost_per_day": 410},
    )
