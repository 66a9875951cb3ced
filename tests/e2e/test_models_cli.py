"""`lucid models` in real processes: contracts from YAML, the gate, rollback, history, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import skops.io
import yaml
from sklearn.tree import DecisionTreeClassifier

from lucid.bootstrap import open_project
from lucid.contracts.value import BusinessImpact
from lucid.features.definition_files import load_definitions
from lucid.scenarios.churn import CANONICAL_DEFINITIONS, SPEND_DEFINITIONS
from lucid.scenarios.churn.sample_activity import write_sample_activity
from tests.conftest import CliResult, run_lucid
from tests.contract.test_registry import MINILM, seed_hub_cache
from tests.experiment_counts import two_proportion_evidence

CONTRACT = {
    "metric": "retention_rate",
    "direction": "higher",
    "baseline": 0.80,
    "target": 0.82,
    "measurement_period": "30d",
    "rollback_threshold": 0.78,
    "rationale": "keep more customers",
    "guardrails": [{"metric": "compute_cost_per_day", "cap": 495}],
}


def approve_churn_features(folder: Path) -> None:
    """The two canonical features the churn model pins, applied and approved in `folder`."""
    write_sample_activity(folder)
    with open_project(folder, environ={}) as handle:
        for path in (CANONICAL_DEFINITIONS, SPEND_DEFINITIONS):
            handle.features.apply(load_definitions(path), actor="dana", rationale="churn")
        for ref in ("customer_activity_30d@1.0.0", "customer_spend_30d@1.0.0"):
            for team, person in (
                ("marketing", "mia"),
                ("data-science", "sam"),
                ("product", "paul"),
            ):
                handle.features.approve(ref, team=team, person=person, rationale="ok")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "shop"
    assert run_lucid("init", str(folder)).code == 0
    approve_churn_features(folder)
    config = yaml.safe_load((folder / "lucid.yaml").read_text())
    config["approvers"] = ["bea", "ana"]
    (folder / "lucid.yaml").write_text(yaml.safe_dump(config))
    (folder / "contract.yaml").write_text(yaml.safe_dump(CONTRACT))
    model = DecisionTreeClassifier(random_state=0).fit([[0.1, 1], [0.9, 30]], [1, 0])
    skops.io.dump(model, folder / "model.skops")
    return folder


def lucid(project: Path, *args: str, env: dict[str, str] | None = None) -> CliResult:
    return run_lucid(*args, cwd=project, env={"LUCID_ACTOR": "ana", **(env or {})})


def register(project: Path, *extra: str, env: dict[str, str] | None = None) -> CliResult:
    return lucid(
        project,
        "models",
        "register",
        "churn",
        "--contract",
        "contract.yaml",
        "--training-data",
        "sha256:1f2e",
        "--feature",
        "customer_activity_30d@1",
        "--feature",
        "customer_spend_30d@1",
        "--metric",
        "auc=0.81",
        "--rationale",
        "monthly retrain",
        *extra,
        env=env,
    )


def stored_state(project: Path) -> tuple[str, str]:
    events = lucid(project, "events", "list", "--limit", "1000", "--json").stdout
    models = lucid(project, "models", "list", "--json").stdout
    return events, models


def test_register_promote_observe_evaluate_rollback_and_history(
    project: Path, tmp_path: Path
) -> None:
    for _ in range(2):
        result = register(project, "--artifact", "model.skops", "--json")
        assert result.code == 0, result.stderr
    assert json.loads(result.stdout)["version"] == 2
    impact = BusinessImpact.from_mapping(CONTRACT)
    first = ("promote", "churn", "1", "--to", "production", "--rationale", "first model")
    for step in (
        ("promote", "churn", "1", "--to", "challenger", "--rationale", "A/B"),
        (*first, "--override-by", "bea"),
        ("promote", "churn", "2", "--to", "challenger", "--rationale", "A/B"),
    ):
        done = lucid(project, "models", *step)
        assert done.code == 0, done.stderr
    evidence = two_proportion_evidence(impact, "churn@2", (800, 850), (1000, 1000)).to_dict()
    for key in ("origin", "digest", "produced_at"):  # set by Lucid, never in a file
        evidence.pop(key)
    path = tmp_path / "evidence.yaml"
    path.write_text(yaml.safe_dump(evidence))
    attached = lucid(
        project,
        "models",
        "attach-evidence",
        "churn",
        "2",
        "--evidence",
        str(path),
        "--rationale",
        "exp",
    )
    assert attached.code == 0, attached.stderr
    assert "Attached external business evidence on retention_rate" in attached.stdout
    listed = lucid(project, "models", "show", "churn")
    assert "external" in listed.stdout
    won = lucid(
        project, "models", "promote", "churn", "2", "--to", "production", "--rationale", "A/B won"
    )
    assert won.code == 0, won.stderr
    observed = lucid(
        project,
        "models",
        "observe",
        "churn",
        "2",
        "--metric",
        "retention_rate",
        "--value",
        "0.75",
        "--period",
        "2026-11",
    )
    assert observed.code == 0, observed.stderr
    report = lucid(project, "models", "evaluate", "churn", "--json")
    assert report.code == 0, report.stderr
    assert json.loads(report.stdout)["verdict"] == "rollback_due"
    assert json.loads(report.stdout)["rolled_back_to"] == 1
    story = json.loads(lucid(project, "models", "history", "churn", "--json").stdout)
    assert story["serving"] == 1
    assert [e["kind"] for e in story["entries"]] == [
        "override",
        "promotion",
        "evidence",
        "promotion",
        "rollback",
    ]
    assert story["entries"][2]["detail"].startswith("external business evidence")
    assert "external evidence" in story["entries"][3]["detail"]
    first_promotion = story["entries"][1]["at"]
    then = json.loads(
        lucid(project, "models", "history", "churn", "--at", first_promotion, "--json").stdout
    )
    assert then["serving"] == 1 and len(then["entries"]) == 2
    shown = lucid(project, "models", "show", "churn", "--json")
    assert [v["stage"] for v in json.loads(shown.stdout)] == ["production", "archived"]
    again = lucid(project, "models", "rollback", "churn", "--rationale", "still bad")
    assert again.code == 1 and "no earlier production version" in again.stderr
    figures = json.loads(lucid(project, "models", "portfolio", "--json").stdout)
    assert figures["share_without_contract"] == 0.0 and figures["production_models"] == 1


@pytest.mark.parametrize(
    ("args", "sentence"),
    [
        (("--artifact", "model.skops", "--contract", "missing.yaml"), "--contract: the file"),
        (("--artifact", "nowhere.skops"), "artifact: the file nowhere.skops does not exist"),
        (("--artifact", "model.skops", "--kind", "tensorflow"), "kind: must be one of"),
        (("--artifact", "model.skops", "--feature", "activity"), "must be a pinned feature"),
        (("--artifact", "model.skops", "--metric", "auc"), "must be written name=number"),
        (("--artifact", "contract.yaml"), "is neither a skops file nor a pickle"),
        (("--artifact", MINILM, "--kind", "huggingface"), "is unavailable"),
    ],
)
def test_bad_registrations_are_one_sentence_and_store_nothing(
    project: Path, args: tuple[str, ...], sentence: str
) -> None:
    before = stored_state(project)
    result = register(project, *args, env={"HF_HUB_OFFLINE": "1", "HF_HUB_CACHE": "/nonexistent"})
    assert result.code == 1
    assert sentence in result.stderr and "Traceback" not in result.stderr
    assert stored_state(project) == before


def test_a_model_whose_inputs_the_pins_do_not_match_is_refused_by_name(project: Path) -> None:
    columns = ["customer_spend_30d", "customer_activity_30d", "tenure_months"]
    frame = pd.DataFrame([[1.0, 0.1, 3.0], [30.0, 0.9, 40.0]], columns=columns)
    model = DecisionTreeClassifier(random_state=0).fit(frame, [1, 0])
    skops.io.dump(model, project / "three.skops")
    before = stored_state(project)
    result = register(project, "--artifact", "three.skops")
    assert result.code == 1 and "Traceback" not in result.stderr
    assert (
        "features: no pin provides the model's input(s) tenure_months (the model takes "
        "customer_spend_30d, customer_activity_30d, tenure_months)"
    ) in " ".join(result.stderr.split())
    assert stored_state(project) == before
    assert not (project / "artifacts" / "models").exists()
    model = DecisionTreeClassifier(random_state=0).fit(frame[columns[:2]], [1, 0])
    skops.io.dump(model, project / "two.skops")
    registered = register(project, "--artifact", "two.skops", "--json")
    assert registered.code == 0, registered.stderr
    version = json.loads(registered.stdout)
    assert version["features"] == ["customer_activity_30d@1.0.0", "customer_spend_30d@1.0.0"]
    assert version["inputs"] == columns[:2]  # the model's order, not the pins'
    again = register(project, "--artifact", "two.skops")
    said = " ".join(again.stdout.split())
    assert "it takes customer_spend_30d, customer_activity_30d, in that order" in said


def test_a_contract_breaking_its_order_is_refused(project: Path) -> None:
    (project / "contract.yaml").write_text(yaml.safe_dump({**CONTRACT, "target": 0.79}))
    before = stored_state(project)
    result = register(project, "--artifact", "model.skops")
    assert result.code == 1
    assert "target: must be above the baseline 0.8 when higher is better" in result.stderr
    assert stored_state(project) == before


def test_a_hub_model_registers_offline_from_the_local_cache(project: Path, tmp_path: Path) -> None:
    cache = seed_hub_cache(tmp_path / "hf")
    env = {"HF_HUB_OFFLINE": "1", "HF_HUB_CACHE": str(cache)}
    result = register(project, "--artifact", MINILM, "--kind", "huggingface", "--json", env=env)
    assert result.code == 0, result.stderr
    assert json.loads(result.stdout)["artifact"]["location"] == MINILM


def test_overrides_need_an_approver_who_did_not_register(project: Path) -> None:
    assert register(project, "--artifact", "model.skops").code == 0
    assert (
        lucid(
            project, "models", "promote", "churn", "1", "--to", "challenger", "--rationale", "A/B"
        ).code
        == 0
    )
    before = stored_state(project)
    for approver, sentence in (("carl", "carl is not an approver"), ("ana", "four-eyes")):
        result = lucid(
            project,
            "models",
            "promote",
            "churn",
            "1",
            "--to",
            "production",
            "--rationale",
            "deadline",
            "--override-by",
            approver,
            env={"LUCID_ACTOR": "bea"} if approver == "ana" else None,
        )
        assert result.code == 1
        assert sentence in result.stderr and "nothing changed" in result.stderr
    no_evidence = lucid(
        project, "models", "promote", "churn", "1", "--to", "production", "--rationale", "ship"
    )
    assert no_evidence.code == 1
    assert "a business test needs a production version" in " ".join(no_evidence.stderr.split())
    assert stored_state(project) == before
    ok = lucid(
        project,
        "models",
        "promote",
        "churn",
        "1",
        "--to",
        "production",
        "--rationale",
        "regulator deadline",
        "--override-by",
        "bea",
    )
    assert ok.code == 0, ok.stderr
    frozen = lucid(project, "models", "freeze", "churn", "--reason", "PSI 0.27")
    assert frozen.code == 0
    story = json.loads(lucid(project, "models", "history", "churn", "--json").stdout)
    assert [e["kind"] for e in story["entries"]] == ["override", "promotion", "freeze"]


def test_an_evidence_file_with_wrong_fields_gets_every_problem_at_once(
    project: Path, tmp_path: Path
) -> None:
    assert register(project, "--artifact", "model.skops").code == 0
    impact = BusinessImpact.from_mapping(CONTRACT)
    evidence = two_proportion_evidence(impact, "churn@1", (800, 850), (1000, 1000)).to_dict()
    evidence.update(p_value=1.5, kind="x", metirc="auc")
    evidence["control"]["sample_size"] = 2.5
    path = tmp_path / "evidence.yaml"
    path.write_text(yaml.safe_dump(evidence))
    before = stored_state(project)
    result = lucid(
        project,
        "models",
        "attach-evidence",
        "churn",
        "1",
        "--evidence",
        str(path),
        "--rationale",
        "exp",
    )
    said = " ".join(result.stderr.split())
    assert result.code == 1 and "Traceback" not in result.stderr
    assert "evidence: 7 problems:" in said
    for problem in (
        "evidence.digest: is set by Lucid",
        "evidence.metirc: unknown key; did you mean metric?",
        "evidence.origin: is set by Lucid",
        "evidence.produced_at: is set by Lucid",
        "evidence.kind: must be one of business, predictive, not 'x'",
        "evidence.control.sample_size: must be a whole number, not 2.5",
        "evidence.p_value: must be between 0 and 1, not 1.5",
    ):
        assert problem in said
    assert stored_state(project) == before


def test_a_request_time_input_completes_the_pins_and_a_bad_one_is_refused(project: Path) -> None:
    columns = ["customer_spend_30d", "customer_activity_30d", "tenure_months"]
    frame = pd.DataFrame([[1.0, 0.1, 3.0], [30.0, 0.9, 40.0]], columns=columns)
    skops.io.dump(DecisionTreeClassifier(random_state=0).fit(frame, [1, 0]), project / "t.skops")
    before = stored_state(project)
    for option, sentence in (
        ("tenure_months:integer:600..0", "'tenure_months:integer:600..0': 600 is above"),
        ("tenure_months", "must be written name:type[:rule]"),
        ("tenure_months:float", "the type must be one of number, integer, boolean, text"),
        ("tenure:integer", "the model does not take the request-time input(s) tenure"),
    ):
        refused = register(project, "--artifact", "t.skops", "--request-input", option)
        assert refused.code == 1 and "Traceback" not in refused.stderr
        assert sentence in " ".join(refused.stderr.split()), refused.stderr
    assert stored_state(project) == before
    option = "tenure_months:integer:0..600"
    registered = register(project, "--artifact", "t.skops", "--request-input", option, "--json")
    assert registered.code == 0, registered.stderr
    version = json.loads(registered.stdout)
    assert version["inputs"] == columns
    assert version["request_inputs"] == [
        {"name": "tenure_months", "type": "integer", "minimum": 0.0, "maximum": 600.0}
    ]
