"""A backtest "over the same snapshots": the production version and the challenger score the
same labelled point-in-time rows, each from its own pinned features; paired tests on those
rows become the challenger's predictive evidence, attached in one unit of work."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from lucid.contracts.events import NewEvent, Subject, format_time
from lucid.contracts.experiments.paired import paired_test
from lucid.contracts.experiments.shadow import (
    DEFAULT_MINIMUM_PAIRS,
    ShadowBacktested,
    ShadowDesign,
    check_metrics,
    maturity,
    predictive_evidence,
)
from lucid.contracts.identities import normalise_identity
from lucid.contracts.value import BusinessImpact, Evidence, Stage, text
from lucid.errors import Conflict, InvalidInput
from lucid.experiments.row_files import read_rows
from lucid.ports.unit_of_work import UnitsOfWork

LABEL_COLUMNS = ("entity_id", "event_timestamp", "label")
"""The columns a backtest's labels must hold: who, as of when, and the matured outcome (0/1)."""


class ScoringVersion(Protocol):
    """A loaded version, as far as a backtest needs it: its pins and its scores."""

    @property
    def version(self) -> int: ...

    @property
    def features(self) -> tuple[str, ...]: ...

    def by_name(self, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]: ...

    def scores(self, rows: Sequence[Mapping[str, float]]) -> list[float | None]: ...


class Version(Protocol):
    @property
    def version(self) -> int: ...

    @property
    def stage(self) -> Stage: ...

    @property
    def impact(self) -> BusinessImpact: ...

    @property
    def label(self) -> str: ...


class BacktestModels(Protocol):
    """The model registry, seen from a backtest."""

    def production_version(self, name: str) -> Version | None: ...

    def get_version(self, name: str, version: int | None = None) -> Version: ...

    def load_model(self, name: str, *, version: int | None = None) -> ScoringVersion: ...

    def attach_evidence(
        self, name: str, version: int, evidence: Evidence, *, actor: str, rationale: str
    ) -> object: ...


TrainingRows = Callable[[Any, Sequence[str]], list[dict[str, Any]]]
"""(labels, pins) → the point-in-time rows of the labels, in their order, keyed by pin."""


def backtest(
    uows: UnitsOfWork,
    models: BacktestModels,
    training_rows: TrainingRows,
    clock: Callable[[], datetime],
    model: str,
    challenger: int,
    *,
    labels: Any,
    actor: str,
    rationale: str,
    metrics: Iterable[str] = ("auc",),
    minimum_pairs: int = DEFAULT_MINIMUM_PAIRS,
    budget_share: float = 0.05,
) -> list[Evidence]:
    """Score `labels` (a Parquet/CSV file, an Arrow table or rows of entity_id,
    event_timestamp, label) with the production version and the challenger, each on its own
    point-in-time features, and attach one predictive evidence record per metric to the
    challenger. With no production version the control is "no model". Refused (nothing
    stored) for labels missing a column, of one class, or of fewer than `minimum_pairs` rows."""
    who, why = normalise_identity(actor, "actor"), text(rationale, "rationale")
    chosen = check_metrics(metrics)
    candidate = models.get_version(model, challenger)
    if candidate.stage is not Stage.CHALLENGER:
        raise Conflict(
            f"challenger: {candidate.label} is {candidate.stage.value}; only a version at the "
            "challenger stage may be backtested against production; nothing changed."
        )
    production = models.production_version(model)
    rows = _label_rows(labels)
    positives = sum(row["label"] for row in rows)
    reason = maturity(len(rows), positives, minimum_pairs)
    if reason is not None:
        raise InvalidInput("labels", f"{reason}; nothing stored")
    design = ShadowDesign(
        comparison_id=f"backtest-{challenger}",
        model=model,
        control_version=None if production is None else production.version,
        challenger_version=challenger,
        metrics=chosen,
        alpha=candidate.impact.alpha,
        minimum_pairs=minimum_pairs,
        budget_share=budget_share,
    )
    source = _described(labels, rows)
    challenger_scores, missing = _scores(
        models, training_rows, model, challenger, labels, len(rows)
    )
    control_scores = None
    if production is not None:
        control_scores, missing_control = _scores(
            models, training_rows, model, production.version, labels, len(rows)
        )
        missing = max(missing, missing_control)
    tests = [
        paired_test(
            metric,
            [row["label"] for row in rows],
            challenger_scores,
            control_scores,
            alpha=design.alpha,
            budget_share=budget_share,
            seed=design.seed,
        )
        for metric in chosen
    ]
    now = clock()
    produced = format_time(now)
    evidence = [
        predictive_evidence(
            design,
            test,
            source=f"backtest of {design.challenger_label} on {source}",
            produced_at=produced,
        )
        for test in tests
    ]
    evidence = [
        _with_data(record, {"labels": source, "rows_with_missing_features": missing})
        for record in evidence
    ]
    with uows() as uow:
        uow.record(
            NewEvent.of(
                ShadowBacktested(
                    model,
                    design.control_version,
                    challenger,
                    [record.to_dict() for record in evidence],
                ),
                actor=who,
                subject=Subject("model", design.challenger_label),
                rationale=why,
                occurred_at=now,
            )
        )
        for record in evidence:
            models.attach_evidence(
                model,
                challenger,
                record,
                actor=who,
                rationale=f"backtest on {source} ({record.metric})",
            )
    return evidence


def _label_rows(labels: Any) -> list[dict[str, Any]]:
    """The labels as rows, each checked: the three columns present, label 0 or 1."""
    if isinstance(labels, str | Path):
        raw = read_rows(labels, "labels")
    elif hasattr(labels, "to_pylist"):  # an Arrow table
        raw = labels.to_pylist()
    elif isinstance(labels, Sequence):
        raw = [dict(row) if isinstance(row, Mapping) else row for row in labels]
    else:
        raise InvalidInput("labels", "must be a Parquet or CSV file, an Arrow table or rows")
    if not raw:
        raise InvalidInput("labels", "holds no rows; nothing stored")
    first = raw[0]
    if not isinstance(first, Mapping):
        raise InvalidInput("labels", f"rows must be mappings, not {first!r}")
    absent = [column for column in LABEL_COLUMNS if column not in first]
    if absent:
        raise InvalidInput(
            "labels",
            f"lacks the column(s) {', '.join(absent)} (needs {', '.join(LABEL_COLUMNS)}); "
            "nothing stored",
        )
    rows = []
    for index, row in enumerate(raw):
        label = row.get("label")
        if isinstance(label, bool) or label not in (0, 1):
            raise InvalidInput(
                f"labels[{index}].label", f"must be 0 or 1 (a matured outcome), not {label!r}"
            )
        rows.append({**row, "label": int(label)})
    if len({row["label"] for row in rows}) == 1:
        raise InvalidInput(
            "labels.label",
            f"holds only the class {rows[0]['label']}; a comparison needs positives and "
            "negatives, nothing stored",
        )
    return rows


def _scores(
    models: BacktestModels,
    training_rows: TrainingRows,
    model: str,
    version: int,
    labels: Any,
    expected: int,
) -> tuple[list[float], int]:
    """The version's score of every label row from its own pinned features (a missing value
    counts as 0, as the churn models are trained), and how many rows missed a value."""
    served = models.load_model(model, version=version)
    rows = training_rows(labels, list(served.features))
    if len(rows) != expected:
        raise Conflict(
            f"the point-in-time rows of {model}@{version} number {len(rows)}, not one per label "
            f"({expected}); nothing stored."
        )
    missing = sum(1 for row in rows if any(row.get(pin) is None for pin in served.features))
    filled = [{pin: (row.get(pin) or 0.0) for pin in served.features} for row in rows]
    scores = served.scores(served.by_name(filled))
    if any(score is None for score in scores):
        raise Conflict(
            f"{model}@{version} gives no probability (predict_proba); a predictive comparison "
            "needs scores, nothing stored."
        )
    return [float(score) for score in scores if score is not None], missing


def _described(labels: Any, rows: Sequence[Mapping[str, Any]]) -> str:
    """The labels' file, else how many rows and over which times (a table or rows)."""
    if isinstance(labels, str | Path):
        return str(labels)
    times = sorted(str(row["event_timestamp"]) for row in rows)
    span = times[0] if times[0] == times[-1] else f"{times[0]} to {times[-1]}"
    return f"{len(rows)} labelled rows at {span}"


def _with_data(record: Evidence, extra: Mapping[str, Any]) -> Evidence:
    return replace(record, data={**record.data, **extra})
