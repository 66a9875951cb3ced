"""Concluding an experiment: its analysis becomes the challenger's evidence, atomically."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from lucid.contracts.events import format_time
from lucid.contracts.experiments.analysis import evidence_of
from lucid.contracts.experiments.events import ExperimentConcluded
from lucid.contracts.identities import normalise_identity
from lucid.contracts.value import Evidence, text
from lucid.errors import Conflict
from lucid.experiments.state import analysis_of, experiment_event, running
from lucid.experiments.versions import ModelVersions
from lucid.ports.unit_of_work import UnitsOfWork


def conclude(
    uows: UnitsOfWork,
    models: ModelVersions,
    clock: Callable[[], datetime],
    experiment_id: str,
    *,
    actor: str,
    rationale: str,
) -> Evidence:
    """Close the experiment and attach its evidence to the challenger, in one unit of work.

    Refused while the analysis says `collecting` (a fixed-horizon design before both arms
    reached the minimum sample; a sequential one before that unless its always-valid
    p-value already fell to alpha) or `invalid` (sample-ratio mismatch).
    """
    who, why = normalise_identity(actor, "actor"), text(rationale, "rationale")
    now = clock()
    with uows() as uow:
        design = running(uow, experiment_id)
        experiment_id = design.experiment_id
        analysis = analysis_of(uow, design)
        if not analysis.can_conclude:
            raise Conflict(
                f"{experiment_id} cannot be concluded: {analysis.reason}; nothing changed."
            )
        evidence = evidence_of(analysis, format_time(now))
        decision = analysis.decision.value
        uow.experiments.conclude(
            experiment_id, concluded_at=format_time(now), decision=decision, evidence=evidence
        )
        uow.record(
            experiment_event(
                ExperimentConcluded(
                    experiment_id, decision, analysis.to_dict(), evidence.to_dict()
                ),
                who,
                why,
                now,
            )
        )
        models.attach_evidence(
            design.model,
            design.challenger_version,
            evidence,
            actor=who,
            rationale=f"experiment {experiment_id} concluded: {analysis.reason}",
        )
    return evidence
