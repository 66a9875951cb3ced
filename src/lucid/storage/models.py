"""The stored models on SQLAlchemy (`lucid.ports.models.ModelRepository`): registered models,
their versions and the business observations made of them."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, RowMapping, func, insert, select, update

from lucid.contracts.value.evidence import Evidence
from lucid.contracts.value.impact import BusinessImpact
from lucid.contracts.value.names import validate_model_name
from lucid.contracts.value.request_inputs import read_request_inputs
from lucid.contracts.value.stages import Stage
from lucid.contracts.value.versions import (
    ArtifactKind,
    ArtifactRef,
    ModelSummary,
    ModelVersion,
    Observation,
)
from lucid.errors import Conflict, LucidError, NotFound
from lucid.storage.tables import business_observations, model_versions, registered_models


class SqlModelRepository:
    """Model versions, stages, contracts, evidence, freezes and observations on one
    transaction's connection."""

    def __init__(self, connection: Connection) -> None:
        self._conn = connection

    # -- versions ---------------------------------------------------------------------------

    def get(self, name: str, version: int | None = None) -> ModelVersion:
        return _parse(self._row(name, version))

    def gate_inputs(self, name: str, version: int) -> tuple[Stage, str, ModelVersion | None]:
        row = self._row(name, version)
        current = _parse(row) if _stored_impact(row) is not None else None
        return Stage(row["stage"]), str(row["registered_by"]), current

    def versions(self, name: str) -> list[ModelVersion]:
        rows = self._conn.execute(
            select(model_versions)
            .where(model_versions.c.name == name)
            .order_by(model_versions.c.version)
        ).mappings()
        return [_parse(row) for row in rows]

    def latest_number(self, name: str) -> int | None:
        latest = self._conn.execute(
            select(func.max(model_versions.c.version)).where(model_versions.c.name == name)
        ).scalar_one()
        return None if latest is None else int(latest)

    def add_model(self, name: str, created_at: str) -> None:
        self._conn.execute(
            insert(registered_models).values(name=name, created_at=created_at, frozen_reason=None)
        )

    def add_version(self, version: ModelVersion) -> None:
        self._conn.execute(
            insert(model_versions).values(
                name=version.name,
                version=version.version,
                stage=version.stage.value,
                artifact_kind=version.artifact.kind.value,
                artifact_location=version.artifact.location,
                artifact_sha256=version.artifact.sha256,
                features=json.dumps(list(version.features)),
                inputs=None if version.inputs is None else json.dumps(list(version.inputs)),
                training_data=version.training_data,
                offline_metrics=json.dumps(dict(version.offline_metrics), sort_keys=True),
                impact=json.dumps(version.impact.to_dict(), sort_keys=True),
                evidence=_stored_evidence(version.evidence),
                registered_by=version.registered_by,
                registered_at=version.registered_at,
                rationale=version.rationale,
                production_seq=None,
                rolled_back=version.rolled_back,
                request_inputs=(
                    json.dumps([spec.to_dict() for spec in version.request_inputs])
                    if version.request_inputs
                    else None
                ),
            )
        )

    def set_evidence(self, name: str, version: int, evidence: Sequence[Evidence]) -> None:
        self._update_version(name, version, evidence=_stored_evidence(evidence))

    def set_stage(
        self, name: str, version: int, stage: Stage, *, production_seq: int | None = None
    ) -> None:
        values: dict[str, Any] = {"stage": stage.value}
        if production_seq is not None:
            values["production_seq"] = production_seq
        self._update_version(name, version, **values)

    def retire_rolled_back(self, name: str, version: int) -> None:
        self._update_version(name, version, stage=Stage.ARCHIVED.value, rolled_back=True)

    # -- production -------------------------------------------------------------------------

    def production(self, name: str) -> int | None:
        found = self._conn.execute(
            select(model_versions.c.version).where(
                model_versions.c.name == name, model_versions.c.stage == Stage.PRODUCTION.value
            )
        ).scalar()
        return None if found is None else int(found)

    def previous_production(self, name: str, serving: int) -> int | None:
        previous = self._conn.execute(
            select(model_versions.c.version)
            .where(
                model_versions.c.name == name,
                model_versions.c.version != serving,
                model_versions.c.stage == Stage.ARCHIVED.value,
                model_versions.c.production_seq.is_not(None),
                model_versions.c.rolled_back.is_(False),
            )
            .order_by(model_versions.c.production_seq.desc())
            .limit(1)
        ).scalar()
        return None if previous is None else int(previous)

    def production_contracts(self) -> list[BusinessImpact | None]:
        rows = self._conn.execute(
            select(model_versions.c.impact).where(model_versions.c.stage == Stage.PRODUCTION.value)
        ).mappings()
        return [_stored_impact(row) for row in rows]

    # -- models -----------------------------------------------------------------------------

    def summaries(self) -> list[ModelSummary]:
        models = self._conn.execute(
            select(registered_models.c.name, registered_models.c.frozen_reason).order_by(
                registered_models.c.name
            )
        ).all()
        counts: dict[str, int] = dict(
            self._conn.execute(
                select(model_versions.c.name, func.count()).group_by(model_versions.c.name)
            ).all()
        )
        serving = dict(
            self._conn.execute(
                select(model_versions.c.name, model_versions.c.version).where(
                    model_versions.c.stage == Stage.PRODUCTION.value
                )
            ).all()
        )
        return [
            ModelSummary(name, int(counts.get(name, 0)), serving.get(name), frozen)
            for name, frozen in models
        ]

    def frozen_reason(self, name: str) -> str | None:
        validate_model_name(name)
        row = self._conn.execute(
            select(registered_models.c.frozen_reason).where(registered_models.c.name == name)
        ).first()
        if row is None:
            raise NotFound(f"No model named {name} is registered.")
        return None if row[0] is None else str(row[0])

    def set_frozen(self, name: str, reason: str | None, by: str | None) -> None:
        self._conn.execute(
            update(registered_models)
            .where(registered_models.c.name == name)
            .values(frozen_reason=reason, frozen_by=by)
        )

    # -- observations -----------------------------------------------------------------------

    def add_observation(self, observation: Observation, observed_by: str, event_seq: int) -> None:
        self._conn.execute(
            insert(business_observations).values(
                name=observation.name,
                version=observation.version,
                metric=observation.metric,
                value=observation.value,
                period=observation.period,
                observed_at=observation.observed_at,
                observed_by=observed_by,
                event_seq=event_seq,
            )
        )

    def observations(self, name: str, version: int | None = None) -> list[Observation]:
        query = select(business_observations).where(business_observations.c.name == name)
        if version is not None:
            query = query.where(business_observations.c.version == version)
        rows = self._conn.execute(query.order_by(business_observations.c.id)).mappings().all()
        return [
            Observation(
                r["name"], r["version"], r["metric"], r["value"], r["period"], r["observed_at"]
            )
            for r in rows
        ]

    def latest_observations(self, name: str, version: int) -> dict[str, tuple[float, str]]:
        rows = self._conn.execute(
            select(
                business_observations.c.metric,
                business_observations.c.value,
                business_observations.c.period,
            )
            .where(business_observations.c.name == name, business_observations.c.version == version)
            .order_by(business_observations.c.id)
        ).all()
        return {metric: (float(value), period) for metric, value, period in rows}

    # -- rows -------------------------------------------------------------------------------

    def _row(self, name: str, version: int | None) -> RowMapping:
        validate_model_name(name)
        query = select(model_versions).where(model_versions.c.name == name)
        if version is None:
            query = query.order_by(model_versions.c.version.desc()).limit(1)
        else:
            query = query.where(model_versions.c.version == version)
        row = self._conn.execute(query).mappings().first()
        if row is None:
            exists = self._conn.execute(
                select(registered_models.c.name).where(registered_models.c.name == name)
            ).first()
            if exists is None:
                raise NotFound(f"No model named {name} is registered.")
            raise NotFound(f"{name} has no version {version}.")
        return row

    def _update_version(self, name: str, version: int, **values: Any) -> None:
        self._conn.execute(
            update(model_versions)
            .where(model_versions.c.name == name, model_versions.c.version == version)
            .values(**values)
        )


def _parse(row: RowMapping) -> ModelVersion:
    impact = _stored_impact(row)
    if impact is None:
        raise Conflict(
            f"{row['name']}@{row['version']} has no valid business-impact contract stored."
        )
    evidence = _read_evidence(row["evidence"])
    return ModelVersion(
        name=row["name"],
        version=int(row["version"]),
        stage=Stage(row["stage"]),
        artifact=ArtifactRef(
            ArtifactKind(row["artifact_kind"]), row["artifact_location"], row["artifact_sha256"]
        ),
        features=tuple(json.loads(row["features"])),
        inputs=None if row["inputs"] is None else tuple(json.loads(row["inputs"])),
        training_data=row["training_data"],
        offline_metrics=json.loads(row["offline_metrics"]),
        impact=impact,
        evidence=evidence,
        registered_by=row["registered_by"],
        registered_at=row["registered_at"],
        rationale=row["rationale"],
        rolled_back=bool(row["rolled_back"]),
        request_inputs=read_request_inputs(json.loads(row["request_inputs"] or "[]")),
    )


def _stored_impact(row: RowMapping) -> BusinessImpact | None:
    """The contract stored with a version, or None when it is missing or does not hold."""
    try:
        return BusinessImpact.from_mapping(json.loads(row["impact"] or "null"))
    except (LucidError, ValueError, TypeError):
        return None


def _stored_evidence(evidence: Sequence[Evidence]) -> str | None:
    """The records as a JSON list; None for none."""
    return json.dumps([e.to_dict() for e in evidence], sort_keys=True) if evidence else None


def _read_evidence(stored: str | None) -> tuple[Evidence, ...]:
    """The stored records; a single JSON object (one record) reads as a list of one."""
    if not stored:
        return ()
    raw = json.loads(stored)
    records = raw if isinstance(raw, list) else [raw]
    return tuple(Evidence.from_mapping(record) for record in records)
