"""Model flavours: how each kind of artifact is run once loaded.

A flavour's `load` turns a stored artifact's bytes (their SHA-256 already checked) into a
`Runner`, which scores a batch of rows given as a matrix whose columns are the model's inputs
in its order (`columns`). Every flavour answers the same thing: each row's prediction and, for
a classifier of two classes, P(label = 1); any other model answers no score.

Each flavour lives in its own module and imports its library only when it loads a model, so
the core install never imports XGBoost, LightGBM, tokenizers or MLflow; a flavour whose
package is missing refuses with the `pip install` that brings it (`lucid.extras`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from lucid.contracts.value.versions import ArtifactKind
from lucid.errors import Conflict


class Runner(Protocol):
    """A loaded model."""

    def predict_scored(
        self, columns: Sequence[str], matrix: list[list[Any]]
    ) -> tuple[list[Any], list[float | None]]:
        """Each row's prediction and score (P(label = 1), None without one); `matrix` holds
        one list per row, its values in the order of `columns`, and is never empty."""
        ...


Loader = Callable[[bytes, str, bool], Runner]
"""Stored bytes (hash checked), their location, whether the project allows pickles → runner."""


@dataclass(frozen=True)
class Flavour:
    """A kind of artifact Lucid serves: its loader and what it is called in a sentence."""

    kind: ArtifactKind
    description: str
    load: Loader


def _flavours() -> dict[ArtifactKind, Flavour]:
    from lucid.registry.flavours import sklearn

    found = [
        Flavour(
            ArtifactKind.SKLEARN, "scikit-learn (skops, or a pickle where allowed)", sklearn.load
        ),
    ]
    return {flavour.kind: flavour for flavour in found}


FLAVOURS: dict[ArtifactKind, Flavour] = _flavours()
"""The kinds Lucid serves itself, each with its loader."""


def flavour_of(kind: ArtifactKind, location: str) -> Flavour:
    """The flavour that serves `kind`; a sentence when Lucid serves no such artifact."""
    flavour = FLAVOURS.get(kind)
    if flavour is None:
        served = ", ".join(sorted(k.value for k in FLAVOURS))
        raise Conflict(
            f"Lucid does not serve {kind.value} artifacts ({location}); it serves {served}."
        )
    return flavour
