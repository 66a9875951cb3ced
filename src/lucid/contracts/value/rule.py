"""The rule of evidence a contract declares before a test: which evidence will promote the
model. Each `EvidenceClause` names a kind of evidence (business: an experiment on a cohort;
predictive: a shadow comparison on the same entities), the comparison its effect must pass
(superiority or non-inferiority within a margin) and, for predictive evidence, its metric.
A contract that declares no rule gets `DEFAULT_RULE`: business superiority on its metric."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from lucid.contracts.names import refuse_unknown_keys
from lucid.contracts.value.direction import Direction
from lucid.contracts.value.fields import finite
from lucid.errors import InvalidInput


class EvidenceKind(StrEnum):
    """What an evidence record proves: the business metric moved (an experiment on a cohort)
    or the predictions ranked better (a shadow comparison on the same entities)."""

    BUSINESS = "business"
    PREDICTIVE = "predictive"


class Origin(StrEnum):
    """Who produced an evidence record: Lucid from its own logs (hashed, attached by the
    system) or a team from an experiment run elsewhere (validated, marked external)."""

    LUCID = "lucid"
    EXTERNAL = "external"


class Comparison(StrEnum):
    """What a clause of the rule of evidence asks of an effect: that it be better than 0
    (`superiority`) or not worse than minus a margin (`non_inferiority`)."""

    SUPERIORITY = "superiority"
    NON_INFERIORITY = "non_inferiority"


PREDICTIVE_METRICS: Mapping[str, Direction] = {
    "auc": Direction.HIGHER,
    "log_loss": Direction.LOWER,
    "precision_at_budget": Direction.HIGHER,
}
"""The metrics a predictive comparison measures, each with the direction that is better."""


CLAUSE_KEYS = ("kind", "comparison", "metric", "margin")
"""The fields of one clause of a contract's `evidence_rule`."""


@dataclass(frozen=True, slots=True)
class EvidenceClause:
    """One clause of the rule of evidence.

    `metric` is None for business evidence (the contract's metric) and one of
    `PREDICTIVE_METRICS` for predictive evidence. `margin` (non-inferiority only, in the
    metric's unit, positive) is how much worse the challenger may be; None takes the
    contract's rollback margin |baseline - rollback_threshold| for business evidence and is
    required for predictive evidence.
    """

    kind: EvidenceKind
    comparison: Comparison
    metric: str | None = None
    margin: float | None = None

    def __post_init__(self) -> None:
        where = f"evidence_rule.{self.kind}"
        try:
            object.__setattr__(self, "kind", EvidenceKind(self.kind))
        except ValueError:
            kinds = ", ".join(k.value for k in EvidenceKind)
            raise InvalidInput(
                "evidence_rule.kind", f"must be one of {kinds}, not {self.kind!r}"
            ) from None
        try:
            object.__setattr__(self, "comparison", Comparison(self.comparison))
        except ValueError:
            options = ", ".join(c.value for c in Comparison)
            raise InvalidInput(
                f"{where}.comparison", f"must be one of {options}, not {self.comparison!r}"
            ) from None
        if self.kind is EvidenceKind.PREDICTIVE and self.metric not in PREDICTIVE_METRICS:
            options = ", ".join(PREDICTIVE_METRICS)
            raise InvalidInput(
                f"{where}.metric",
                f"must be one of {options} for predictive evidence, not {self.metric!r}",
            )
        if self.kind is EvidenceKind.BUSINESS and self.metric is not None:
            raise InvalidInput(
                f"{where}.metric", "business evidence is always on the contract's own metric"
            )
        if self.margin is not None:
            margin = finite(self.margin, f"{where}.margin")
            if margin <= 0:
                raise InvalidInput(f"{where}.margin", f"must be positive, not {margin:g}")
            if self.comparison is not Comparison.NON_INFERIORITY:
                raise InvalidInput(f"{where}.margin", "only a non-inferiority clause has a margin")
            object.__setattr__(self, "margin", margin)
        elif self.kind is EvidenceKind.PREDICTIVE and self.comparison is Comparison.NON_INFERIORITY:
            raise InvalidInput(
                f"{where}.margin", "a predictive non-inferiority clause must state its margin"
            )

    @property
    def direction(self) -> Direction | None:
        """The predictive metric's better direction; None for business (the contract's)."""
        return PREDICTIVE_METRICS[self.metric] if self.metric is not None else None

    def describe(self) -> str:
        what = self.metric if self.metric is not None else "the contract's metric"
        text = f"{self.kind.value} {self.comparison.value.replace('_', '-')} on {what}"
        return text + (f" within {self.margin:g}" if self.margin is not None else "")

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "comparison": self.comparison.value,
            "metric": self.metric,
            "margin": self.margin,
        }

    @classmethod
    def from_mapping(cls, raw: object) -> EvidenceClause:
        """Read `{kind, comparison, metric?, margin?}`."""
        if not isinstance(raw, Mapping):
            raise InvalidInput(
                "evidence_rule",
                f"each clause must be a mapping with kind and comparison, not {raw!r}",
            )
        refuse_unknown_keys(raw, CLAUSE_KEYS, "evidence_rule")
        for name in ("kind", "comparison"):
            if raw.get(name) is None:
                raise InvalidInput(f"evidence_rule.{name}", "is required in each clause")
        return cls(raw["kind"], raw["comparison"], raw.get("metric"), raw.get("margin"))


DEFAULT_RULE = (EvidenceClause(EvidenceKind.BUSINESS, Comparison.SUPERIORITY),)
"""The rule of a contract that declares none: business superiority on its metric."""


def parse_rule(raw: object) -> tuple[EvidenceClause, ...]:
    """A contract's `evidence_rule` list; None or absent gives `DEFAULT_RULE`."""
    if raw is None:
        return DEFAULT_RULE
    if not isinstance(raw, list | tuple) or not raw:
        raise InvalidInput("evidence_rule", f"must be a non-empty list of clauses, not {raw!r}")
    clauses = tuple(EvidenceClause.from_mapping(item) for item in raw)
    keys = [(c.kind, c.metric) for c in clauses]
    if len(set(keys)) != len(keys):
        raise InvalidInput("evidence_rule", "each kind of evidence (and metric) may appear once")
    return clauses
