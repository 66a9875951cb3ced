"""A/B experiments as use cases: create, log exposures and outcomes, analyse, conclude.

The control is the model's production version and the challenger a version at the challenger
stage; the metric, its direction and the guardrails are the challenger's impact contract. Each
change writes its rows and its event in one transaction under the event log's write lock, and
every batch is checked whole before anything is written: a refused batch stores nothing.
Concluding attaches the experiment's `Evidence` to the challenger in that same transaction.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from lucid.contracts.events import NewEvent, format_time
from lucid.contracts.experiments import (
    ARMS,
    CHALLENGER,
    CONTROL,
    DEFAULT_CHALLENGER_SHARE,
    Analysis,
    ArmCounts,
    Design,
    ExperimentConcluded,
    ExperimentCreated,
    ExposuresLogged,
    OutcomesLogged,
    analyse,
    assign,
    evidence_of,
    experiment_subject,
    validate_experiment_id,
)
from lucid.contracts.times import utc_text
from lucid.contracts.value import Evidence, Stage, finite, text
from lucid.errors import Conflict, InvalidInput, NotFound
from lucid.registry.model_registry import ModelRegistry
from lucid.storage.database import Database
from lucid.storage.event_log import EVENT_LOCK, SqlEventLog
from lucid.storage.tables import experiment_exposures, experiment_outcomes, experiments

RUNNING = "running"
CONCLUDED = "concluded"
_CHUNK = 500


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Served:
    """One prediction served inside an experiment: who, which arm and version, what."""

    entity_id: str
    arm: str
    version: int
    prediction: Any


class Experiments:
    """A/B experiments between a model's production version and a challenger."""

    def __init__(
        self,
        db: Database,
        events: SqlEventLog,
        registry: ModelRegistry,
        *,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self._db = db
        self._events = events
        self._registry = registry
        self._clock = clock

    # -- designing ---------------------------------------------------------------------------

    def create(
        self,
        experiment_id: str,
        *,
        model: str,
        challenger: int,
        minimum_detectable_effect: float,
        actor: str,
        rationale: str,
        baseline_rate: float | None = None,
        salt: str | None = None,
        challenger_share: float = DEFAULT_CHALLENGER_SHARE,
        alpha: float | None = None,
        power: float = 0.8,
        sequential: bool = False,
    ) -> Design:
        """Design an experiment of `model`'s challenger version against its production version.

        `baseline_rate` defaults to the contract's baseline (a rate in (0, 1)); `alpha` to the
        contract's; `salt` to the experiment id; `minimum_detectable_effect` is absolute, in
        rate units (0.02 = two points).
        """
        validate_experiment_id(experiment_id)
        who, why = text(actor, "actor"), text(rationale, "rationale")
        production = self._registry.production_version(model)
        candidate = self._registry.get_version(model, challenger)
        if production is None:
            raise Conflict(
                f"{model} has no production version to serve as the control; nothing changed."
            )
        if candidate.stage is not Stage.CHALLENGER:
            raise Conflict(
                f"challenger: {candidate.label} is {candidate.stage.value}; only a version at the "
                "challenger stage may be tested against production; nothing changed."
            )
        impact = candidate.impact
        design = Design(
            experiment_id=experiment_id,
            model=model,
            control_version=production.version,
            challenger_version=challenger,
            metric=impact.metric,
            direction=impact.direction,
            guardrails=impact.guardrails,
            salt=text(salt if salt is not None else experiment_id, "salt"),
            challenger_share=challenger_share,
            baseline_rate=impact.baseline if baseline_rate is None else baseline_rate,
            minimum_detectable_effect=minimum_detectable_effect,
            alpha=impact.alpha if alpha is None else alpha,
            power=power,
            sequential=bool(sequential),
        )
        minimum = design.minimum_sample()
        now = self._clock()
        with self._db.locked_transaction(EVENT_LOCK) as conn:
            exists = conn.execute(
                select(experiments.c.id).where(experiments.c.id == experiment_id)
            ).first()
            if exists is not None:
                raise Conflict(f"experiment: {experiment_id} already exists; nothing changed.")
            conn.execute(
                insert(experiments).values(
                    id=experiment_id,
                    model=model,
                    control_version=design.control_version,
                    challenger_version=challenger,
                    design=json.dumps(design.to_dict(), sort_keys=True),
                    status=RUNNING,
                    created_at=format_time(now),
                    created_by=who,
                )
            )
            self._record(
                conn,
                ExperimentCreated(experiment_id, design.to_dict(), minimum.to_dict()),
                who,
                why,
                now,
            )
        return design

    # -- logging -----------------------------------------------------------------------------

    def expose(
        self, experiment_id: str, rows: Iterable[Mapping[str, Any]], *, actor: str
    ) -> dict[str, int]:
        """Log exposures (`entity_id`, optional `arm`, `version`, `exposed_at`).

        A given arm or version must be the entity's assigned one. An entity exposed before keeps
        its first exposure. Returns the new exposures per arm and the already-exposed count.
        """
        with self._db.locked_transaction(EVENT_LOCK) as conn:
            return self.expose_in(conn, experiment_id, rows, actor=actor)

    def expose_in(
        self, conn: Connection, experiment_id: str, rows: Iterable[Mapping[str, Any]], *, actor: str
    ) -> dict[str, int]:
        """`expose` inside the caller's transaction, which holds the event log's lock (the
        prediction journal writes a batch of served predictions' exposures this way). A
        refusal is raised before anything is written."""
        who = text(actor, "actor")
        now = self._clock()
        design = self._running(conn, experiment_id)
        batch: dict[str, tuple[str, int, str]] = {}
        for index, row in enumerate(rows):
            entity, arm, version, moment = self._exposure(design, row, index, now)
            batch.setdefault(entity, (arm, version, moment))
        if not batch:
            raise InvalidInput("exposures", "the batch holds no rows")
        seen = self._existing(conn, experiment_id, list(batch))
        new = [
            {
                "experiment_id": experiment_id,
                "entity_id": entity,
                "arm": arm,
                "version": version,
                "exposed_at": moment,
            }
            for entity, (arm, version, moment) in batch.items()
            if entity not in seen
        ]
        for start in range(0, len(new), _CHUNK * 10):
            conn.execute(insert(experiment_exposures), new[start : start + _CHUNK * 10])
        counts = {arm: sum(1 for row in new if row["arm"] == arm) for arm in ARMS}
        self._record(
            conn,
            ExposuresLogged(experiment_id, counts[CONTROL], counts[CHALLENGER], len(seen)),
            who,
            f"{len(new)} exposures logged",
            now,
        )
        return {**counts, "already_exposed": len(seen)}

    def record_outcomes(
        self, experiment_id: str, rows: Iterable[Mapping[str, Any]], *, actor: str
    ) -> dict[str, int]:
        """Log per-entity outcomes (`entity_id`, `value`, optional `metric`, `observed_at`).

        `metric` defaults to the contract's metric, whose value must be 0 or 1 (success);
        a guardrail metric takes any number. Every entity must have been exposed, and each
        (entity, metric) has one outcome. Returns how many outcomes were logged per metric.
        """
        who = text(actor, "actor")
        now = self._clock()
        with self._db.locked_transaction(EVENT_LOCK) as conn:
            design = self._running(conn, experiment_id)
            known = {design.metric, *(g.metric for g in design.guardrails)}
            batch: dict[tuple[str, str], dict[str, Any]] = {}
            for index, row in enumerate(rows):
                outcome = self._outcome(design, known, row, index, now)
                key = (outcome["entity_id"], outcome["metric"])
                if key in batch:
                    raise InvalidInput(
                        f"outcomes[{index}].entity_id",
                        f"{key[0]} has two {key[1]} outcomes in this batch; one per entity",
                    )
                batch[key] = {"experiment_id": experiment_id, **outcome}
            if not batch:
                raise InvalidInput("outcomes", "the batch holds no rows")
            entities = sorted({entity for entity, _ in batch})
            exposed = self._existing(conn, experiment_id, entities)
            missing = [entity for entity in entities if entity not in exposed]
            if missing:
                raise InvalidInput(
                    "outcomes.entity_id",
                    f"{len(missing)} entities were never exposed in {experiment_id} (first: "
                    f"{missing[0]}); an outcome counts only for an exposed entity, nothing stored",
                )
            for start in range(0, len(entities), _CHUNK):
                chunk = entities[start : start + _CHUNK]
                taken = conn.execute(
                    select(experiment_outcomes.c.entity_id, experiment_outcomes.c.metric).where(
                        experiment_outcomes.c.experiment_id == experiment_id,
                        experiment_outcomes.c.entity_id.in_(chunk),
                    )
                ).all()
                clash = next(((e, m) for e, m in taken if (e, m) in batch), None)
                if clash is not None:
                    raise Conflict(
                        f"outcomes.entity_id: {clash[0]} already has a {clash[1]} outcome in "
                        f"{experiment_id}; one per entity, nothing stored."
                    )
            values = list(batch.values())
            for start in range(0, len(values), _CHUNK * 10):
                conn.execute(insert(experiment_outcomes), values[start : start + _CHUNK * 10])
            counts: dict[str, int] = {}
            for _, metric in batch:
                counts[metric] = counts.get(metric, 0) + 1
            self._record(
                conn,
                OutcomesLogged(experiment_id, counts),
                who,
                f"{len(values)} outcomes logged",
                now,
            )
        return counts

    def serve(
        self,
        experiment_id: str,
        entity_ids: Sequence[str],
        *,
        actor: str,
        rows: Sequence[Mapping[str, float]] | None = None,
    ) -> list[Served]:
        """Predict for each entity with its assigned arm's version and log the exposures.

        Feature `rows` (one per entity, by feature name) are used when given; otherwise each
        version reads its pinned features from the online store (`ServedModel.for_entities`).
        The exposures are logged only once every prediction succeeded.
        """
        design = self.design(experiment_id)
        entities = [_entity(e, f"entity_ids[{i}]") for i, e in enumerate(entity_ids)]
        if rows is not None and len(rows) != len(entities):
            raise InvalidInput("rows", f"must hold one row per entity ({len(entities)})")
        by_arm: dict[str, list[int]] = {arm: [] for arm in ARMS}
        for index, entity in enumerate(entities):
            by_arm[assign(entity, design.salt, design.challenger_share)].append(index)
        predictions: dict[int, Any] = {}
        for arm, indexes in by_arm.items():
            if not indexes:
                continue
            model = self._registry.load_model(design.model, version=design.version_of(arm))
            if rows is None:
                found = model.for_entities([entities[i] for i in indexes])
            else:
                found = model([rows[i] for i in indexes])
            predictions.update(zip(indexes, found, strict=True))
        self.expose(experiment_id, [{"entity_id": e} for e in entities], actor=actor)
        arms = {i: arm for arm, indexes in by_arm.items() for i in indexes}
        return [
            Served(entity, arms[i], design.version_of(arms[i]), predictions[i])
            for i, entity in enumerate(entities)
        ]

    # -- deciding ----------------------------------------------------------------------------

    def design(self, experiment_id: str) -> Design:
        with self._db.transaction() as conn:
            return self._design(conn, experiment_id)[0]

    def status(self, experiment_id: str) -> Analysis:
        """The analysis at this look (see `lucid.contracts.experiments.analyse`)."""
        with self._db.transaction() as conn:
            return self._analyse(conn, self._design(conn, experiment_id)[0])

    def running_for(self, model: str) -> str | None:
        """The id of the newest running experiment of `model`, None when none runs (one read:
        the prediction path asks it on every request)."""
        with self._db.transaction() as conn:
            found = conn.execute(
                select(experiments.c.id)
                .where(experiments.c.model == model, experiments.c.status == RUNNING)
                .order_by(experiments.c.created_at.desc())
                .limit(1)
            ).scalar()
        return None if found is None else str(found)

    def overview(self) -> list[dict[str, Any]]:
        """Every experiment: its arms, status and decision, oldest first."""
        with self._db.transaction() as conn:
            rows = conn.execute(select(experiments).order_by(experiments.c.created_at)).mappings()
            return [
                {
                    "id": r["id"],
                    "model": r["model"],
                    "control_version": r["control_version"],
                    "challenger_version": r["challenger_version"],
                    "status": r["status"],
                    "decision": r["decision"],
                    "created_at": r["created_at"],
                }
                for r in rows
            ]

    def conclude(self, experiment_id: str, *, actor: str, rationale: str) -> Evidence:
        """Close the experiment and attach its evidence to the challenger, atomically.

        Refused while the analysis says `collecting` (a fixed-horizon design before both arms
        reached the minimum sample; a sequential one before that unless its always-valid
        p-value already fell to alpha) or `invalid` (sample-ratio mismatch).
        """
        who, why = text(actor, "actor"), text(rationale, "rationale")
        now = self._clock()
        with self._db.locked_transaction(EVENT_LOCK) as conn:
            design = self._running(conn, experiment_id)
            analysis = self._analyse(conn, design)
            if not analysis.can_conclude:
                raise Conflict(
                    f"{experiment_id} cannot be concluded: {analysis.reason}; nothing changed."
                )
            evidence = evidence_of(analysis)
            conn.execute(
                update(experiments)
                .where(experiments.c.id == experiment_id)
                .values(
                    status=CONCLUDED,
                    concluded_at=format_time(now),
                    decision=analysis.decision.value,
                    evidence=json.dumps(evidence.to_dict(), sort_keys=True),
                )
            )
            self._record(
                conn,
                ExperimentConcluded(
                    experiment_id, analysis.decision.value, analysis.to_dict(), evidence.to_dict()
                ),
                who,
                why,
                now,
            )
            self._registry.attach_evidence(
                design.model,
                design.challenger_version,
                evidence,
                actor=who,
                rationale=f"experiment {experiment_id} concluded: {analysis.reason}",
            )
        return evidence

    # -- rows --------------------------------------------------------------------------------

    def _design(self, conn: Connection, experiment_id: str) -> tuple[Design, str]:
        validate_experiment_id(experiment_id)
        row = conn.execute(
            select(experiments.c.design, experiments.c.status).where(
                experiments.c.id == experiment_id
            )
        ).first()
        if row is None:
            raise NotFound(f"No experiment named {experiment_id} exists.")
        return Design.from_dict(json.loads(row[0])), str(row[1])

    def _running(self, conn: Connection, experiment_id: str) -> Design:
        design, status = self._design(conn, experiment_id)
        if status != RUNNING:
            raise Conflict(f"{experiment_id} is {status}; nothing changed.")
        return design

    def _existing(self, conn: Connection, experiment_id: str, entities: Sequence[str]) -> set[str]:
        found: set[str] = set()
        for start in range(0, len(entities), _CHUNK):
            chunk = entities[start : start + _CHUNK]
            found.update(
                conn.execute(
                    select(experiment_exposures.c.entity_id).where(
                        experiment_exposures.c.experiment_id == experiment_id,
                        experiment_exposures.c.entity_id.in_(chunk),
                    )
                ).scalars()
            )
        return found

    def _analyse(self, conn: Connection, design: Design) -> Analysis:
        eid = design.experiment_id
        exposed: dict[str, int] = dict(
            conn.execute(
                select(experiment_exposures.c.arm, func.count())
                .where(experiment_exposures.c.experiment_id == eid)
                .group_by(experiment_exposures.c.arm)
            ).all()
        )
        joined = experiment_outcomes.join(
            experiment_exposures,
            (experiment_outcomes.c.experiment_id == experiment_exposures.c.experiment_id)
            & (experiment_outcomes.c.entity_id == experiment_exposures.c.entity_id),
        )
        measured: dict[str, tuple[int, float]] = {
            arm: (int(n), float(s or 0))
            for arm, n, s in conn.execute(
                select(
                    experiment_exposures.c.arm,
                    func.count(),
                    func.sum(experiment_outcomes.c.value),
                )
                .select_from(joined)
                .where(
                    experiment_outcomes.c.experiment_id == eid,
                    experiment_outcomes.c.metric == design.metric,
                )
                .group_by(experiment_exposures.c.arm)
            ).all()
        }
        guardrails = {
            str(metric): float(mean)
            for metric, mean in conn.execute(
                select(experiment_outcomes.c.metric, func.avg(experiment_outcomes.c.value))
                .select_from(joined)
                .where(
                    experiment_outcomes.c.experiment_id == eid,
                    experiment_outcomes.c.metric != design.metric,
                    experiment_exposures.c.arm == CHALLENGER,
                )
                .group_by(experiment_outcomes.c.metric)
            ).all()
        }

        def counts(arm: str) -> ArmCounts:
            n, successes = measured.get(arm, (0, 0.0))
            return ArmCounts(int(exposed.get(arm, 0)), n, round(successes))

        return analyse(design, counts(CONTROL), counts(CHALLENGER), guardrails)

    def _exposure(
        self, design: Design, row: Mapping[str, Any], index: int, now: datetime
    ) -> tuple[str, str, int, str]:
        where = f"exposures[{index}]"
        if not isinstance(row, Mapping):
            raise InvalidInput(where, f"must be a mapping with entity_id, not {row!r}")
        unknown = sorted(set(row) - {"entity_id", "arm", "version", "exposed_at"})
        if unknown:
            raise InvalidInput(where, f"has unknown column(s) {', '.join(unknown)}")
        entity = _entity(row.get("entity_id"), f"{where}.entity_id")
        assigned = assign(entity, design.salt, design.challenger_share)
        arm = row.get("arm")
        if arm is not None and arm != assigned:
            raise InvalidInput(
                f"{where}.arm",
                f"{entity} is assigned to {assigned} by the experiment's hash, not {arm!r}; "
                "nothing stored",
            )
        version = row.get("version")
        expected = design.version_of(assigned)
        if version is not None and (isinstance(version, bool) or version != expected):
            raise InvalidInput(
                f"{where}.version",
                f"{entity} is in the {assigned} arm, served by version {expected}, not "
                f"{version!r}; nothing stored",
            )
        return (
            entity,
            assigned,
            expected,
            _moment(row.get("exposed_at"), f"{where}.exposed_at", now),
        )

    def _outcome(
        self,
        design: Design,
        known: set[str],
        row: Mapping[str, Any],
        index: int,
        now: datetime,
    ) -> dict[str, Any]:
        where = f"outcomes[{index}]"
        if not isinstance(row, Mapping):
            raise InvalidInput(where, f"must be a mapping with entity_id and value, not {row!r}")
        unknown = sorted(set(row) - {"entity_id", "metric", "value", "observed_at"})
        if unknown:
            raise InvalidInput(where, f"has unknown column(s) {', '.join(unknown)}")
        entity = _entity(row.get("entity_id"), f"{where}.entity_id")
        metric = row.get("metric") or design.metric
        if metric not in known:
            raise InvalidInput(
                f"{where}.metric",
                f"{metric!r} is neither the experiment's metric nor a guardrail (expected one "
                f"of {', '.join(sorted(known))}); nothing stored",
            )
        raw = row.get("value")
        value = finite(float(raw) if isinstance(raw, bool) else raw, f"{where}.value")
        if metric == design.metric and value not in (0.0, 1.0):
            raise InvalidInput(
                f"{where}.value",
                f"{design.metric} is measured per entity as 0 or 1 (success), not {value:g}; "
                "nothing stored",
            )
        return {
            "entity_id": entity,
            "metric": metric,
            "value": value,
            "observed_at": _moment(row.get("observed_at"), f"{where}.observed_at", now),
        }

    def _record(
        self, conn: Connection, event: Any, actor: str, rationale: str, now: datetime
    ) -> None:
        self._events.append(
            NewEvent.of(
                event,
                actor=actor,
                subject=experiment_subject(event.experiment_id),
                rationale=rationale,
                occurred_at=now,
            ),
            connection=conn,
        )


def _entity(value: object, field: str) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise InvalidInput(field, f"must be an entity id (text or whole number), not {value!r}")
    entity = str(value).strip()
    if not entity or len(entity) > 200:
        raise InvalidInput(field, f"must be 1-200 characters, not {value!r}")
    return entity


def _moment(value: object, field: str, default: datetime) -> str:
    return format_time(default) if value is None else utc_text(value, field)
