"""Experiments, deployments and checkpoints on SQLite and PostgreSQL, through the SDK.

The full path: two versions of a small model, an A/B experiment whose logged exposures and
outcomes make the challenger win, conclusion → evidence → deployment through the gate with
hypotheses and checkpoints → checkpoint verdicts. Every refusal leaves the stored experiment
tables, deployments and the event log exactly as they were.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from lucid.access.tokens import Tokens
from lucid.bootstrap import utc_now
from lucid.contracts.events import parse_time
from lucid.contracts.experiments import CHALLENGER, CONTROL, assign
from lucid.contracts.times import EXAMPLE
from lucid.contracts.value import Stage
from lucid.errors import Conflict, InvalidInput, LucidError, NotFound
from lucid.experiments.lab import Experiments
from lucid.memory.loop import LearningLoop
from lucid.memory.scorecard import FIGURE_KEYS, IncidentFigures
from lucid.memory.transparency import StakeholderAccess
from lucid.registry.model_registry import ModelRegistry
from lucid.storage.artifacts import ArtifactStore
from lucid.storage.database import Database
from lucid.storage.event_log import SqlEventLog
from lucid.storage.hugging_face_hub import HuggingFaceHub
from lucid.storage.tables import (
    deployment_checkpoints,
    deployments,
    experiment_exposures,
    experiment_outcomes,
    experiments,
    model_versions,
)
from lucid.storage.unit_of_work import SqlUnitsOfWork
from tests.contract.test_registry import Clock, register, to_production

ENTITIES = [f"cust-{i:05d}" for i in range(8000)]
HYPOTHESES = [{"description": "retention rises", "expected_impact": 0.03, "unit": "rate"}]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def registry(
    db: Database, event_log: SqlEventLog, tmp_path: Path, hub_cache: Path, clock: Clock
) -> ModelRegistry:
    hub = HuggingFaceHub(offline=True, cache_dir=hub_cache)
    artifacts = ArtifactStore(str(tmp_path / "artifacts"))
    return ModelRegistry(
        SqlUnitsOfWork(db, event_log), event_log, artifacts, hub, approvers=["bea"], clock=clock
    )


@pytest.fixture
def loop(
    db: Database, event_log: SqlEventLog, registry: ModelRegistry, clock: Clock
) -> LearningLoop:
    access = StakeholderAccess(SqlUnitsOfWork(db, event_log), registry)
    return LearningLoop(SqlUnitsOfWork(db, event_log), registry, clock=clock, access=access)


@pytest.fixture
def challenger(registry: ModelRegistry) -> int:
    """churn@1 serves production, churn@2 is the challenger."""
    register(registry)
    to_production(registry, 1)
    register(registry, offline_metrics={"auc": 0.84})
    registry.promote("churn", 2, "challenger", actor="ana", rationale="start the A/B test")
    return 2


@pytest.fixture
def unchanged(db: Database, event_log: SqlEventLog) -> Callable[[], Any]:
    tables = (
        experiments,
        experiment_exposures,
        experiment_outcomes,
        deployments,
        deployment_checkpoints,
        model_versions,
    )

    def snapshot() -> Any:
        with db.transaction() as conn:
            rows = [sorted(map(tuple, conn.execute(select(t)))) for t in tables]
        return rows, event_log.count()

    @contextmanager
    def check() -> Iterator[None]:
        before = snapshot()
        yield
        assert snapshot() == before

    return check


def create(lab: Experiments, **changes: Any) -> Any:
    fields: dict[str, Any] = {
        "model": "churn",
        "challenger": 2,
        "minimum_detectable_effect": 0.05,
        "actor": "eve",
        "rationale": "does v2 retain more?",
    }
    fields.update(changes)
    return lab.create("churn-v2-ab", **fields)


def outcomes(
    entities: list[str], salt: str, rates: dict[str, float], seed: int = 7
) -> list[dict[str, Any]]:
    """A 0/1 retention outcome per entity drawn at its arm's rate, plus the challenger's cost."""
    rng = random.Random(seed)
    rows: list[dict[str, Any]] = []
    for entity in entities:
        arm = assign(entity, salt)
        rows.append({"entity_id": entity, "value": int(rng.random() < rates[arm])})
        if arm == CHALLENGER:
            rows.append({"entity_id": entity, "metric": "compute_cost_per_day", "value": 410.0})
    return rows


def test_the_full_path_experiment_evidence_deployment_checkpoints(
    lab: Experiments,
    loop: LearningLoop,
    registry: ModelRegistry,
    event_log: SqlEventLog,
    challenger: int,
    clock: Clock,
) -> None:
    design = create(lab)
    assert (design.control_version, design.challenger_version) == (1, 2)
    assert design.metric == "retention_rate" and design.salt == "churn-v2-ab"
    logged = lab.expose("churn-v2-ab", [{"entity_id": e} for e in ENTITIES], actor="serving")
    assert logged["control"] + logged["challenger"] == len(ENTITIES)
    assert abs(logged["challenger"] / len(ENTITIES) - 0.10) < 0.015
    head = event_log.head()
    assert head is not None
    again = lab.expose("churn-v2-ab", [{"entity_id": ENTITIES[0], "arm": None}], actor="serving")
    assert again == {"control": 0, "challenger": 0, "already_exposed": 1}
    assert event_log.head() == head  # nothing new exposed: nothing changed, no event
    lab.record_outcomes(
        "churn-v2-ab",
        outcomes(ENTITIES, design.salt, {CONTROL: 0.80, CHALLENGER: 0.90}),
        actor="crm",
    )
    status = lab.status("churn-v2-ab")
    assert status.minimum_reached and not status.ratio.mismatch
    assert status.decision.value == "challenger_better" and status.can_conclude
    evidence = lab.conclude("churn-v2-ab", actor="eve", rationale="v2 retains more")
    assert evidence.treatment.name == "churn@2" and evidence.control.name == "churn@1"
    assert evidence.guardrail_values == {"compute_cost_per_day": 410.0}  # no spread: the mean
    assert evidence.data["guardrails"]["compute_cost_per_day"]["mean"] == 410.0
    assert registry.get_version("churn", 2).evidence == (evidence,)
    [listed] = lab.overview()
    assert (listed["status"], listed["decision"]) == ("concluded", "challenger_better")
    with pytest.raises(Conflict, match="churn-v2-ab is concluded"):
        lab.conclude("churn-v2-ab", actor="eve", rationale="again")

    deployment = loop.deploy(
        "churn", 2, hypotheses=HYPOTHESES, actor="ana", rationale="the A/B test proved it"
    )
    assert registry.get_version("churn", 2).stage is Stage.PRODUCTION
    assert [c.name for c in deployment.success_criteria] == ["retention_rate"]
    deployed_at = parse_time(deployment.deployed_at)
    assert [parse_time(t) - deployed_at for t in deployment.checkpoints] == [
        timedelta(days=d) for d in (30, 90, 180)
    ]
    kinds = [e.type for e in event_log.read(subject="model:churn", limit=100)]
    assert kinds[-3:] == ["EvidenceAttached", "ModelPromoted", "ModelDeployed"]
    deployed = event_log.read(subject="model:churn", limit=100)[-1]
    assert deployed.payload["hypotheses"] == HYPOTHESES and deployed.rationale

    registry.observe("churn", 2, metric="retention_rate", value=0.83, period="d1-30", actor="bi")
    assert loop.run_checkpoints(at=deployed_at + timedelta(days=29), actor="cron") == []
    judged = loop.run_checkpoints(at=deployed_at + timedelta(days=31), actor="cron")
    assert [(c.days, c.outcome) for c in judged] == [(30, "held")]
    assert loop.run_checkpoints(at=deployed_at + timedelta(days=31), actor="cron") == []
    clock.now = deployed_at + timedelta(days=80)
    registry.observe("churn", 2, metric="retention_rate", value=0.81, period="d31-90", actor="bi")
    judged = loop.run_checkpoints(at=deployed_at + timedelta(days=200), actor="cron")
    assert [(c.days, c.outcome) for c in judged] == [(90, "failed"), (180, "failed")]
    assert judged[0].verdict is not None and judged[0].verdict["lesson_requested"] is True
    kinds = [e.type for e in event_log.read(subject="model:churn", after=deployed.seq)]
    assert kinds.count("CheckpointEvaluated") == 3 and kinds.count("LessonRequested") == 2
    assert [c.evaluated_at is not None for c in loop.checkpoints()] == [True, True, True]
    exp_events = [e.type for e in event_log.read(subject="experiment:churn-v2-ab")]
    assert exp_events == [
        "ExperimentCreated",
        "ExposuresLogged",
        "OutcomesLogged",
        "ExperimentConcluded",
    ]
    assert event_log.verify().ok


def test_serving_predicts_with_each_entitys_arm_and_logs_its_exposure(
    lab: Experiments, challenger: int, event_log: SqlEventLog
) -> None:
    create(lab, challenger_share=0.5)
    entities = ENTITIES[:40]
    rows = [{"customer_activity_30d": 0.1 * (i % 10), "tenure_months": i} for i in range(40)]
    served = lab.serve("churn-v2-ab", entities, rows=rows, actor="serving")
    assert [s.entity_id for s in served] == entities
    for item in served:
        assert item.arm == assign(item.entity_id, "churn-v2-ab", 0.5)
        assert item.version == (2 if item.arm == CHALLENGER else 1)
        assert item.prediction in (0, 1)
    status = lab.status("churn-v2-ab")
    assert status.control.exposed + status.challenger.exposed == 40
    with pytest.raises(InvalidInput, match="rows: must hold one row per entity"):
        lab.serve("churn-v2-ab", entities, rows=rows[:3], actor="serving")


def test_concluding_before_the_minimum_sample_is_refused(
    lab: Experiments, challenger: int, unchanged: Callable[[], Any]
) -> None:
    design = create(lab)
    few = ENTITIES[:1000]
    lab.expose("churn-v2-ab", [{"entity_id": e} for e in few], actor="serving")
    lab.record_outcomes(
        "churn-v2-ab", outcomes(few, design.salt, {CONTROL: 0.80, CHALLENGER: 0.90}), actor="crm"
    )
    with unchanged(), pytest.raises(Conflict, match=r"cannot be concluded: .*fixed-horizon"):
        lab.conclude("churn-v2-ab", actor="eve", rationale="too early")


def test_a_sequential_design_may_conclude_early_once_the_always_valid_test_decides(
    lab: Experiments, challenger: int
) -> None:
    design = create(lab, sequential=True, minimum_detectable_effect=0.02)
    few = ENTITIES[:6000]
    lab.expose("churn-v2-ab", [{"entity_id": e} for e in few], actor="serving")
    lab.record_outcomes(
        "churn-v2-ab", outcomes(few, design.salt, {CONTROL: 0.80, CHALLENGER: 0.97}), actor="crm"
    )
    status = lab.status("churn-v2-ab")
    assert not status.minimum_reached and status.decision.value == "challenger_better"
    evidence = lab.conclude("churn-v2-ab", actor="eve", rationale="decided early")
    assert evidence.test.startswith("mSPRT")


def test_a_sample_ratio_mismatch_invalidates_the_experiment(
    lab: Experiments, challenger: int, unchanged: Callable[[], Any]
) -> None:
    design = create(lab)
    # The challenger's exposures are lost for half of its entities: a logging bug.
    kept = [e for i, e in enumerate(ENTITIES) if assign(e, design.salt) == CONTROL or i % 2 == 0]
    lab.expose("churn-v2-ab", [{"entity_id": e} for e in kept], actor="serving")
    lab.record_outcomes(
        "churn-v2-ab", outcomes(kept, design.salt, {CONTROL: 0.80, CHALLENGER: 0.90}), actor="crm"
    )
    status = lab.status("churn-v2-ab")
    assert status.ratio.mismatch and status.decision.value == "invalid"
    with unchanged(), pytest.raises(Conflict, match="sample-ratio mismatch"):
        lab.conclude("churn-v2-ab", actor="eve", rationale="won?")


@pytest.mark.parametrize(
    ("changes", "error", "sentence"),
    [
        ({"challenger": 1}, Conflict, "challenger: churn@1 is production"),
        ({"minimum_detectable_effect": 0}, InvalidInput, "minimum_detectable_effect: must be"),
        ({"challenger_share": 1.5}, InvalidInput, "challenger_share: must lie strictly between"),
        ({"baseline": 80}, InvalidInput, "baseline: must be a proportion"),
        ({"salt": ""}, InvalidInput, "salt: must be non-empty"),
        (
            {"entities_per_day": 100, "planned_days": 20},
            InvalidInput,
            r"planned_days: the test needs 502 .* share of 0\.345 reaches it within 20 days",
        ),
        ({"model": "ghost"}, NotFound, "No model named ghost"),
        ({"actor": " "}, InvalidInput, "actor"),
    ],
)
def test_bad_designs_are_refused_and_store_nothing(
    lab: Experiments,
    challenger: int,
    unchanged: Callable[[], Any],
    changes: dict[str, Any],
    error: type[LucidError],
    sentence: str,
) -> None:
    with unchanged(), pytest.raises(error, match=sentence):
        create(lab, **changes)


def test_a_bad_experiment_id_or_a_duplicate_is_refused(
    lab: Experiments, challenger: int, unchanged: Callable[[], Any]
) -> None:
    with unchanged(), pytest.raises(InvalidInput, match="experiment: 'Bad Id' must be"):
        lab.create(
            "Bad Id",
            model="churn",
            challenger=2,
            minimum_detectable_effect=0.05,
            actor="eve",
            rationale="x",
        )
    create(lab)
    with unchanged(), pytest.raises(Conflict, match="already exists"):
        create(lab)


@pytest.mark.parametrize(
    ("rows", "error", "sentence"),
    [
        ([{"entity_id": "cust-00001", "arm": "both"}], InvalidInput, r"exposures\[0\].arm"),
        ([{"entity_id": "cust-00001", "version": 7}], InvalidInput, r"exposures\[0\].version"),
        ([{"entity_id": ""}], InvalidInput, r"exposures\[0\].entity_id"),
        ([{"entity_id": "a"}, {"entity_id": None}], InvalidInput, r"exposures\[1\].entity_id"),
        ([{"entity_id": "a", "colour": "red"}], InvalidInput, "unknown column"),
        ([{"entity_id": "a", "exposed_at": "yesterday"}], InvalidInput, "exposed_at"),
        ([], InvalidInput, "exposures: the batch holds no rows"),
    ],
)
def test_bad_exposures_are_refused_whole(
    lab: Experiments,
    challenger: int,
    unchanged: Callable[[], Any],
    rows: list[dict[str, Any]],
    error: type[LucidError],
    sentence: str,
) -> None:
    create(lab)
    wrong_arm = assign("cust-00001", "churn-v2-ab")
    if rows and rows[0].get("arm") == "both":
        rows[0]["arm"] = CONTROL if wrong_arm == CHALLENGER else CHALLENGER
    with unchanged(), pytest.raises(error, match=sentence):
        lab.expose("churn-v2-ab", rows, actor="serving")


@pytest.mark.parametrize(
    ("rows", "sentence"),
    [
        ([{"entity_id": "cust-00001", "value": math.inf}], r"outcomes\[0\].value: must be a fin"),
        ([{"entity_id": "never-seen", "value": 1}], "never exposed"),
        ([{"entity_id": "cust-00001", "metric": "mood", "value": 1}], r"outcomes\[0\].metric"),
        (
            [{"entity_id": "cust-00001", "value": "yes"}],
            r"outcomes\[0\].value: must be a finite number",
        ),
        (
            [{"entity_id": "cust-00001", "value": 1}, {"entity_id": "cust-00001", "value": 0}],
            "two retention_rate outcomes",
        ),
    ],
)
def test_bad_outcomes_are_refused_whole(
    lab: Experiments,
    challenger: int,
    unchanged: Callable[[], Any],
    rows: list[dict[str, Any]],
    sentence: str,
) -> None:
    create(lab)
    lab.expose("churn-v2-ab", [{"entity_id": e} for e in ENTITIES[:10]], actor="serving")
    with unchanged(), pytest.raises(InvalidInput, match=sentence):
        lab.record_outcomes("churn-v2-ab", rows, actor="crm")
    lab.record_outcomes("churn-v2-ab", [{"entity_id": "cust-00001", "value": True}], actor="crm")
    with unchanged(), pytest.raises(Conflict, match="already has a retention_rate outcome"):
        lab.record_outcomes("churn-v2-ab", [{"entity_id": "cust-00001", "value": 0}], actor="crm")


def test_exposure_and_outcome_times_without_offset_are_utc(
    db: Database, lab: Experiments, challenger: int
) -> None:
    create(lab)
    naive, offset = ENTITIES[:2]
    lab.expose(
        "churn-v2-ab",
        [
            {"entity_id": naive, "exposed_at": datetime(2026, 11, 3, 1)},
            {"entity_id": offset, "exposed_at": "2026-11-03T06:30:00+05:30"},
        ],
        actor="serving",
    )
    lab.record_outcomes(
        "churn-v2-ab",
        [
            {"entity_id": naive, "value": 1, "observed_at": "2026-11-04T01:00"},
            {"entity_id": offset, "value": 0, "observed_at": "2026-11-03T20:00:00-05:00"},
        ],
        actor="crm",
    )
    with db.transaction() as connection:
        exposed = connection.execute(select(experiment_exposures.c.exposed_at)).scalars()
        observed = connection.execute(select(experiment_outcomes.c.observed_at)).scalars()
        assert set(exposed) == {"2026-11-03T01:00:00.000000Z"}
        assert set(observed) == {"2026-11-04T01:00:00.000000Z"}
    with pytest.raises(InvalidInput) as refused:
        lab.record_outcomes(
            "churn-v2-ab", [{"entity_id": naive, "value": 1, "observed_at": 3}], actor="crm"
        )
    assert str(refused.value) == (
        f"outcomes[0].observed_at: 3 (integer) is not a time; write ISO 8601, e.g. {EXAMPLE}"
    )


def test_unknown_experiments_are_refused(lab: Experiments, unchanged: Callable[[], Any]) -> None:
    with unchanged():
        for call in (
            lambda: lab.status("ghost"),
            lambda: lab.expose("ghost", [{"entity_id": "a"}], actor="x"),
            lambda: lab.record_outcomes("ghost", [{"entity_id": "a", "value": 1}], actor="x"),
            lambda: lab.conclude("ghost", actor="x", rationale="y"),
        ):
            with pytest.raises(NotFound, match="No experiment named ghost exists"):
                call()


def test_an_experiment_is_taken_by_the_start_of_its_id_and_a_shared_start_is_refused(
    lab: Experiments, challenger: int, unchanged: Callable[[], Any]
) -> None:
    create(lab)
    exposed = lab.expose("churn-v2", [{"entity_id": "cust-00001"}], actor="eve")
    assert lab.design("churn-v2").experiment_id == "churn-v2-ab" and exposed
    fields = {"model": "churn", "challenger": 2, "minimum_detectable_effect": 0.05}
    lab.create("churn-v2-ab2", **fields, actor="eve", rationale="again")  # an id's start is free
    assert lab.design("churn-v2-ab").experiment_id == "churn-v2-ab"  # an exact id wins
    with unchanged():
        with pytest.raises(InvalidInput) as shared:
            lab.expose("churn-v2", [{"entity_id": "cust-00002"}], actor="eve")
        assert str(shared.value) == (
            "experiment: 'churn-v2' is the start of several ids (churn-v2-ab, churn-v2-ab2); "
            "give more characters"
        )
        with pytest.raises(InvalidInput, match="experiment: 'chu' is not a stored id and too"):
            lab.status("chu")


@pytest.mark.parametrize(
    ("changes", "sentence"),
    [
        ({"hypotheses": []}, "hypotheses: a deployment states at least one hypothesis"),
        ({"hypotheses": [{"description": " "}]}, "hypotheses.description"),
        ({"checkpoints": [90, 30]}, "checkpoints: must be distinct and increasing"),
        ({"checkpoints": [0]}, "checkpoints: each must be a whole number of days"),
        (
            {"success_criteria": [{"name": "nps", "baseline": 1, "target": 2}]},
            "success_criteria.nps: must be the contract's metric or a guardrail",
        ),
        (
            {"success_criteria": [{"name": "retention_rate", "baseline": 0.8, "target": 0.7}]},
            "success_criteria.retention_rate.target",
        ),
    ],
)
def test_bad_deployments_are_refused_and_nothing_is_promoted(
    loop: LearningLoop,
    challenger: int,
    unchanged: Callable[[], Any],
    changes: dict[str, Any],
    sentence: str,
) -> None:
    fields: dict[str, Any] = {"hypotheses": HYPOTHESES, "actor": "ana", "rationale": "ship it"}
    fields.update(changes)
    with unchanged(), pytest.raises(InvalidInput, match=sentence):
        loop.deploy("churn", 2, **fields)


def test_a_deployment_the_gate_refuses_records_no_decision(
    loop: LearningLoop, challenger: int, unchanged: Callable[[], Any]
) -> None:
    with unchanged(), pytest.raises(Conflict, match="churn@2 has no business evidence"):
        loop.deploy("churn", 2, hypotheses=HYPOTHESES, actor="ana", rationale="ship it")


def test_the_scorecard_measures_what_exists_and_leaves_the_rest_null(
    db: Database, event_log: SqlEventLog, registry: ModelRegistry, loop: LearningLoop
) -> None:
    card = loop.scorecard().to_dict()
    assert list(card) == list(FIGURE_KEYS) and set(card.values()) == {None}
    register(registry)
    to_production(registry, 1)
    card = loop.scorecard().to_dict()
    assert card["models_without_impact_pct"] == 0.0 and card["tech_business_correlation"] is None
    # One production promotion: an override or not, as the log says.
    overridden = len(event_log.read(type="PromotionOverridden"))
    assert card["override_share_pct"] == 100.0 * overridden
    # ana owns the model and cannot read the dashboard yet; a token makes the figure 100 %.
    assert card["transparency_pct"] == 0.0
    Tokens(SqlUnitsOfWork(db, event_log), clock=utc_now).create(
        person="ana", role="viewer", teams=[], actor="admin", rationale="read the dashboard"
    )
    assert loop.scorecard().transparency_pct == 100.0

    class Incidents:
        def incident_figures(self) -> IncidentFigures:
            return IncidentFigures(failures_documented_pct=50.0, repeated_errors=1)

    uows = SqlUnitsOfWork(db, event_log)
    plugged = LearningLoop(uows, registry, clock=utc_now, incidents=Incidents()).scorecard()
    assert plugged.failures_documented_pct == 50.0 and plugged.repeated_errors == 1


def test_the_arms_sufficient_statistics_come_from_one_aggregate_with_covariates(
    lab: Experiments, challenger: int
) -> None:
    create(lab)
    entities = ENTITIES[:300]
    covariate = {e: (None if i % 10 == 0 else float(i % 7)) for i, e in enumerate(entities)}
    lab.expose(
        "churn-v2-ab",
        [{"entity_id": e, "covariate": x} for e, x in covariate.items()],
        actor="serving",
    )
    value = {e: (i % 5) * 0.5 for i, e in enumerate(entities[:250])}
    lab.record_outcomes(
        "churn-v2-ab", [{"entity_id": e, "value": v} for e, v in value.items()], actor="bi"
    )
    analysis = lab.status("churn-v2-ab")
    for arm, stats in ((CONTROL, analysis.control), (CHALLENGER, analysis.challenger)):
        mine = [e for e in entities if assign(e, "churn-v2-ab") == arm]
        ys = [value[e] for e in mine if e in value]
        pairs = [(value[e], covariate[e]) for e in mine if e in value and covariate[e] is not None]
        assert (stats.exposed, stats.measured, stats.n_x) == (len(mine), len(ys), len(pairs))
        assert stats.sum_y == pytest.approx(sum(ys))
        assert stats.sum_y2 == pytest.approx(sum(y * y for y in ys))
        assert stats.sum_x == pytest.approx(sum(x for _, x in pairs))  # type: ignore[misc]
        assert stats.sum_x2 == pytest.approx(sum(x * x for _, x in pairs))  # type: ignore[operator]
        assert stats.sum_xy == pytest.approx(sum(y * x for y, x in pairs))  # type: ignore[operator]


def test_the_daily_looks_add_up_to_the_current_analysis(lab: Experiments, challenger: int) -> None:
    """Exposures count on their day, an outcome on the later of its observation and its
    entity's exposure; the last look holds exactly the arms' statistics of `status`."""
    create(lab)
    first, second = ENTITIES[:120], ENTITIES[120:200]
    for day, chosen in (("2026-03-01", first), ("2026-03-02", second)):
        lab.expose(
            "churn-v2-ab",
            [{"entity_id": e, "exposed_at": f"{day}T10:00:00Z", "covariate": 1.0} for e in chosen],
            actor="serving",
        )
    lab.record_outcomes(
        "churn-v2-ab",
        [
            {"entity_id": e, "value": i % 2, "observed_at": "2026-02-27T00:00:00Z"}  # early
            for i, e in enumerate(second)
        ]
        + [
            {"entity_id": e, "value": i % 3 > 0, "observed_at": "2026-03-04T08:00:00Z"}
            for i, e in enumerate(first)
        ],
        actor="bi",
    )
    looks = lab.looks("churn-v2-ab")
    assert [day for day, _ in looks] == ["2026-03-01", "2026-03-02", "2026-03-04"]
    day1, day2, day4 = (look for _, look in looks)
    assert day1.control.exposed + day1.challenger.exposed == len(first)
    assert day1.control.measured + day1.challenger.measured == 0 and day1.test is None
    assert day2.control.measured + day2.challenger.measured == len(second)
    now = lab.status("churn-v2-ab")
    assert (day4.control, day4.challenger) == (now.control, now.challenger)
    assert day4.test is not None and now.test is not None
    assert (day4.test.effect, day4.test.ci_low) == (now.test.effect, now.test.ci_low)
