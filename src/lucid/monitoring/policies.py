"""A model's monitoring policy: the stored one (else the generic policy alerting the
model's owner), and its replacement under the threshold-change rule, recorded with why."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from lucid.contracts.events import NewEvent
from lucid.contracts.identities import normalise_identity
from lucid.contracts.monitoring_events import MonitoringPolicySet
from lucid.contracts.registry_events import model_subject
from lucid.contracts.validity.generic_policy import generic_policy
from lucid.contracts.validity.policy import MonitoringPolicy, ThresholdApproval, ThresholdChanged
from lucid.contracts.value import text, validate_model_name
from lucid.errors import Conflict, Forbidden, NotFound
from lucid.monitoring.policy_columns import check_columns, known_columns
from lucid.monitoring.source_health import check_sources, pinned_sources
from lucid.ports.unit_of_work import UnitOfWork, UnitsOfWork


def policy_of(uows: UnitsOfWork, model: str) -> MonitoringPolicy:
    """The stored policy of `model`, else the generic policy alerting its owner."""
    validate_model_name(model)
    with uows.read() as uow:
        stored = uow.monitoring.stored_policy(model)
        if stored is not None:
            return stored
        pins = [pin for version in uow.models.versions(model) for pin in version.features]
        watched = bool(pins) and bool(pinned_sources(uow, pins))
        return generic_policy(model, owner_of(uow, model), sources=watched)


def owner_of(uow: UnitOfWork, model: str) -> str:
    """Who owns `model`: the person who registered its first version; a model monitored
    without being registered is owned by the team that logs its predictions, `ml_team`."""
    try:
        return uow.models.get(model, 1).registered_by
    except NotFound:
        return UNREGISTERED_OWNER


UNREGISTERED_OWNER = "ml_team"


def default_policy_notice(uows: UnitsOfWork, model: str) -> str | None:
    """The sentence registration says when `model` has no stored policy, else None."""
    policy = policy_of(uows, model)
    with uows.read() as uow:
        if uow.monitoring.stored_policy(model) is not None:
            return None
    return (
        f"no monitoring policy given: {model} gets the generic policy (PSI and data health "
        f"on every feature, daily), alerts go to {', '.join(policy.reporting.stakeholders)}"
    )


def set_policy(
    uows: UnitsOfWork,
    policy: MonitoringPolicy,
    *,
    actor: str,
    rationale: str,
    approvals: Sequence[ThresholdApproval],
    now: datetime,
) -> MonitoringPolicy:
    """Store `policy` for its model. The first policy of a model is stored as given; a
    replacement goes through the threshold-change rule for every changed threshold
    (`ThresholdChanged` each), and adding or removing thresholds or changing reporting
    needs the same approvals: every team named by the old or new policy, never by the
    proposer. A threshold naming a column the model does not have is refused
    (`policy_columns`), and so is a source the feature store does not have
    (`source_health.check_sources`)."""
    who, why = normalise_identity(actor, "actor"), text(rationale, "rationale")
    validate_model_name(policy.model)
    subject = model_subject(policy.model)
    with uows() as uow:
        check_columns(policy, known_columns(uow, policy.model))
        check_sources(policy, uow.features.sources())
        stored = uow.monitoring.stored_policy(policy.model)
        news: list[NewEvent] = []
        if stored is not None:
            changes = _threshold_changes(stored, policy, who, why, approvals)
            news += [NewEvent.of(c, actor=who, subject=subject, rationale=why) for c in changes]
        news.append(
            NewEvent.of(
                MonitoringPolicySet(
                    policy.model,
                    policy.to_mapping(),
                    None if stored is None else stored.to_mapping(),
                    [{"team": a.team, "person": a.person} for a in approvals],
                ),
                actor=who,
                subject=subject,
                rationale=why,
            )
        )
        uow.monitoring.save_policy(policy, by=who, at=now)
        uow.record_many(news)
    return policy


def _threshold_changes(
    stored: MonitoringPolicy,
    policy: MonitoringPolicy,
    proposer: str,
    rationale: str,
    approvals: Sequence[ThresholdApproval],
) -> list[ThresholdChanged]:
    """The `ThresholdChanged` event of every changed threshold, each through the policy's
    rule; refused when the rest of the change lacks an approval."""
    if stored == policy:
        raise Conflict(f"The policy of {policy.model} is unchanged; nothing to record.")
    old_keys = {t.key for t in stored.thresholds}
    working = stored
    changes: list[ThresholdChanged] = []
    for threshold in policy.thresholds:
        if threshold.key in old_keys and threshold not in stored.thresholds:
            working, changed = working.change_threshold(
                threshold, proposer=proposer, rationale=rationale, approvals=approvals
            )
            changes.append(changed)
    if working != policy:
        _require_approvals(stored, policy, proposer, approvals)
    return changes


def _require_approvals(
    old: MonitoringPolicy,
    new: MonitoringPolicy,
    proposer: str,
    approvals: Sequence[ThresholdApproval],
) -> None:
    self_approved = sorted({a.team for a in approvals if a.person == proposer})
    if self_approved:
        raise Forbidden(
            f"{proposer} proposed the policy change of {new.model} and cannot approve it for "
            f"{', '.join(self_approved)}: nobody approves their own change."
        )
    teams = sorted(set(old.approving_teams) | set(new.approving_teams))
    approved = {a.team for a in approvals}
    missing = [team for team in teams if team not in approved]
    if missing:
        raise Forbidden(
            f"The policy change of {new.model} needs the approval of {', '.join(missing)}: every "
            "team the old or new policy names must approve it."
        )
