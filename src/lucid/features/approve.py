"""Governance of a proposed definition: a team's approval, the last of which makes it
canonical (superseding the earlier approved version), and deprecation.

Each reads the stored state, decides with the rules of `contracts.semantic.governance`, then
writes its rows and records its events in one unit of work: a refusal leaves nothing behind,
and no two approvals race past the one-canonical-per-concept rule.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from lucid.contracts.events import NewEvent, Subject
from lucid.contracts.identities import normalise_identity
from lucid.contracts.semantic.events import (
    FeatureApprovalGiven,
    FeatureApproved,
    FeatureDeprecated,
)
from lucid.contracts.semantic.governance import (
    Approval,
    Governed,
    Status,
    check_approval,
    check_canonical,
)
from lucid.contracts.semantic.versions import FeatureRef
from lucid.errors import Conflict, NotFound
from lucid.ports.features import FeatureRepository
from lucid.ports.unit_of_work import UnitsOfWork


def feature_subject(ref: FeatureRef) -> Subject:
    return Subject("feature", str(ref))


def _stored(features: FeatureRepository, ref: FeatureRef) -> Governed:
    governed = features.find(ref)
    if governed is None:
        raise NotFound(f"Feature {ref} is not stored.")
    return governed


def approve(
    uows: UnitsOfWork,
    reference: str,
    *,
    team: str,
    person: str,
    rationale: str,
    clock: Callable[[], datetime],
) -> Governed:
    """Record `team`'s approval; the last required one makes the definition canonical."""
    ref = FeatureRef.parse(reference)
    person = normalise_identity(person, "approver")
    with uows() as uow:
        governed = _stored(uow.features, ref)
        completes = check_approval(governed, team, person)
        superseded: list[Governed] = []
        if completes:
            others = uow.features.governed(concept=governed.definition.concept)
            superseded = check_canonical(governed, [g for g in others if g != governed])
        at = clock()
        approval = Approval(team, person)
        uow.features.add_approval(ref, approval, rationale=rationale, at=at)
        approvals = (*governed.approvals, approval)
        given = {a.team for a in approvals}
        missing = [t for t in governed.definition.required_approvals if t not in given]
        news = [
            NewEvent.of(
                FeatureApprovalGiven(
                    name=ref.name,
                    version=str(ref.version),
                    team=team,
                    person=person,
                    missing_teams=missing,
                ),
                actor=person,
                subject=feature_subject(ref),
                rationale=rationale,
                occurred_at=clock(),
            )
        ]
        if completes:
            news += _make_canonical(
                uow.features, governed, approvals, superseded, person, rationale, at, clock
            )
        uow.record_many(news)
    status = Status.APPROVED if completes else Status.PROPOSED
    return Governed(governed.definition, status, governed.proposed_by, approvals)


def _make_canonical(
    features: FeatureRepository,
    governed: Governed,
    approvals: tuple[Approval, ...],
    superseded: list[Governed],
    person: str,
    rationale: str,
    at: datetime,
    clock: Callable[[], datetime],
) -> list[NewEvent]:
    """Deprecate the versions `governed` supersedes and approve it: the rows, and the events."""
    ref = governed.definition.ref
    news = []
    for old in superseded:
        features.set_status(old.definition.ref, Status.DEPRECATED, at=at)
        news.append(
            NewEvent.of(
                FeatureDeprecated(
                    name=old.definition.name,
                    version=str(old.definition.version),
                    previous_status=old.status.value,
                    superseded_by=str(ref),
                ),
                actor=person,
                subject=feature_subject(old.definition.ref),
                rationale=f"superseded by {ref}, approved by every required team",
                occurred_at=clock(),
            )
        )
    features.set_status(ref, Status.APPROVED, at=at)
    news.append(
        NewEvent.of(
            FeatureApproved(
                name=ref.name,
                version=str(ref.version),
                concept=governed.definition.concept,
                fingerprint=governed.definition.fingerprint,
                approvals=[{"team": a.team, "person": a.person} for a in approvals],
            ),
            actor=person,
            subject=feature_subject(ref),
            rationale=f"approved by {_teams(approvals)}: {rationale}",
            occurred_at=clock(),
        )
    )
    return news


def deprecate(
    uows: UnitsOfWork,
    reference: str,
    *,
    actor: str,
    rationale: str,
    clock: Callable[[], datetime],
) -> None:
    """Retire a definition: it no longer speaks for its concept; its history stays."""
    ref = FeatureRef.parse(reference)
    with uows() as uow:
        governed = _stored(uow.features, ref)
        if governed.status is Status.DEPRECATED:
            raise Conflict(f"{ref} is already deprecated.")
        uow.features.set_status(ref, Status.DEPRECATED, at=clock())
        uow.record(
            NewEvent.of(
                FeatureDeprecated(
                    name=ref.name,
                    version=str(ref.version),
                    previous_status=governed.status.value,
                    superseded_by=None,
                ),
                actor=actor,
                subject=feature_subject(ref),
                rationale=rationale,
                occurred_at=clock(),
            )
        )


def _teams(approvals: tuple[Approval, ...]) -> str:
    return ", ".join(approval.team for approval in approvals)
