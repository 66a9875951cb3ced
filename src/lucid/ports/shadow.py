"""The port of the stored shadow comparisons: what the use cases read and write in a unit of
work. The outcomes are the production predictions' own (the prediction and outcome logs)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from lucid.contracts.experiments.shadow import ShadowDesign
from lucid.contracts.value import Evidence


@dataclass(frozen=True, slots=True)
class ShadowPairs:
    """The pairs of a comparison with a matured outcome: the label, the challenger's score and
    the production prediction's score, row by row; and how many pairs were logged in all."""

    logged: int
    labels: list[int]
    challenger: list[float]
    control: list[float]


class ShadowRepository(Protocol):
    """Shadow comparisons and the challenger's scores of production predictions."""

    def get(self, comparison_id: str) -> tuple[ShadowDesign, str] | None:
        """The comparison's design and status (`running` or `concluded`), None if unknown."""
        ...

    def add(self, design: ShadowDesign, *, created_at: str, created_by: str) -> None: ...

    def conclude(
        self, comparison_id: str, *, concluded_at: str, evidence: Sequence[Evidence]
    ) -> None: ...

    def running_for(self, model: str) -> str | None:
        """The id of `model`'s running comparison, None when none runs."""
        ...

    def overview(self) -> list[dict[str, Any]]:
        """Every comparison (id, model, versions, status, created_at), oldest first."""
        ...

    def predictions_of(
        self, model: str, version: int | None, prediction_ids: Sequence[str]
    ) -> set[str]:
        """Which of `prediction_ids` are logged predictions of `model` at `version` (any
        version when None)."""
        ...

    def scored_among(self, comparison_id: str, prediction_ids: Sequence[str]) -> set[str]:
        """Which of `prediction_ids` already have a shadow score in the comparison."""
        ...

    def add_scores(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """Store shadow scores (comparison_id, prediction_id, score)."""
        ...

    def pairs(self, comparison_id: str) -> ShadowPairs:
        """The matured pairs, ordered by prediction id, and the count of logged ones."""
        ...
