"""The promotion gate at work: evidence attached to a version, a version moved up a stage,
a version retired.

Every refusal raises before anything is written. Called inside a caller's unit of work, each
verb joins it, so what the caller records with it (e.g. `ModelDeployed`) commits with it or
not at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from lucid.contracts.events import RecordedEvent
from lucid.contracts.identities import normalise_identity
from lucid.contracts.registry_events import (
    EvidenceAttached,
    ModelArchived,
    ModelPromoted,
    PromotionOverridden,
)
from lucid.contracts.value.evidence import Evidence
from lucid.contracts.value.external import read_external_evidence
from lucid.contracts.value.fields import text
from lucid.contracts.value.gate import GateDecision, Override, promotion_gate
from lucid.contracts.value.rule import Origin
from lucid.contracts.value.stages import Stage, check_transition
from lucid.contracts.value.versions import ArtifactKind, ModelVersion
from lucid.errors import Conflict, InvalidInput, LucidError
from lucid.ports.unit_of_work import UnitOfWork
from lucid.registry import model_artifacts
from lucid.registry.dependencies import RegistryDependencies, record


class Promotion(RegistryDependencies):
    """`attach_evidence` (external), `attach_produced_evidence` (Lucid's own), `promote`
    and `archive`."""

    def attach_evidence(
        self,
        name: str,
        version: int,
        evidence: Evidence | Mapping[str, Any],
        *,
        actor: str,
        rationale: str,
    ) -> ModelVersion:
        """Attach evidence produced outside Lucid to a version; the gate judges it at
        promotion. A mapping is checked against the schema of `docs/evidence.md` (every
        problem in one refusal); the record is always marked external, an `Evidence` object
        too. It replaces the version's earlier record of the same kind and metric."""
        if isinstance(evidence, Evidence):
            record = replace(evidence, origin=Origin.EXTERNAL, produced_at=None)
        elif isinstance(evidence, Mapping):
            record = read_external_evidence(evidence)
        else:
            raise InvalidInput("evidence", f"must be an evidence record, not {evidence!r}")
        return self._attach(name, version, record, actor=actor, rationale=rationale)

    def attach_produced_evidence(
        self, name: str, version: int, evidence: Evidence, *, actor: str, rationale: str
    ) -> ModelVersion:
        """Attach a record Lucid's own use cases produced (an experiment concluded, a shadow
        comparison), kept as it is; inside an open unit of work it joins it. Never reachable
        from a user's input: the CLI, HTTP and SDK attach through `attach_evidence`."""
        if not isinstance(evidence, Evidence):
            raise InvalidInput("evidence", "must be an evidence record")
        return self._attach(name, version, evidence, actor=actor, rationale=rationale)

    def _attach(
        self, name: str, version: int, evidence: Evidence, *, actor: str, rationale: str
    ) -> ModelVersion:
        who, why = normalise_identity(actor, "actor"), text(rationale, "rationale")
        with self._uows() as uow:
            current = uow.models.get(name, version)
            if current.stage is Stage.ARCHIVED:
                raise Conflict(f"{current.label} is archived; evidence can no longer help it.")
            uow.models.set_evidence(name, version, current.evidence_with(evidence))
            attached = EvidenceAttached(name, version, evidence.to_dict())
            record(uow, attached, who, why, self._clock())
            return uow.models.get(name, version)

    def promote(
        self,
        name: str,
        version: int,
        to: Stage | str,
        *,
        actor: str,
        rationale: str,
        override: Override | None = None,
    ) -> ModelVersion:
        """Move a version up a stage through the promotion gate (see `promotion_gate`). A
        version Lucid serves itself is loaded first: one it cannot load is refused.

        Entering production archives the version that served before, in the same unit of work.
        """
        promoted, _ = self.promote_with_event(
            name, version, to, actor=actor, rationale=rationale, override=override
        )
        return promoted

    def promote_with_event(
        self,
        name: str,
        version: int,
        to: Stage | str,
        *,
        actor: str,
        rationale: str,
        override: Override | None = None,
    ) -> tuple[ModelVersion, RecordedEvent]:
        """`promote`, also answering its recorded `ModelPromoted` event (its time and seq are
        what a deployment recorded in the same unit of work refers to)."""
        wanted = _stage(to)
        if wanted is Stage.ARCHIVED:
            raise InvalidInput("to", "a version is retired with archive, not promoted to archived")
        who, why = normalise_identity(actor, "actor"), text(rationale, "rationale")
        now = self._clock()
        skew: dict[str, float] | None = None
        with self._uows.read() as uow:
            _, _, candidate = uow.models.gate_inputs(name, version)
        if candidate is not None:  # without its contract, the gate refuses it below
            self._check_servable(candidate, wanted)
            if wanted is Stage.PRODUCTION and self._features is not None:
                skew = self._features.skew(list(candidate.features))
        with self._uows() as uow:
            frozen_reason = uow.models.frozen_reason(name)
            stage, registered_by, current = uow.models.gate_inputs(name, version)
            serving = uow.models.production(name) if wanted is Stage.PRODUCTION else None
            decision = promotion_gate(
                version_label=f"{name}@{version}",
                current=stage,
                wanted=wanted,
                impact=current.impact if current else None,
                evidence=current.evidence if current else (),
                production_label=None if serving is None else f"{name}@{serving}",
                frozen_reason=frozen_reason,
                override=override,
                approvers=self._approvers,
                registered_by=registered_by,
                feature_skew=skew,
                skew_limit=self._skew_limit,
            )
            recorded = self._move(
                uow, name, version, stage, wanted, decision, override, who, why, now
            )
            return uow.models.get(name, version), recorded

    def _check_servable(self, candidate: ModelVersion, wanted: Stage) -> None:
        """Load a version Lucid would serve itself; refuse, with the reason and the way out,
        to promote one it cannot load. A version served elsewhere is never loaded."""
        if candidate.artifact.kind is ArtifactKind.EXTERNAL:
            return
        try:
            model_artifacts.load_runner(
                candidate.artifact, self._artifacts, allow_pickle=self._allow_pickle
            )
        except Exception as error:  # any failure to load: the flavour's sentence, or the error
            reason = error.sentence if isinstance(error, LucidError) else f"{error!r}"
            reason = reason.rstrip(".")
            way_out = "" if "served elsewhere" in reason else _way_out(candidate.artifact.kind)
            raise Conflict(
                f"{candidate.label} is not promoted to {wanted.value} because Lucid cannot "
                f"serve it: {reason[:1].lower()}{reason[1:]}{way_out}; nothing changed."
            ) from None

    def _move(
        self,
        uow: UnitOfWork,
        name: str,
        version: int,
        stage: Stage,
        wanted: Stage,
        decision: GateDecision,
        override: Override | None,
        who: str,
        why: str,
        now: datetime,
    ) -> RecordedEvent:
        """Write what the gate let through: the replaced version archived, the override and
        the promotion recorded, the version at its new stage."""
        replaced: int | None = None
        if wanted is Stage.PRODUCTION:
            replaced = uow.models.production(name)
            if replaced is not None:
                uow.models.set_stage(name, replaced, Stage.ARCHIVED)
        if override is not None and wanted is Stage.PRODUCTION:
            approver = override.approver
            overridden = PromotionOverridden(name, version, approver, decision.evidence_problem)
            record(uow, overridden, approver, override.rationale.strip(), now)
        promoted = ModelPromoted(
            name,
            version,
            stage.value,
            wanted.value,
            decision.basis,
            decision.summary,
            replaced,
            list(decision.evidence_digests),
        )
        recorded = record(uow, promoted, who, why, now)
        production_seq = recorded.seq if wanted is Stage.PRODUCTION else None
        uow.models.set_stage(name, version, wanted, production_seq=production_seq)
        return recorded

    def archive(self, name: str, version: int, *, actor: str, rationale: str) -> ModelVersion:
        """Retire a candidate or challenger; the serving version leaves only by replacement or
        rollback."""
        who, why = normalise_identity(actor, "actor"), text(rationale, "rationale")
        with self._uows() as uow:
            current, _, _ = uow.models.gate_inputs(name, version)
            if current is Stage.PRODUCTION:
                raise Conflict(
                    f"{name}@{version} serves production; promote another version or roll back "
                    "instead; nothing changed."
                )
            check_transition(current, Stage.ARCHIVED, f"{name}@{version}")
            uow.models.set_stage(name, version, Stage.ARCHIVED)
            record(uow, ModelArchived(name, version, current.value), who, why, self._clock())
            return uow.models.get(name, version)


def _way_out(kind: ArtifactKind) -> str:
    """What a team can do with a version Lucid cannot load, by its kind."""
    instead = {
        ArtifactKind.HUGGINGFACE: "a folder exported with `optimum-cli export onnx --model "
        "<id> <folder>/` (its model.onnx and tokenizer.json)",
        ArtifactKind.MLFLOW: "an ONNX export of it",
        ArtifactKind.SKLEARN: "a skops file of it",
    }.get(kind, "a model file Lucid serves")
    return f"; register it as served elsewhere (--kind external) or register {instead}"


def _stage(value: Stage | str) -> Stage:
    try:
        return Stage(value)
    except ValueError:
        stages = ", ".join(stage.value for stage in Stage)
        raise InvalidInput("to", f"must be one of {stages}, not {value!r}") from None
