"""`lucid experiments`, `deploy`, `checkpoints` and `scorecard` in real processes."""

from __future__ import annotations

import json
import random
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest
import skops.io
import yaml
from sklearn.tree import DecisionTreeClassifier

from lucid.bootstrap import open_project
from lucid.contracts.events import parse_time
from lucid.contracts.experiments import CHALLENGER, assign
from lucid.contracts.semantic import SkewSums
from lucid.contracts.value import BusinessImpact, Override
from lucid.memory.scorecard import FIGURE_KEYS
from lucid.registry.model_artifacts import SklearnArtifact
from tests.conftest import CliResult, run_lucid
from tests.e2e.test_models_cli import CONTRACT, approve_churn_features

# Sixteen real processes: generous on a loaded machine.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]
SALT = "churn-v2-ab"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "shop"
    assert run_lucid("init", str(folder)).code == 0
    approve_churn_features(folder)
    (folder / "contract.yaml").write_text(yaml.safe_dump(CONTRACT))
    model = DecisionTreeClassifier(random_state=0).fit([[0.1, 1], [0.9, 30]], [1, 0])
    skops.io.dump(model, folder / "model.skops")
    return folder


def lucid(project: Path, *args: str) -> CliResult:
    return run_lucid(*args, cwd=project, env={"LUCID_ACTOR": "ana"})


def ok(project: Path, *args: str) -> CliResult:
    result = lucid(project, *args)
    assert result.code == 0, result.stderr
    return result


def stored(project: Path) -> tuple[int, list[dict[str, object]]]:
    """The event count and the experiments' state, read in-process (no extra subprocess)."""
    with open_project(project, environ={}) as handle:
        overview = handle.experiments.overview()
        return handle.events.count(), [
            handle.experiments.status(e["id"]).to_dict() for e in overview
        ]


def setup_two_versions(project: Path) -> None:
    """churn@1 in production by bea's override (nothing to test it against), churn@2 a
    challenger (through the SDK)."""
    config = project / "lucid.yaml"
    config.write_text(config.read_text() + "approvers: [bea]\n")
    impact = BusinessImpact.from_mapping(CONTRACT)
    with open_project(project, environ={}) as handle:
        registry = handle.registry
        for _ in range(2):
            registry.register_model(
                "churn",
                artifact=SklearnArtifact(path=project / "model.skops"),
                impact=impact,
                features=["customer_activity_30d@1", "customer_spend_30d@1"],
                training_data="sha256:1f2e",
                offline_metrics={"auc": 0.81},
                registered_by="ana",
                rationale="monthly retrain",
            )
        registry.promote("churn", 1, "challenger", actor="ana", rationale="A/B")
        first = Override("bea", "the first model: nothing serves production to test against")
        registry.promote("churn", 1, "production", actor="ana", rationale="first", override=first)
        registry.promote("churn", 2, "challenger", actor="ana", rationale="A/B")


def write_batch(folder: Path, name: str, entities: list[str], seed: int) -> tuple[Path, Path]:
    """Exposures as Parquet and outcomes as CSV: the challenger retains 90 %, control 80 %."""
    rng = random.Random(seed)
    exposures = folder / f"{name}-exposures.parquet"
    pd.DataFrame({"entity_id": entities, "arm": [assign(e, SALT) for e in entities]}).to_parquet(
        exposures
    )
    rows = []
    for entity in entities:
        challenger = assign(entity, SALT) == CHALLENGER
        rows.append(
            {
                "entity_id": entity,
                "metric": "retention_rate",
                "value": int(rng.random() < (0.90 if challenger else 0.80)),
            }
        )
        if challenger:
            rows.append({"entity_id": entity, "metric": "compute_cost_per_day", "value": 410})
    outcomes = folder / f"{name}-outcomes.csv"
    pd.DataFrame(rows).to_csv(outcomes, index=False)
    return exposures, outcomes


def test_experiment_to_deployment_to_checkpoints_and_the_scorecard(
    project: Path, tmp_path: Path
) -> None:
    setup_two_versions(project)
    created = ok(
        project,
        *("experiments", "create", SALT, "--model", "churn", "--challenger", "2"),
        *("--mde", "0.05", "--rationale", "does v2 retain more?", "--json"),
    )
    assert json.loads(created.stdout)["minimum_sample"] == {"control": 4512, "challenger": 502}

    entities = [f"cust-{i:05d}" for i in range(8000)]
    early_exposures, early_outcomes = write_batch(tmp_path, "early", entities[:1000], seed=1)
    ok(project, "experiments", "expose", SALT, "--file", str(early_exposures))
    ok(project, "experiments", "outcomes", SALT, "--file", str(early_outcomes))
    before = stored(project)
    refused = lucid(project, "experiments", "conclude", SALT, "--rationale", "too early")
    assert refused.code == 1 and "cannot be concluded" in refused.stderr
    assert "Traceback" not in refused.stderr and stored(project) == before

    bad = tmp_path / "bad.csv"
    wrong = "control" if assign("cust-09999", SALT) == CHALLENGER else "challenger"
    bad.write_text(f"entity_id,arm\ncust-09999,{wrong}\n")
    refused = lucid(project, "experiments", "expose", SALT, "--file", str(bad))
    assert refused.code == 1 and "exposures[0].arm" in refused.stderr
    refused = lucid(project, "experiments", "expose", SALT, "--file", "missing.parquet")
    assert refused.code == 1 and "--file: the file missing.parquet does not exist" in refused.stderr
    bad.write_text("entity_id,covariate\ncust-09990,3.5\ncust-09991,many\n")
    refused = lucid(project, "experiments", "expose", SALT, "--file", str(bad))
    assert refused.code == 1 and "exposures[1].covariate: must be a finite number" in refused.stderr
    assert stored(project) == before
    covariates = tmp_path / "covariates.csv"
    covariates.write_text("entity_id,covariate\ncust-09990,3.5\ncust-09991,\n")
    logged = ok(project, "experiments", "expose", SALT, "--file", str(covariates), "--json")
    assert sum(json.loads(logged.stdout)[arm] for arm in ("control", "challenger")) == 2

    rest_exposures, rest_outcomes = write_batch(tmp_path, "rest", entities[1000:], seed=2)
    ok(project, "experiments", "expose", SALT, "--file", str(rest_exposures))
    ok(project, "experiments", "outcomes", SALT, "--file", str(rest_outcomes))
    status = json.loads(ok(project, "experiments", "status", SALT, "--json").stdout)
    assert status["decision"] == "challenger_better" and not status["sample_ratio"]["mismatch"]
    evidence = json.loads(
        ok(project, "experiments", "conclude", SALT, "--rationale", "v2 wins", "--json").stdout
    )
    assert evidence["treatment"]["name"] == "churn@2" and evidence["p_value"] < 0.05

    decision = tmp_path / "decision.yaml"
    decision.write_text(
        yaml.safe_dump(
            {
                "hypotheses": [
                    {"description": "retention rises", "expected_impact": 0.03, "unit": "rate"}
                ],
                "checkpoints": [30, 90],
            }
        )
    )
    deployed = json.loads(
        ok(
            project,
            *("deploy", "churn", "2", "--decision", str(decision)),
            *("--rationale", "the A/B test proved it", "--json"),
        ).stdout
    )
    assert deployed["version"] == 2 and len(deployed["checkpoints"]) == 2
    with open_project(project, environ={}) as handle:
        handle.registry.observe(
            "churn", 2, metric="retention_rate", value=0.80, period="first-month", actor="bi"
        )
    refused = lucid(project, "checkpoints", "run", "--at", "yesterday")
    assert (
        refused.code == 1
        and "--at: 'yesterday' (text) is not a time; write ISO 8601" in refused.stderr
    )
    at = parse_time(deployed["deployed_at"]) + timedelta(days=31)
    judged = json.loads(ok(project, "checkpoints", "run", "--at", at.isoformat(), "--json").stdout)
    assert [(c["days"], c["outcome"]) for c in judged] == [(30, "failed")]
    assert judged[0]["verdict"]["lesson_requested"] is True
    listed = json.loads(ok(project, "checkpoints", "list", "--json").stdout)
    assert [c["outcome"] for c in listed] == ["failed", None]
    with open_project(project, environ={}) as handle:
        types = [e.type for e in handle.events.read(limit=1000)]
    assert "ModelDeployed" in types and types[-2:] == ["CheckpointEvaluated", "LessonRequested"]
    card = json.loads(ok(project, "scorecard", "--json").stdout)
    assert list(card) == [*FIGURE_KEYS, "override_shares"]
    # Two production promotions in the month of the run: v2 on the concluded test's evidence,
    # v1 on evidence or an override, as the log says.
    with open_project(project, environ={}) as handle:
        overridden = len(handle.events.read(type="PromotionOverridden"))
    assert card["override_share_pct"] == 100.0 * overridden / 2
    [month, whole] = card["override_shares"]["rows"]
    assert (whole["model"], whole["period"], whole["promotions"]) == ("churn", "all", 2)
    assert (month["by_evidence"], month["by_override"]) == (2 - overridden, overridden)
    assert card["override_shares"]["period"] == "month"
    yearly = json.loads(ok(project, "scorecard", "--period", "year", "--json").stdout)
    assert yearly["override_shares"]["rows"][0]["period"] == month["period"][:4]
    shown = ok(project, "scorecard").stdout
    assert "Production promotions" in shown and "whole history" in shown
    refused = lucid(project, "scorecard", "--period", "week")
    assert refused.code == 1
    assert "--period: must be one of month, quarter, year, not 'week'" in refused.stderr
    assert card["contradictory_definitions"] == 0
    assert card["models_without_impact_pct"] == 0.0 and card["repeated_errors"] is None
    assert card["training_serving_skew_pct"] is None  # nothing was served online
    agreed = ok(project, "scorecard", "--recompute").stdout
    assert "recomputed" in agreed and "cached and recomputed figures agree." in agreed
    with open_project(project, environ={}) as handle, handle.uows() as uow:
        uow.features.keep_skew(1e-6, 0, [SkewSums("f@1.0.0", 5, 1)], at)
    assert json.loads(ok(project, "scorecard", "--json").stdout)["training_serving_skew_pct"] == 20
    differ = lucid(project, "scorecard", "--recompute", "--json")
    assert differ.code == 1 and json.loads(differ.stdout)["differ"] == ["training_serving_skew_pct"]
    healed = json.loads(ok(project, "scorecard", "--recompute", "--json").stdout)
    assert healed["agree"] and healed["training_serving_skew_pct"] is None
    with open_project(project, environ={}) as handle:
        assert handle.events.verify().ok
