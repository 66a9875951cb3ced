"""The rules of A/B experiments: assignment, the two-proportion test, peeking, SRM, sample size.

An experiment compares the production version (control) with a challenger on the contract's
business metric, measured per entity as a binary outcome (1 = success, e.g. retained). Each
entity's arm is fixed by a hash of the experiment's salt and the entity id, so every process
and every serving replica agrees without storing an assignment table.

Two analyses, chosen when the experiment is designed:
- *fixed horizon* (default): the two-proportion z-test (pooled standard error for the p-value,
  unpooled Wald interval for the difference), valid once, when both arms reached the minimum
  sample computed for the stated minimum detectable effect (power 0.8, alpha 0.05 by default);
- *sequential*: the mixture sequential probability ratio test (mSPRT) with a normal mixing
  distribution over the difference of proportions, N(0, tau²) with tau = the minimum detectable
  effect, on the normal approximation of the difference. Its p-value min(1, 1/Lambda) and
  confidence interval are *always valid* (Ville's inequality): looking after every batch and
  stopping as soon as p ≤ alpha keeps the type-I error ≤ alpha. Reference: Johari, Koomen,
  Pekelis, Walsh, "Peeking at A/B Tests: Why it matters, and what to do about it", KDD 2017,
  and "Always Valid Inference", Operations Research 70(3), 2022.

A sample-ratio mismatch (chi-square test of the observed arm sizes against the designed
split, p < 0.001 by default) means the assignment or the logging is broken: the result is
invalid whatever its p-value. A concluded experiment becomes the registry's `Evidence`.

Pure: no I/O. statsmodels and scipy are imported inside the functions that use them, so that
merely reading the event types here stays cheap.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from lucid.contracts.events import DomainEvent, Subject, event_type
from lucid.contracts.value import Arm, Direction, Evidence, Guardrail, GuardrailResult, finite
from lucid.errors import InvalidInput

CONTROL = "control"
CHALLENGER = "challenger"
ARMS = (CONTROL, CHALLENGER)
DEFAULT_CHALLENGER_SHARE = 0.10
DEFAULT_SRM_THRESHOLD = 0.001
EXPERIMENT_ID = re.compile(r"^[a-z][a-z0-9_-]{0,99}$")
_HASH_SCALE = float(2**64)


def experiment_subject(experiment_id: str) -> Subject:
    """The subject of every event about the experiment `experiment_id`."""
    return Subject("experiment", experiment_id)


def validate_experiment_id(experiment_id: str) -> str:
    if not isinstance(experiment_id, str) or not EXPERIMENT_ID.match(experiment_id):
        raise InvalidInput(
            "experiment",
            f"{experiment_id!r} must be 1-100 lower-case letters, digits, '_' or '-', starting "
            "with a letter (e.g. churn-v3-ab)",
        )
    return experiment_id


def check_share(share: float, field: str = "challenger_share") -> float:
    """A traffic share strictly between 0 and 1."""
    value = finite(share, field)
    if not 0 < value < 1:
        raise InvalidInput(field, f"must lie strictly between 0 and 1, not {value:g}")
    return value


def bucket(entity_id: str, salt: str) -> float:
    """The entity's position in [0, 1): the first 8 bytes of SHA-256(salt ':' entity_id)."""
    digest = hashlib.sha256(f"{salt}:{entity_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / _HASH_SCALE


def assign(entity_id: str, salt: str, challenger_share: float = DEFAULT_CHALLENGER_SHARE) -> str:
    """`challenger` for the entities whose bucket falls under the share, else `control`.

    Deterministic across processes, machines and Python hash seeds (SHA-256, not `hash`).
    """
    if not isinstance(entity_id, str) or not entity_id:
        raise InvalidInput("entity_id", f"must be non-empty text, not {entity_id!r}")
    if not isinstance(salt, str) or not salt:
        raise InvalidInput("salt", f"must be non-empty text, not {salt!r}")
    share = check_share(challenger_share)
    return CHALLENGER if bucket(entity_id, salt) < share else CONTROL


@dataclass(frozen=True, slots=True)
class SampleSize:
    """The minimum number of entities with an outcome each arm needs (whole entities)."""

    control: int
    challenger: int

    def to_dict(self) -> dict[str, int]:
        return {CONTROL: self.control, CHALLENGER: self.challenger}


def minimum_sample_size(
    baseline: float,
    minimum_detectable_effect: float,
    *,
    challenger_share: float = DEFAULT_CHALLENGER_SHARE,
    alpha: float = 0.05,
    power: float = 0.8,
) -> SampleSize:
    """Entities per arm to detect a change of the success rate from `baseline` by
    `minimum_detectable_effect` (absolute, in rate units, either sign) with a two-sided
    test at `alpha` and the given `power`, for the designed split (Cohen's h, normal power).
    """
    rate = finite(baseline, "baseline")
    if not 0 < rate < 1:
        raise InvalidInput(
            "baseline", f"must be a success rate strictly between 0 and 1, not {rate}"
        )
    effect = finite(minimum_detectable_effect, "minimum_detectable_effect")
    if effect == 0 or not 0 < rate + effect < 1:
        raise InvalidInput(
            "minimum_detectable_effect",
            f"must be non-zero and keep baseline + effect inside (0, 1), not {effect:g}",
        )
    share = check_share(challenger_share)
    alpha = check_share(finite(alpha, "alpha"), "alpha")
    power = check_share(finite(power, "power"), "power")
    from statsmodels.stats.power import NormalIndPower
    from statsmodels.stats.proportion import proportion_effectsize

    h = abs(float(proportion_effectsize(rate + effect, rate)))
    ratio = (1 - share) / share  # control entities per challenger entity
    challenger = float(
        NormalIndPower().solve_power(
            effect_size=h, alpha=alpha, power=power, ratio=ratio, alternative="two-sided"
        )
    )
    return SampleSize(control=math.ceil(challenger * ratio), challenger=math.ceil(challenger))


@dataclass(frozen=True, slots=True)
class ArmCounts:
    """One arm's counts: entities exposed, entities with an outcome, successes among them."""

    exposed: int
    measured: int
    successes: int

    def __post_init__(self) -> None:
        if not 0 <= self.successes <= self.measured <= self.exposed:
            raise InvalidInput(
                "counts",
                f"need 0 ≤ successes ≤ measured ≤ exposed, not {self.successes}, "
                f"{self.measured}, {self.exposed}",
            )

    @property
    def rate(self) -> float | None:
        return self.successes / self.measured if self.measured else None


@dataclass(frozen=True, slots=True)
class ProportionTest:
    """Challenger rate minus control rate (`effect`), its interval and two-sided p-value."""

    effect: float
    ci_low: float
    ci_high: float
    p_value: float
    statistic: float
    method: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "effect": self.effect,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "p_value": self.p_value,
            "statistic": self.statistic,
            "method": self.method,
        }


def _rates(control: ArmCounts, challenger: ArmCounts) -> tuple[float, float]:
    for name, arm in ((CONTROL, control), (CHALLENGER, challenger)):
        if arm.measured < 1:
            raise InvalidInput(f"counts.{name}", "needs at least one entity with an outcome")
    return control.successes / control.measured, challenger.successes / challenger.measured


def two_proportion_test(
    control: ArmCounts, challenger: ArmCounts, alpha: float = 0.05
) -> ProportionTest:
    """Fixed-horizon z-test (statsmodels): pooled SE for p, Wald interval at 1 - alpha."""
    pc, pt = _rates(control, challenger)
    from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

    counts = [challenger.successes, control.successes]
    sizes = [challenger.measured, control.measured]
    if pc == pt and pc in (0.0, 1.0):  # no variance at all: nothing distinguishes the arms
        z, p = 0.0, 1.0
    else:
        z_raw, p_raw = proportions_ztest(counts, sizes, alternative="two-sided")
        z, p = float(z_raw), float(p_raw)
    low, high = confint_proportions_2indep(
        challenger.successes,
        challenger.measured,
        control.successes,
        control.measured,
        method="wald",
        compare="diff",
        alpha=alpha,
    )
    effect = pt - pc
    return ProportionTest(
        effect,
        min(float(low), effect),
        max(float(high), effect),
        min(max(p, 0.0), 1.0),
        z,
        "two-proportion z-test",
    )


def always_valid_test(
    control: ArmCounts, challenger: ArmCounts, *, tau: float, alpha: float = 0.05
) -> ProportionTest:
    """mSPRT with a N(0, tau²) mixture over the difference (see the module docstring).

    `statistic` is the mixture likelihood ratio Lambda; p = min(1, 1/Lambda) and the interval
    are valid at any look, however often one peeks.
    """
    pc, pt = _rates(control, challenger)
    tau = finite(tau, "tau")
    if tau <= 0:
        raise InvalidInput("tau", f"must be positive, not {tau:g}")
    # A degenerate arm (0 % or 100 %) has no sampling variance; a half success keeps V > 0.
    vc = max(pc * (1 - pc), 0.25 / control.measured) / control.measured
    vt = max(pt * (1 - pt), 0.25 / challenger.measured) / challenger.measured
    variance, mixing = vc + vt, tau * tau
    effect = pt - pc
    log_lambda = 0.5 * math.log(variance / (variance + mixing)) + effect * effect * mixing / (
        2 * variance * (variance + mixing)
    )
    p_value = 1.0 if log_lambda <= 0 else min(1.0, math.exp(-log_lambda))
    half_width = math.sqrt(
        2
        * variance
        * (variance + mixing)
        / mixing
        * (math.log(1 / alpha) + 0.5 * math.log((variance + mixing) / variance))
    )
    return ProportionTest(
        effect,
        effect - half_width,
        effect + half_width,
        p_value,
        math.exp(min(log_lambda, 700.0)),
        "mSPRT always-valid (normal mixture)",
    )


@dataclass(frozen=True, slots=True)
class RatioCheck:
    """The sample-ratio-mismatch check: chi-square of arm sizes against the designed split."""

    control: int
    challenger: int
    expected_share: float
    statistic: float
    p_value: float
    threshold: float

    @property
    def mismatch(self) -> bool:
        return self.p_value < self.threshold

    def to_dict(self) -> dict[str, Any]:
        return {
            "control": self.control,
            "challenger": self.challenger,
            "expected_challenger_share": self.expected_share,
            "observed_challenger_share": self.challenger / (self.control + self.challenger)
            if self.control + self.challenger
            else None,
            "chi_square": self.statistic,
            "p_value": self.p_value,
            "threshold": self.threshold,
            "mismatch": self.mismatch,
        }


def sample_ratio_check(
    control: int,
    challenger: int,
    challenger_share: float,
    threshold: float = DEFAULT_SRM_THRESHOLD,
) -> RatioCheck:
    """Pearson's chi-square (1 degree of freedom) of the observed arm sizes (scipy)."""
    share = check_share(challenger_share)
    limit = check_share(threshold, "srm_threshold")
    total = control + challenger
    if total == 0:
        return RatioCheck(control, challenger, share, 0.0, 1.0, limit)
    from scipy.stats import chisquare

    result = chisquare([control, challenger], [total * (1 - share), total * share])
    return RatioCheck(
        control, challenger, share, float(result.statistic), float(result.pvalue), limit
    )


def guardrail_results(
    guardrails: Sequence[Guardrail], challenger_values: Mapping[str, float]
) -> list[GuardrailResult]:
    """Each guardrail judged on the challenger's measured mean; unmeasured does not hold."""
    return [GuardrailResult(g, challenger_values.get(g.metric)) for g in guardrails]


class Decision(StrEnum):
    """Where an experiment stands after an analysis."""

    COLLECTING = "collecting"
    """Not enough sample yet and the sequential test (if any) has not decided."""
    INVALID = "invalid"
    """Sample-ratio mismatch: the assignment or the logging is broken."""
    CHALLENGER_BETTER = "challenger_better"
    GUARDRAIL_BROKEN = "guardrail_broken"
    """The challenger is better on the metric but breaks (or never measured) a guardrail."""
    CONTROL_BETTER = "control_better"
    NO_DIFFERENCE = "no_difference"


@dataclass(frozen=True, slots=True)
class Design:
    """What an experiment tests and how it will decide.

    `minimum_detectable_effect` is an absolute change of the success rate (e.g. 0.02 for two
    points); `baseline_rate` the control's expected success rate; `srm_threshold` the p-value
    under which a sample-ratio mismatch invalidates the result.
    """

    experiment_id: str
    model: str
    control_version: int
    challenger_version: int
    metric: str
    direction: Direction
    guardrails: tuple[Guardrail, ...]
    salt: str
    challenger_share: float
    baseline_rate: float
    minimum_detectable_effect: float
    alpha: float = 0.05
    power: float = 0.8
    sequential: bool = False
    srm_threshold: float = DEFAULT_SRM_THRESHOLD

    def __post_init__(self) -> None:
        validate_experiment_id(self.experiment_id)
        if self.control_version == self.challenger_version:
            raise InvalidInput("challenger", "must be another version than the control")
        if not isinstance(self.salt, str) or not self.salt.strip():
            raise InvalidInput("salt", "must be non-empty text")
        object.__setattr__(self, "direction", Direction(self.direction))
        check_share(self.challenger_share)
        check_share(self.srm_threshold, "srm_threshold")
        check_share(self.alpha, "alpha")
        check_share(self.power, "power")
        self.minimum_sample()  # checks baseline_rate and minimum_detectable_effect

    @property
    def control_label(self) -> str:
        return f"{self.model}@{self.control_version}"

    @property
    def challenger_label(self) -> str:
        return f"{self.model}@{self.challenger_version}"

    def version_of(self, arm: str) -> int:
        return self.challenger_version if arm == CHALLENGER else self.control_version

    def minimum_sample(self) -> SampleSize:
        return minimum_sample_size(
            self.baseline_rate,
            self.minimum_detectable_effect,
            challenger_share=self.challenger_share,
            alpha=self.alpha,
            power=self.power,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "experiment_id": self.experiment_id,
            "model": self.model,
            "control_version": self.control_version,
            "challenger_version": self.challenger_version,
            "metric": self.metric,
            "direction": self.direction.value,
            "guardrails": [g.to_dict() for g in self.guardrails],
            "salt": self.salt,
            "challenger_share": self.challenger_share,
            "baseline_rate": self.baseline_rate,
            "minimum_detectable_effect": self.minimum_detectable_effect,
            "alpha": self.alpha,
            "power": self.power,
            "sequential": self.sequential,
            "srm_threshold": self.srm_threshold,
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Design:
        fields = dict(raw)
        fields["guardrails"] = tuple(Guardrail.from_mapping(g) for g in raw["guardrails"])
        fields["direction"] = Direction(raw["direction"])
        return cls(**fields)


@dataclass(frozen=True, slots=True)
class Analysis:
    """An experiment's state at one look: SRM check, test, guardrails, the decision."""

    design: Design
    control: ArmCounts
    challenger: ArmCounts
    minimum: SampleSize
    ratio: RatioCheck
    test: ProportionTest | None
    guardrails: tuple[GuardrailResult, ...]
    challenger_guardrail_values: Mapping[str, float]
    decision: Decision
    reason: str

    @property
    def minimum_reached(self) -> bool:
        return (
            self.control.measured >= self.minimum.control
            and self.challenger.measured >= self.minimum.challenger
        )

    @property
    def can_conclude(self) -> bool:
        return self.decision not in (Decision.COLLECTING, Decision.INVALID)

    def to_dict(self) -> dict[str, Any]:
        def arm(counts: ArmCounts) -> dict[str, Any]:
            return {
                "exposed": counts.exposed,
                "measured": counts.measured,
                "successes": counts.successes,
                "rate": counts.rate,
            }

        return {
            "experiment": self.design.experiment_id,
            "control": {"version": self.design.control_label, **arm(self.control)},
            "challenger": {"version": self.design.challenger_label, **arm(self.challenger)},
            "minimum_sample": self.minimum.to_dict(),
            "minimum_reached": self.minimum_reached,
            "sample_ratio": self.ratio.to_dict(),
            "test": self.test.to_dict() if self.test else None,
            "guardrails": [result.to_dict() for result in self.guardrails],
            "decision": self.decision.value,
            "reason": self.reason,
            "can_conclude": self.can_conclude,
        }


def analyse(
    design: Design,
    control: ArmCounts,
    challenger: ArmCounts,
    challenger_guardrail_values: Mapping[str, float] | None = None,
) -> Analysis:
    """Judge an experiment at this look.

    Rule: an SRM invalidates; a fixed-horizon design decides only once both arms reached the
    minimum sample; a sequential design decides as soon as its always-valid p ≤ alpha, or at
    the minimum sample (then with "no difference" when p > alpha). A challenger better on the
    metric with a guardrail broken or unmeasured (its mean over the challenger's entities)
    is `guardrail_broken`: concluded, but its evidence will not pass the gate.
    """
    values = dict(challenger_guardrail_values or {})
    minimum = design.minimum_sample()
    ratio = sample_ratio_check(
        control.exposed, challenger.exposed, design.challenger_share, design.srm_threshold
    )
    guards = tuple(guardrail_results(design.guardrails, values))
    test: ProportionTest | None = None
    if control.measured and challenger.measured:
        test = (
            always_valid_test(
                control, challenger, tau=abs(design.minimum_detectable_effect), alpha=design.alpha
            )
            if design.sequential
            else two_proportion_test(control, challenger, design.alpha)
        )
    reached = control.measured >= minimum.control and challenger.measured >= minimum.challenger

    def finish(decision: Decision, reason: str) -> Analysis:
        return Analysis(
            design, control, challenger, minimum, ratio, test, guards, values, decision, reason
        )

    if ratio.mismatch:
        return finish(
            Decision.INVALID,
            f"sample-ratio mismatch: {challenger.exposed} challenger and {control.exposed} "
            f"control exposures for a designed share of {design.challenger_share:g} "
            f"(chi-square p = {ratio.p_value:.3g} < {ratio.threshold:g}); the result is invalid",
        )
    significant = test is not None and test.p_value <= design.alpha
    if not reached and not (design.sequential and significant):
        rule = (
            "and the sequential test has not decided yet"
            if design.sequential
            else "(fixed-horizon test: no conclusion before it)"
        )
        return finish(
            Decision.COLLECTING,
            f"{control.measured}/{minimum.control} control and {challenger.measured}/"
            f"{minimum.challenger} challenger entities measured {rule}",
        )
    assert test is not None
    if not significant:
        return finish(
            Decision.NO_DIFFERENCE,
            f"p = {test.p_value:.4g} > alpha {design.alpha:g}: no significant difference",
        )
    better = design.direction.better(test.effect, 0.0)
    failing = [result for result in guards if not result.held]
    if better and failing:
        listed = ", ".join(
            result.guardrail.describe()
            + (" unmeasured" if result.value is None else f" broken ({result.value:g})")
            for result in failing
        )
        return finish(
            Decision.GUARDRAIL_BROKEN,
            f"effect {test.effect:+.4g} (p = {test.p_value:.4g}) favours the challenger but "
            f"its guardrails fail: {listed}",
        )
    return finish(
        Decision.CHALLENGER_BETTER if better else Decision.CONTROL_BETTER,
        f"effect {test.effect:+.4g} (p = {test.p_value:.4g} ≤ {design.alpha:g}) favours the "
        f"{'challenger' if better else 'control'}",
    )


def evidence_of(analysis: Analysis) -> Evidence:
    """The registry's evidence record of a concluded analysis (treatment = the challenger)."""
    if not analysis.can_conclude or analysis.test is None:
        raise InvalidInput("experiment", f"cannot become evidence: {analysis.reason}")
    design, test = analysis.design, analysis.test
    pc, pt = _rates(analysis.control, analysis.challenger)
    return Evidence(
        metric=design.metric,
        control=Arm(design.control_label, analysis.control.measured, pc),
        treatment=Arm(design.challenger_label, analysis.challenger.measured, pt),
        effect=test.effect,
        ci_low=test.ci_low,
        ci_high=test.ci_high,
        confidence=1 - design.alpha,
        p_value=test.p_value,
        alpha=design.alpha,
        source=f"experiment {design.experiment_id}",
        guardrail_values=dict(analysis.challenger_guardrail_values),
        test=test.method,
    )


# -- events ---------------------------------------------------------------------------------


@event_type("ExperimentCreated")
@dataclass(frozen=True)
class ExperimentCreated(DomainEvent):
    """An A/B experiment was designed: control, challenger, metric, split, minimum sample."""

    experiment_id: str
    design: dict[str, Any]
    minimum_sample: dict[str, int]


@event_type("ExposuresLogged")
@dataclass(frozen=True)
class ExposuresLogged(DomainEvent):
    """A batch of exposures was logged (counts per arm; the rows are in the experiment store)."""

    experiment_id: str
    control: int
    challenger: int
    already_exposed: int


@event_type("OutcomesLogged")
@dataclass(frozen=True)
class OutcomesLogged(DomainEvent):
    """A batch of per-entity outcomes was logged (counts per metric)."""

    experiment_id: str
    outcomes: dict[str, int]


@event_type("ExperimentConcluded")
@dataclass(frozen=True)
class ExperimentConcluded(DomainEvent):
    """An experiment was concluded; its evidence went to the challenger version."""

    experiment_id: str
    decision: str
    analysis: dict[str, Any]
    evidence: dict[str, Any]
