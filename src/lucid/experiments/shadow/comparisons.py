"""Starting a shadow comparison, logging the challenger's scores of production predictions,
reading its state and concluding it into predictive evidence, each in one unit of work."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from lucid.contracts.events import NewEvent, format_time
from lucid.contracts.experiments.assignment import validate_experiment_id
from lucid.contracts.experiments.design import RUNNING
from lucid.contracts.experiments.paired import PairedTest, paired_test
from lucid.contracts.experiments.shadow import (
    DEFAULT_MINIMUM_PAIRS,
    ShadowConcluded,
    ShadowDesign,
    ShadowScoresLogged,
    ShadowStarted,
    maturity,
    predictive_evidence,
    shadow_subject,
)
from lucid.contracts.identities import normalise_identity
from lucid.contracts.value import Evidence, Stage, text
from lucid.errors import Conflict, InvalidInput, NotFound
from lucid.experiments.versions import ModelVersions
from lucid.ports.shadow import ShadowPairs
from lucid.ports.unit_of_work import UnitOfWork, UnitsOfWork

ShadowEvent = ShadowStarted | ShadowScoresLogged | ShadowConcluded


def start(
    uows: UnitsOfWork,
    models: ModelVersions,
    clock: Callable[[], datetime],
    comparison_id: str,
    *,
    model: str,
    challenger: int,
    actor: str,
    rationale: str,
    metrics: Iterable[str] = ("auc",),
    minimum_pairs: int = DEFAULT_MINIMUM_PAIRS,
    budget_share: float = 0.05,
) -> ShadowDesign:
    """Start scoring `challenger` in the shadow of `model`'s production version (None: "no
    model"); refused (nothing stored) for a version not at the challenger stage, a taken id,
    or a model whose comparison already runs."""
    who, why = normalise_identity(actor, "actor"), text(rationale, "rationale")
    candidate = models.get_version(model, challenger)
    if candidate.stage is not Stage.CHALLENGER:
        raise Conflict(
            f"challenger: {candidate.label} is {candidate.stage.value}; only a version at the "
            "challenger stage may be scored in the shadow; nothing changed."
        )
    production = models.production_version(model)
    design = ShadowDesign(
        comparison_id=comparison_id,
        model=model,
        control_version=None if production is None else production.version,
        challenger_version=challenger,
        metrics=tuple(metrics),
        alpha=candidate.impact.alpha,
        minimum_pairs=minimum_pairs,
        budget_share=budget_share,
    )
    now = clock()
    with uows() as uow:
        if uow.shadow.get(comparison_id) is not None:
            raise Conflict(f"shadow: {comparison_id} already exists; nothing changed.")
        running = uow.shadow.running_for(model)
        if running is not None:
            raise Conflict(
                f"model: {model} already has the running shadow comparison {running}; conclude "
                "it first, nothing changed."
            )
        uow.shadow.add(design, created_at=format_time(now), created_by=who)
        uow.record(_event(ShadowStarted(comparison_id, design.to_dict()), who, why, now))
    return design


def log_scores(
    uows: UnitsOfWork,
    clock: Callable[[], datetime],
    comparison_id: str,
    rows: Iterable[Mapping[str, Any]],
    *,
    actor: str,
) -> int:
    """Log the challenger's scores (`prediction_id`, `score` in [0, 1]) of production
    predictions; returns how many were stored. A prediction id unknown, not of the production
    version, or already scored refuses the batch (nothing stored). Opened inside another
    write transaction of the same database (the prediction journal's batch) it joins it."""
    who = normalise_identity(actor, "actor")
    batch = _score_rows(rows)
    now = clock()
    with uows() as uow:
        design = running(uow, comparison_id)
        ids = list(batch)
        known = uow.shadow.predictions_of(design.model, design.control_version, ids)
        missing = [i for i in ids if i not in known]
        if missing:
            of = (
                f"of {design.control_label}"
                if design.control_version is not None
                else f"of {design.model}"
            )
            raise InvalidInput(
                "rows.prediction_id",
                f"{len(missing)} prediction id(s) are not logged predictions {of} (first: "
                f"{missing[0]}); a shadow score pairs with a production prediction, nothing stored",
            )
        taken = uow.shadow.scored_among(comparison_id, ids)
        if taken:
            raise Conflict(
                f"rows.prediction_id: {sorted(taken)[0]} already has a shadow score in "
                f"{comparison_id}; one per prediction, nothing stored."
            )
        uow.shadow.add_scores(
            [
                {"comparison_id": comparison_id, "prediction_id": i, "score": score}
                for i, score in batch.items()
            ]
        )
        uow.record(
            _event(
                ShadowScoresLogged(comparison_id, len(batch)),
                who,
                f"{len(batch)} shadow scores logged",
                now,
            )
        )
    return len(batch)


def status(uows: UnitsOfWork, comparison_id: str) -> dict[str, Any]:
    """The comparison's design and status, the pairs logged and matured (positives,
    negatives), whether it can conclude (and why not) and each metric's estimate so far."""
    with uows.read() as uow:
        design, state = stored(uow, comparison_id)
        pairs = uow.shadow.pairs(comparison_id)
    positives = sum(pairs.labels)
    matured = len(pairs.labels)
    reason = maturity(matured, positives, design.minimum_pairs)
    estimates: dict[str, Any] = {}
    if 0 < positives < matured:
        estimates = {t.metric: t.to_dict() for t in _tests(design, pairs)}
    return {
        "design": design.to_dict(),
        "status": state,
        "control": design.control_label,
        "challenger": design.challenger_label,
        "pairs_logged": pairs.logged,
        "pairs_matured": matured,
        "positives": positives,
        "negatives": matured - positives,
        "can_conclude": state == RUNNING and reason is None,
        "reason": reason,
        "estimates": estimates,
    }


def conclude(
    uows: UnitsOfWork,
    models: ModelVersions,
    clock: Callable[[], datetime],
    comparison_id: str,
    *,
    actor: str,
    rationale: str,
) -> list[Evidence]:
    """Close the comparison and attach one predictive evidence record per metric to the
    challenger, in one unit of work. Refused (nothing stored) before the outcomes matured:
    fewer than `minimum_pairs` pairs with an outcome, or fewer than 10 of either class."""
    who, why = normalise_identity(actor, "actor"), text(rationale, "rationale")
    now = clock()
    with uows() as uow:
        design = running(uow, comparison_id)
        pairs = uow.shadow.pairs(comparison_id)
        reason = maturity(len(pairs.labels), sum(pairs.labels), design.minimum_pairs)
        if reason is not None:
            raise Conflict(
                f"{comparison_id} cannot be concluded: {reason}; the outcomes have not matured, "
                "nothing changed."
            )
        produced = format_time(now)
        evidence = [
            predictive_evidence(
                design, test, source=f"shadow {comparison_id}", produced_at=produced
            )
            for test in _tests(design, pairs)
        ]
        uow.shadow.conclude(comparison_id, concluded_at=produced, evidence=evidence)
        uow.record(
            _event(ShadowConcluded(comparison_id, [e.to_dict() for e in evidence]), who, why, now)
        )
        for record in evidence:
            models.attach_evidence(
                design.model,
                design.challenger_version,
                record,
                actor=who,
                rationale=f"shadow comparison {comparison_id} concluded on {len(pairs.labels)} "
                f"matured pairs ({record.metric})",
            )
    return evidence


def stored(uow: UnitOfWork, comparison_id: str) -> tuple[ShadowDesign, str]:
    """The comparison's design and status; NotFound for an unknown id."""
    validate_experiment_id(comparison_id)
    found = uow.shadow.get(comparison_id)
    if found is None:
        raise NotFound(f"No shadow comparison named {comparison_id} exists.")
    return found


def running(uow: UnitOfWork, comparison_id: str) -> ShadowDesign:
    """The design of a running comparison; Conflict once it is concluded."""
    design, state = stored(uow, comparison_id)
    if state != RUNNING:
        raise Conflict(f"{comparison_id} is {state}; nothing changed.")
    return design


def _tests(design: ShadowDesign, pairs: ShadowPairs) -> list[PairedTest]:
    control = pairs.control if design.control_version is not None else None
    return [
        paired_test(
            metric,
            pairs.labels,
            pairs.challenger,
            control,
            alpha=design.alpha,
            budget_share=design.budget_share,
            seed=design.seed,
        )
        for metric in design.metrics
    ]


def _score_rows(rows: Iterable[Mapping[str, Any]]) -> dict[str, float]:
    """The batch's scores by prediction id, each checked; one per prediction."""
    if isinstance(rows, str | bytes | Mapping):
        raise InvalidInput("rows", "must be a list of {prediction_id, score} rows")
    batch: dict[str, float] = {}
    for index, row in enumerate(rows):
        where = f"rows[{index}]"
        if not isinstance(row, Mapping):
            raise InvalidInput(
                where, f"must be a mapping with prediction_id and score, not {row!r}"
            )
        unknown = sorted(set(row) - {"prediction_id", "score"})
        if unknown:
            raise InvalidInput(where, f"has unknown column(s) {', '.join(map(str, unknown))}")
        ident = row.get("prediction_id")
        if not isinstance(ident, str) or not ident.strip() or len(ident) > 64:
            raise InvalidInput(
                f"{where}.prediction_id",
                f"must be a prediction id of 1-64 characters, not {ident!r}",
            )
        score = row.get("score")
        if (
            isinstance(score, bool)
            or not isinstance(score, int | float)
            or not math.isfinite(score)
            or not 0 <= score <= 1
        ):
            raise InvalidInput(f"{where}.score", f"must be a probability in [0, 1], not {score!r}")
        if ident in batch:
            raise InvalidInput(
                f"{where}.prediction_id", f"{ident} appears twice in the batch; one per prediction"
            )
        batch[ident] = float(score)
    if not batch:
        raise InvalidInput("rows", "the batch holds no rows")
    return batch


def _event(event: ShadowEvent, actor: str, rationale: str, now: datetime) -> NewEvent:
    return NewEvent.of(
        event,
        actor=actor,
        subject=shadow_subject(event.comparison_id),
        rationale=rationale,
        occurred_at=now,
    )
