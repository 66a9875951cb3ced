"""The actions a run asks for, really taken: freeze, rollback, retrain, investigate.

Each one goes through the registry (the value contract keeps its own rules and events) and
its result — done, skipped or failed, with a sentence — is recorded as a
`MonitoringActionTaken` event about the model, in the transaction of the action itself with
the mark that the run took it: a run resumed after a crash never takes an action twice. A
failed action is taken (and recorded) once too; it never stops the others.

Retraining calls the training pipeline registered for the model in `lucid.yaml`
(`training_pipelines: {model: "module:function"}`). The function receives a
`RetrainingRequest` and returns `(estimator, offline_metrics)`: a fitted scikit-learn model
and a mapping of metric name to number. The result is registered as a candidate with the
contract and pinned features of the version it replaces; the promotion gate still decides.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lucid.contracts.events import NewEvent
from lucid.contracts.monitoring_events import MonitoringActionTaken
from lucid.contracts.registry_events import model_subject
from lucid.contracts.validity.actions import Action, ActionKind
from lucid.contracts.value import Stage
from lucid.errors import Conflict, InvalidInput, LucidError, NotFound
from lucid.ports.unit_of_work import UnitOfWork, UnitsOfWork
from lucid.registry.model_artifacts import SklearnArtifact
from lucid.registry.model_registry import ModelRegistry

ACTOR = "monitoring"


@dataclass(frozen=True, slots=True)
class RetrainingRequest:
    """What a training pipeline is told: which model and version, the run and window
    (canonical UTC text) that asked for retraining, and the project's folder (to open it)."""

    model: str
    version: str
    run_id: str
    window_start: str
    window_end: str
    project_dir: str = ""


@dataclass(frozen=True, slots=True)
class ActionResult:
    action: str
    outcome: str
    detail: str

    def to_dict(self) -> dict[str, str]:
        return {"action": self.action, "outcome": self.outcome, "detail": self.detail}


def load_pipeline(target: str) -> Callable[[RetrainingRequest], Any]:
    """The function of the entry point `module:function`."""
    module_name, _, function_name = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise InvalidInput(
            "training_pipelines", f"module {module_name} of {target} cannot be imported ({error})"
        ) from None
    function = getattr(module, function_name, None)
    if not callable(function):
        raise InvalidInput("training_pipelines", f"{target} names no function")
    return function  # type: ignore[no-any-return]


def train(pipelines: Mapping[str, str], request: RetrainingRequest) -> Any:
    """Call the model's training pipeline: its `(estimator, metrics)`, or the `ActionResult`
    saying why there is nothing to register. Slow user code: called outside any transaction."""
    target = pipelines.get(request.model)
    if target is None:
        return ActionResult(
            "retrain",
            "skipped",
            f"no training pipeline is registered for {request.model} "
            "(training_pipelines in lucid.yaml)",
        )
    try:
        result = load_pipeline(target)(request)
    except LucidError as error:
        return ActionResult("retrain", "failed", f"{target}: {error.sentence}")
    except Exception as error:  # the pipeline is user code: any failure is reported, not raised
        return ActionResult("retrain", "failed", f"{target} raised {type(error).__name__}: {error}")
    if not (isinstance(result, tuple) and len(result) == 2 and isinstance(result[1], Mapping)):
        return ActionResult(
            "retrain", "failed", f"{target} must return (fitted estimator, metrics mapping)"
        )
    return result


def awaiting_candidate(registry: ModelRegistry, request: RetrainingRequest) -> ActionResult | None:
    """Why retraining is skipped: a version monitoring retrained from the watched one is
    still a candidate (not yet tested or decided). Daily runs of a lasting drift would
    otherwise register a candidate a day. None when there is none."""
    try:
        versions = registry.versions(request.model)
    except NotFound:
        return None
    replaced = f"asked for retraining of {request.model}@{request.version}"
    waiting = [
        v
        for v in versions
        if v.registered_by == ACTOR and v.stage is Stage.CANDIDATE and replaced in v.rationale
    ]
    if not waiting:
        return None
    return ActionResult(
        "retrain",
        "skipped",
        f"{waiting[-1].label}, retrained by monitoring from {request.model}@{request.version}, "
        "is still a candidate",
    )


def register_retrained(
    registry: ModelRegistry,
    target: str,
    request: RetrainingRequest,
    trained: tuple[Any, Mapping[str, float]],
    uow: UnitOfWork,
) -> ActionResult:
    """Register the retrained estimator as a candidate with the contract and pinned features
    of the version it replaces, in `uow`."""
    try:
        current = registry.get_version(request.model, int(request.version))
    except (NotFound, ValueError):
        return ActionResult(
            "retrain",
            "failed",
            f"{request.model} version {request.version} is not in the registry; its contract "
            "cannot be carried to a retrained candidate",
        )
    estimator, metrics = trained
    try:
        registered = registry.register_model(
            request.model,
            artifact=SklearnArtifact(estimator=estimator),
            impact=current.impact,
            features=current.features,
            training_data=(
                f"retrained by {target} after monitoring run {request.run_id} "
                f"({request.window_start}/{request.window_end})"
            ),
            offline_metrics=dict(metrics),
            registered_by=ACTOR,
            rationale=f"monitoring run {request.run_id} asked for retraining of {current.label}",
        )
    except LucidError as error:
        return ActionResult("retrain", "failed", f"registration refused: {error.sentence}")
    return ActionResult(
        "retrain",
        "done",
        f"{registered.label} registered as a candidate with the contract of {current.label}",
    )


def freeze(registry: ModelRegistry, model: str, reason: str) -> ActionResult:
    try:
        registry.freeze(model, reason=reason, actor=ACTOR, source="monitoring")
    except Conflict as error:
        return ActionResult("freeze", "skipped", error.sentence)
    except NotFound as error:
        return ActionResult("freeze", "failed", error.sentence)
    return ActionResult("freeze", "done", f"promotions of {model} are blocked: {reason}")


def rollback(registry: ModelRegistry, model: str, reason: str) -> ActionResult:
    try:
        restored = registry.rollback(model, actor=ACTOR, rationale=reason)
    except LucidError as error:
        return ActionResult("rollback", "failed", error.sentence)
    return ActionResult("rollback", "done", f"{restored.label} serves production again")


_ORDER = {ActionKind.ROLLBACK: 0, ActionKind.FREEZE: 1, ActionKind.INVESTIGATE: 2}
"""Freeze and rollback before retraining, so a bad version stops serving before anything slow
runs."""


def take(
    uows: UnitsOfWork,
    registry: ModelRegistry,
    pipelines: Mapping[str, str],
    actions: tuple[Action, ...],
    request: RetrainingRequest,
    reason: str,
    now: datetime,
) -> list[ActionResult]:
    """Take every non-alert action in `actions` not yet taken for the run (alerts are
    delivered by `alerts`), and return those taken now, in `_ORDER`.

    Each action, its `MonitoringActionTaken` event and the mark that it was taken commit in
    one unit of work (the registry's own changes join it), so a run resumed after a crash
    takes each action exactly once.
    """
    chosen = sorted(
        (a for a in actions if a.kind is not ActionKind.ALERT),
        key=lambda action: _ORDER.get(action.kind, 3),
    )
    results: list[ActionResult] = []
    for action in chosen:
        step = str(action)
        with uows.read() as uow:
            if uow.monitoring.step_taken(request.run_id, step) is not None:
                continue
        trained: Any = None
        if action.kind is ActionKind.RETRAIN:
            trained = awaiting_candidate(registry, request) or train(pipelines, request)
        with uows() as uow:
            if uow.monitoring.step_taken(request.run_id, step) is not None:
                continue  # another process took it meanwhile
            result = _take_one(uow, registry, pipelines, action, request, reason, trained)
            uow.record(
                NewEvent.of(
                    MonitoringActionTaken(
                        request.model, request.run_id, step, result.outcome, result.detail
                    ),
                    actor=ACTOR,
                    subject=model_subject(request.model),
                    rationale=f"{reason}; {step} {result.outcome}: {result.detail}",
                )
            )
            uow.monitoring.mark_step(request.run_id, step, result.outcome, now)
        results.append(result)
    return results


def _take_one(
    uow: UnitOfWork,
    registry: ModelRegistry,
    pipelines: Mapping[str, str],
    action: Action,
    request: RetrainingRequest,
    reason: str,
    trained: Any,
) -> ActionResult:
    """Take one action through the registry, inside the caller's unit of work."""
    if action.kind is ActionKind.FREEZE:
        return freeze(registry, request.model, reason)
    if action.kind is ActionKind.ROLLBACK:
        return rollback(registry, request.model, reason)
    if action.kind is ActionKind.RETRAIN:
        if isinstance(trained, ActionResult):
            return trained
        return register_retrained(registry, pipelines[request.model], request, trained, uow)
    return ActionResult(
        str(action), "done", "investigation asked: the incident of this run carries it"
    )
