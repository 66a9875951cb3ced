"""Registering a model version: no version without a business-impact contract, and the
model's inputs must match the features it pins (`model_signature`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from lucid.contracts.events import format_time
from lucid.contracts.identities import normalise_identity
from lucid.contracts.registry_events import ModelRegistered
from lucid.contracts.value.fields import finite, text
from lucid.contracts.value.impact import BusinessImpact
from lucid.contracts.value.names import validate_model_name, validate_pinned_feature
from lucid.contracts.value.request_inputs import RequestInput, read_request_inputs
from lucid.contracts.value.stages import Stage
from lucid.contracts.value.versions import ArtifactRef, ModelVersion
from lucid.errors import InvalidInput
from lucid.registry import model_artifacts
from lucid.registry.dependencies import RegistryDependencies, record
from lucid.registry.model_artifacts import Artifact
from lucid.registry.model_signature import feature_name, input_order


class Registration(RegistryDependencies):
    """`register_model`: the next version of a model, as a candidate."""

    def register_model(
        self,
        name: str,
        *,
        artifact: Artifact,
        impact: BusinessImpact | None,
        features: Sequence[str],
        training_data: str,
        offline_metrics: Mapping[str, float],
        registered_by: str,
        rationale: str,
        request_inputs: Iterable[RequestInput | Mapping[str, Any]] | None = None,
    ) -> ModelVersion:
        """Register the next version of `name` as a candidate; refused without a contract, or
        when the model's inputs differ from the pinned features and the `request_inputs`
        together (`model_signature`). `request_inputs` declare the values each request gives
        (`RequestInput`s or mappings of their fields). Called
        inside a caller's unit of work, it joins it: a caller's own record of it commits with
        it or not at all."""
        validate_model_name(name)
        contract = _required(impact)
        pins = self._checked_pins(features)
        asked = read_request_inputs(request_inputs, [feature_name(pin) for pin in pins])
        asked_names = [spec.name for spec in asked]
        training = text(training_data, "training_data")
        metrics = _metrics(offline_metrics)
        who = normalise_identity(registered_by, "registered_by")
        why = text(rationale, "rationale")
        prepared = model_artifacts.prepare(artifact, self._hub, allow_pickle=self._allow_pickle)
        inputs = input_order(prepared.signature, pins, asked_names)
        now = self._clock()
        written: ArtifactRef | None = None
        try:
            with self._uows() as uow:
                latest = uow.models.latest_number(name)
                number = (latest or 0) + 1
                if latest is None:
                    uow.models.add_model(name, format_time(now))
                written = model_artifacts.store(prepared, self._artifacts, name, number)
                if prepared.load_once_stored:  # a pickle: unpickled from the store only
                    signature = model_artifacts.stored_signature(
                        written, self._artifacts, self._allow_pickle
                    )
                    inputs = input_order(signature, pins, asked_names)
                version = ModelVersion(
                    name=name,
                    version=number,
                    stage=Stage.CANDIDATE,
                    artifact=written,
                    features=tuple(pins),
                    inputs=None if inputs is None else tuple(inputs),
                    training_data=training,
                    offline_metrics=metrics,
                    impact=contract,
                    evidence=(),
                    registered_by=who,
                    registered_at=format_time(now),
                    rationale=why,
                    rolled_back=False,
                    request_inputs=asked,
                )
                uow.models.add_version(version)
                record(uow, _registered(version), who, why, now)
                return uow.models.get(name, number)
        except BaseException:
            if written is not None and prepared.data is not None:
                self._artifacts.delete(written.location)
            raise

    def _checked_pins(self, features: Sequence[str]) -> list[str]:
        pins = [validate_pinned_feature(pin) for pin in features]
        if self._features is not None:
            pins = self._features.check_pins(pins)
        if len(set(pins)) != len(pins):
            raise InvalidInput("features", "each pinned feature may be listed once")
        return pins


def _required(impact: BusinessImpact | None) -> BusinessImpact:
    if not isinstance(impact, BusinessImpact):
        raise InvalidInput(
            "contract",
            "a model version is never registered without a business-impact contract "
            "(metric, direction, baseline, target, measurement period, rollback threshold, "
            "rationale)",
        )
    return impact


def _metrics(offline_metrics: Mapping[str, float]) -> dict[str, float]:
    return {
        text(key, "offline_metrics"): finite(value, f"offline_metrics.{key}")
        for key, value in offline_metrics.items()
    }


def _registered(version: ModelVersion) -> ModelRegistered:
    return ModelRegistered(
        name=version.name,
        version=version.version,
        artifact=version.artifact.to_dict(),
        features=list(version.features),
        training_data=version.training_data,
        offline_metrics=dict(version.offline_metrics),
        impact=version.impact.to_dict(),
        inputs=None if version.inputs is None else list(version.inputs),
        request_inputs=[spec.to_dict() for spec in version.request_inputs] or None,
    )
