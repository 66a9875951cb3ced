"""Data-health rules: the measurements of a current window's health against its reference
profile, from counts an engine computed (`lucid.engines.drift_sql.health_counts`), and the
default health thresholds of a list of columns.

- `null_share`: missing rows / rows of the window. Missing is NULL; for a number also NaN and
  ±inf (what drift leaves out as unusable). `null_share_rise`: that share minus the
  reference's (a column NULL 10 % of the time since training does not alarm every run).
- `volume_ratio`: rows / expected rows, expected = reference rows x (current duration /
  reference duration), or the reference rows when a duration is unknown. A silent source
  (0 rows) measures 0: critical under any threshold.
- `out_of_range_share`: usable current numbers below the reference minimum or above its
  maximum / usable current numbers.
- `new_category_share`: usable current rows in categories the reference does not name / usable
  current rows. The reference names its `MAX_CATEGORIES` most frequent categories; when it
  pooled rarer ones (`other` > 0), such a rare category counts as new, and the note says so.
- `vanished_category_share`: reference rows of named categories absent from the window /
  reference usable rows.

Shares are `sufficient` when the window has at least `minimum_rows` rows (usable rows for the
range and category shares); the volume is always sufficient: an empty window is its signal.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from lucid.contracts.validity.actions import SEED_ACTIONS, Action
from lucid.contracts.validity.grades import DriftType
from lucid.contracts.validity.metrics import Measurement
from lucid.contracts.validity.profiles import CategoricalProfile, ColumnProfile, NumericProfile
from lucid.contracts.validity.thresholds import Threshold

HEALTH_METRICS = frozenset(
    {
        "null_share",
        "null_share_rise",
        "volume_ratio",
        "out_of_range_share",
        "new_category_share",
        "vanished_category_share",
    }
)
"""Every data-health metric a run can measure."""

DEFAULT_HEALTH_BOUNDS: Mapping[str, tuple[float, float]] = {
    "null_share_rise": (0.05, 0.2),
    "volume_ratio": (0.5, 0.2),
    "out_of_range_share": (0.01, 0.05),
    "new_category_share": (0.01, 0.05),
    "vanished_category_share": (0.01, 0.05),
}
"""(warning, critical) of the default health thresholds."""


@dataclass(frozen=True, slots=True)
class ColumnHealth:
    """Counts of one column in the current window: missing rows, and usable values out of
    the reference's range (numbers) or in categories it does not name (categories), and the
    current rows of each category it names."""

    missing: int
    outside: int = 0
    named: Mapping[str, int] | None = None


def health_measurements(
    references: Mapping[str, ColumnProfile],
    rows: int,
    columns: Mapping[str, ColumnHealth],
    *,
    minimum_rows: int,
    duration_ratio: float | None = None,
) -> list[Measurement]:
    """Every health measurement of a window of `rows` rows: volume, then per column in
    `columns` its shares. `duration_ratio` is current duration / reference duration."""
    reference_rows = max((r.rows for r in references.values()), default=0)
    found = [volume_measurement(reference_rows, rows, duration_ratio)]
    for column, health in columns.items():
        found += column_measurements(column, references[column], rows, health, minimum_rows)
    return found


def volume_measurement(
    reference_rows: int, rows: int, duration_ratio: float | None = None
) -> Measurement:
    note = None
    if duration_ratio is None:
        duration_ratio = 1.0
        note = "the reference duration is unknown: expected rows are the reference's rows"
    expected = reference_rows * duration_ratio
    if expected <= 0:
        return Measurement(
            "volume_ratio",
            None,
            reference_rows=reference_rows,
            current_rows=rows,
            sufficient=False,
            note="the reference has no rows to expect",
        )
    return Measurement(
        "volume_ratio",
        rows / expected,
        reference_rows=reference_rows,
        current_rows=rows,
        note=note,
        details={"expected_rows": expected},
    )


@dataclass(frozen=True, slots=True)
class _Scope:
    column: str
    reference_rows: int
    rows: int

    def measure(
        self,
        metric: str,
        value: float | None,
        sufficient: bool,
        note: str | None,
        details: Mapping[str, float | int | str | None],
    ) -> Measurement:
        return Measurement(
            metric,
            value,
            feature=self.column,
            reference_rows=self.reference_rows,
            current_rows=self.rows,
            sufficient=sufficient,
            note=note,
            details=details,
        )


def column_measurements(
    column: str,
    reference: ColumnProfile,
    rows: int,
    health: ColumnHealth,
    minimum_rows: int,
) -> list[Measurement]:
    """The shares of one column: missing, then range (numbers) or categories."""
    usable = rows - health.missing
    enough = f"the window has {rows} rows (minimum {minimum_rows})"
    share = health.missing / rows if rows else None
    reference_share = 1 - reference.usable / reference.rows if reference.rows else 0.0
    rise = None if share is None else share - reference_share
    common = _Scope(column, reference.rows, rows)
    found = [
        common.measure(
            metric,
            value,
            rows >= minimum_rows,
            None if rows >= minimum_rows else enough,
            {"reference_null_share": reference_share, "current_missing": health.missing},
        )
        for metric, value in (("null_share", share), ("null_share_rise", rise))
    ]
    sufficient = usable >= minimum_rows
    note = None if sufficient else f"{usable} usable rows (minimum {minimum_rows})"
    if isinstance(reference, NumericProfile):
        outside = health.outside / usable if usable and reference.usable else None
        found.append(
            common.measure(
                "out_of_range_share",
                outside,
                sufficient,
                note,
                {
                    "minimum": reference.minimum,
                    "maximum": reference.maximum,
                    "outside_rows": health.outside,
                },
            )
        )
    else:
        found += _category_measurements(reference, usable, health, sufficient, note, common)
    return found


def _category_measurements(
    reference: CategoricalProfile,
    usable: int,
    health: ColumnHealth,
    sufficient: bool,
    note: str | None,
    common: _Scope,
) -> list[Measurement]:
    named = health.named or {}
    vanished = sorted(c for c in reference.categories if not named.get(c))
    notes = [note] if note else []
    if reference.other:
        notes.append(f"{reference.other} reference rows in rare categories count as new")
    new_share = health.outside / usable if usable else None
    gone = sum(reference.categories[c] for c in vanished)
    gone_share = gone / reference.usable if reference.usable and usable else None
    return [
        common.measure(
            "new_category_share",
            new_share,
            sufficient,
            "; ".join(notes) or None,
            {"new_rows": health.outside},
        ),
        common.measure(
            "vanished_category_share",
            gone_share,
            sufficient,
            note,
            {"vanished": ", ".join(vanished[:20]), "vanished_count": len(vanished)},
        ),
    ]


def default_health_thresholds(
    columns: Mapping[str, str] | None = None,
    *,
    warning_actions: Sequence[Action] = SEED_ACTIONS["alert_data_team"],
    critical_actions: Sequence[Action] = SEED_ACTIONS["freeze_deployment_and_investigate"],
) -> tuple[Threshold, ...]:
    """The default health thresholds (`DEFAULT_HEALTH_BOUNDS`): the volume, and each share
    that fits a column for every column of `columns` (name -> "numeric" or "categorical", as
    `ComputeEngine.columns` gives them). None: one threshold per share watching every column.
    """
    found = []
    for metric, (warning, critical) in DEFAULT_HEALTH_BOUNDS.items():
        watched: list[str | None] = [None]
        if metric != "volume_ratio" and columns is not None:
            kinds = _KINDS.get(metric, {"numeric", "categorical"})
            watched = [column for column, kind in columns.items() if kind in kinds]
        for feature in watched:
            found.append(
                Threshold(
                    DriftType.DATA,
                    metric,
                    warning,
                    critical,
                    tuple(warning_actions),
                    tuple(critical_actions),
                    feature=feature,
                )
            )
    return tuple(found)


_KINDS: Mapping[str, set[str]] = {
    "out_of_range_share": {"numeric"},
    "new_category_share": {"categorical"},
    "vanished_category_share": {"categorical"},
}
"""The column kinds a share measures (the others measure both)."""
