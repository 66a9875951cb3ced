"""An experiment's stored state read in a unit of work: its design, whether it still runs,
its analysis at this look; and the event every change of an experiment records."""

from __future__ import annotations

from datetime import datetime

from lucid.contracts.events import NewEvent
from lucid.contracts.experiments.analysis import Analysis, analyse
from lucid.contracts.experiments.assignment import (
    CHALLENGER,
    CONTROL,
    experiment_subject,
    validate_experiment_id,
)
from lucid.contracts.experiments.design import RUNNING, Design
from lucid.contracts.experiments.events import (
    ExperimentConcluded,
    ExperimentCreated,
    ExposuresLogged,
    OutcomesLogged,
)
from lucid.contracts.experiments.statistics import ArmStats
from lucid.errors import Conflict, NotFound
from lucid.ports.unit_of_work import UnitOfWork


def stored(uow: UnitOfWork, experiment_id: str) -> tuple[Design, str]:
    """The experiment's design and status, by its id or the id's start; NotFound for an
    unknown id."""
    validate_experiment_id(experiment_id)
    full = uow.experiments.resolve(experiment_id)
    found = None if full is None else uow.experiments.get(full)
    if found is None:
        raise NotFound(f"No experiment named {experiment_id} exists.")
    return found


def running(uow: UnitOfWork, experiment_id: str) -> Design:
    """The design of a running experiment; Conflict once it is concluded."""
    design, status = stored(uow, experiment_id)
    if status != RUNNING:
        raise Conflict(f"{design.experiment_id} is {status}; nothing changed.")
    return design


def analysis_of(uow: UnitOfWork, design: Design) -> Analysis:
    """The analysis at this look (see `lucid.contracts.experiments.analyse`)."""
    counts = uow.experiments.arm_stats(design.experiment_id, design.metric)
    guardrails = uow.experiments.guardrail_stats(design.experiment_id, design.metric)
    return analyse(design, counts[CONTROL], counts[CHALLENGER], guardrail_stats=guardrails)


def daily_looks(uow: UnitOfWork, design: Design) -> list[tuple[str, Analysis]]:
    """The analysis as it stood at the end of each UTC day something was logged (guardrails
    judged at the current look only)."""
    totals = {arm: [0, 0, 0.0, 0.0, 0, 0.0, 0.0, 0.0] for arm in (CONTROL, CHALLENGER)}
    looks: list[tuple[str, Analysis]] = []
    daily = uow.experiments.daily_arm_stats(design.experiment_id, design.metric)
    for day in sorted({day for day, _, _ in daily}):
        for seen, arm, counts in daily:
            if seen == day and arm in totals:
                totals[arm] = [a + b for a, b in zip(totals[arm], counts, strict=True)]
        control, challenger = (_stats(totals[arm]) for arm in (CONTROL, CHALLENGER))
        looks.append((day, analyse(design, control, challenger, guardrail_stats={})))
    return looks


def _stats(totals: list[float]) -> ArmStats:
    exposed, measured, sum_y, sum_y2, n_x, sum_x, sum_x2, sum_xy = totals
    return ArmStats(int(exposed), int(measured), sum_y, sum_y2, int(n_x), sum_x, sum_x2, sum_xy)


ExperimentEvent = ExperimentCreated | ExposuresLogged | OutcomesLogged | ExperimentConcluded


def experiment_event(event: ExperimentEvent, actor: str, rationale: str, now: datetime) -> NewEvent:
    """`event` as recorded on its experiment's subject."""
    return NewEvent.of(
        event,
        actor=actor,
        subject=experiment_subject(event.experiment_id),
        rationale=rationale,
        occurred_at=now,
    )
