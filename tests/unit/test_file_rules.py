"""What the YAML and JSON files Lucid reads may hold: no unknown key (the nearest known one is
named), threshold values within their metric's bounds, and the expected type in every field
(a list where a column name is expected is one sentence, never a crash)."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from lucid.contracts.deployments import Hypothesis, SuccessCriterion
from lucid.contracts.semantic import FeatureDefinition, Source
from lucid.contracts.validity import METRICS, DriftType, MonitoringPolicy, Threshold
from lucid.contracts.validity.actions import Action, ActionKind
from lucid.contracts.value import BusinessImpact, Evidence
from lucid.errors import ConfigurationError, InvalidInput
from lucid.features.definition_files import load_definitions
from lucid.scenarios.churn import CANONICAL_DEFINITIONS, SPEND_DEFINITIONS
from lucid.settings import load_settings

CANONICAL = yaml.safe_load(CANONICAL_DEFINITIONS.read_text(encoding="utf-8"))
SPEND = yaml.safe_load(SPEND_DEFINITIONS.read_text(encoding="utf-8"))
SOURCE = CANONICAL["sources"][0]
FEATURE = CANONICAL["features"][0]
EVIDENCE = {
    "metric": "retention_rate",
    "control": {"name": "churn@1", "sample_size": 1000, "value": 0.80},
    "treatment": {"name": "churn@2", "sample_size": 1000, "value": 0.84},
    "effect": 0.04,
    "ci_low": 0.01,
    "ci_high": 0.07,
    "confidence": 0.95,
    "p_value": 0.01,
    "alpha": 0.05,
    "source": "experiment churn-ab",
}
CONTRACT = {
    "metric": "retention_rate",
    "direction": "higher",
    "baseline": 0.80,
    "target": 0.82,
    "measurement_period": "30d",
    "rollback_threshold": 0.77,
    "rationale": "keeps customers",
}


def _with(raw: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**copy.deepcopy(raw), **changes}


def _policy_with(change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    raw = MonitoringPolicy.churn_default().to_mapping()
    change(raw)
    return raw


UNKNOWN_KEYS: list[tuple[str, Callable[[], object], str]] = [
    (
        "source",
        lambda: Source.from_dict(_with(SOURCE, ingestion_tme="ingested_at")),
        "source purchases.ingestion_tme: unknown key; did you mean ingestion_time?",
    ),
    (
        "feature",
        lambda: FeatureDefinition.from_dict(_with(FEATURE, windw="30d")),
        "customer_activity_30d.windw: unknown key; did you mean window?",
    ),
    (
        "threshold",
        lambda: MonitoringPolicy.from_mapping(
            _policy_with(lambda raw: raw["thresholds"][0].update(critcal=0.3))
        ),
        "thresholds[0].critcal: unknown key; did you mean critical?",
    ),
    (
        "reporting",
        lambda: MonitoringPolicy.from_mapping(
            _policy_with(lambda raw: raw["reporting"].update(frequncy="daily"))
        ),
        "reporting.frequncy: unknown key; did you mean frequency?",
    ),
    (
        "policy",
        lambda: MonitoringPolicy.from_mapping(_policy_with(lambda raw: raw.update(treshold=[]))),
        "policy.treshold: unknown key; did you mean thresholds?",
    ),
    (
        "contract",
        lambda: BusinessImpact.from_mapping(_with(CONTRACT, rollback_treshold=0.7)),
        "contract.rollback_treshold: unknown key; did you mean rollback_threshold?",
    ),
    (
        "evidence",
        lambda: Evidence.from_mapping(_with(EVIDENCE, p_vlue=0.01)),
        "evidence.p_vlue: unknown key; did you mean p_value?",
    ),
    (
        "evidence arm",
        lambda: Evidence.from_mapping(
            _with(EVIDENCE, control={**EVIDENCE["control"], "sample_sise": 3})  # type: ignore[dict-item]
        ),
        "evidence.control.sample_sise: unknown key; did you mean sample_size?",
    ),
    (
        "hypothesis",
        lambda: Hypothesis.from_mapping({"description": "x", "expected_impakt": 0.1}),
        "hypotheses.expected_impakt: unknown key; did you mean expected_impact?",
    ),
    (
        "success criterion",
        lambda: SuccessCriterion.from_mapping({"name": "x", "target": 1, "basline": 0}),
        "success_criteria.basline: unknown key; did you mean baseline?",
    ),
]


@pytest.mark.parametrize(
    ("kind", "load", "sentence"), UNKNOWN_KEYS, ids=[u[0] for u in UNKNOWN_KEYS]
)
def test_an_unknown_key_is_refused_naming_the_nearest(
    kind: str, load: Callable[[], object], sentence: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        load()
    assert str(refused.value) == sentence


def test_an_unknown_key_far_from_any_lists_the_known_ones() -> None:
    with pytest.raises(InvalidInput, match=r"^contract\.zzz: unknown key \(known: alpha, "):
        BusinessImpact.from_mapping(_with(CONTRACT, zzz=1))


def test_a_lucid_yaml_key_names_the_nearest_setting(tmp_path: Path) -> None:
    (tmp_path / "lucid.yaml").write_text(
        "database_url: sqlite:///m.db\nonline_store_url: sqlite:///o.db\nartifacts_url: a\n"
        "databse_url: x\nscheduler: {tick_secs: 3}\n"
    )
    with pytest.raises(ConfigurationError) as refused:
        load_settings(tmp_path, {})
    assert "databse_url in" in str(refused.value)
    assert "unknown key; did you mean database_url?" in str(refused.value)
    assert "scheduler.tick_secs in" in str(refused.value)  # every problem at once
    assert "unknown key; did you mean tick_seconds?" in str(refused.value)


def test_a_definition_file_reports_every_problem_at_once(tmp_path: Path) -> None:
    file = tmp_path / "defs.yaml"
    bad_source = _with(SOURCE, ingestion_time=["at"])
    bad_feature = _with(FEATURE, windw="30d")
    file.write_text(yaml.safe_dump({"sources": [bad_source], "features": [bad_feature]}))
    with pytest.raises(InvalidInput) as refused:
        load_definitions(file)
    sentence = str(refused.value)
    assert sentence.startswith(f"{file}: 2 problems: ")
    assert "source purchases.ingestion_time: must be a column name (text), not a list" in sentence
    assert "customer_activity_30d.windw: unknown key; did you mean window?" in sentence
    file.write_text(yaml.safe_dump({"feature": [FEATURE]}))
    with pytest.raises(InvalidInput, match="feature: unknown key; did you mean features"):
        load_definitions(file)


# -- threshold bounds: one table of metrics, each with the values its thresholds may take ------

ALERT = (Action(ActionKind.ALERT, "data_team"),)
BOUNDS: list[tuple[str, float, float, str]] = [
    ("psi", -0.1, 0.2, "warning: a psi threshold must be ≥ 0, not -0.1"),
    ("wasserstein", -1.0, 1.0, "warning: a wasserstein threshold must be ≥ 0, not -1"),
    ("ks", 0.1, 1.2, "critical: a ks threshold must be ≥ 0 and ≤ 1, not 1.2"),
    ("jensen_shannon", 0.1, 1.5, "critical: a jensen_shannon threshold must be ≥ 0 and ≤ 1"),
    ("ks_pvalue", 0.05, 0.0, "critical: a ks_pvalue threshold must be > 0 and < 1, not 0"),
    ("ks_pvalue", 1.0, 0.01, "warning: a ks_pvalue threshold must be > 0 and < 1, not 1"),
    ("chi_square_pvalue", 0.05, -0.01, "critical: a chi_square_pvalue threshold must be > 0"),
    ("accuracy_drop", 0.0, 0.05, "warning: a accuracy_drop threshold must be > 0 and ≤ 1"),
    ("auc_drop", 0.03, 1.5, "critical: a auc_drop threshold must be > 0 and ≤ 1, not 1.5"),
    ("business_metric_drop", -0.02, 0.02, "warning: a business_metric_drop threshold must be > 0"),
]


def _threshold(metric: str, warning: float, critical: float) -> Threshold:
    drift = next(iter(sorted(METRICS[metric].drift_types, key=lambda t: t.value)))
    return Threshold(DriftType(drift), metric, warning, critical, ALERT, ALERT)


@pytest.mark.parametrize(("metric", "warning", "critical", "sentence"), BOUNDS)
def test_a_threshold_outside_its_metric_bounds_is_refused(
    metric: str, warning: float, critical: float, sentence: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        _threshold(metric, warning, critical)
    assert str(refused.value).startswith(sentence)


@pytest.mark.parametrize("metric", sorted(METRICS))
def test_every_metric_has_bounds_that_accept_a_sensible_threshold(metric: str) -> None:
    spec = METRICS[metric]
    low = spec.bounds.low  # e.g. 0.5 for an AUC, 1 for a volume surge
    warning, critical = (low + 0.1, low + 0.2) if spec.higher_is_worse else (0.05, 0.01)
    assert _threshold(metric, warning, critical).metric == metric


def test_a_negative_psi_in_a_policy_file_names_the_field() -> None:
    raw = _policy_with(lambda raw: raw["thresholds"][0].update(warning=-0.1))
    with pytest.raises(InvalidInput, match=r"^thresholds\[0\]\.warning: a psi threshold must"):
        MonitoringPolicy.from_mapping(raw)


# -- type confusion: any field of a definition given the wrong type is one sentence ----------

WRONG_TYPES: list[object] = [["at"], {"a": 1}, 3, 2.5, True, None, "x" * 400, "x\n", ""]


def _paths(node: object, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if prefix:
        yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _paths(value, (*prefix, index))


def _replaced(item: dict[str, Any], path: tuple[Any, ...], value: object) -> dict[str, Any]:
    changed = copy.deepcopy(item)
    node: Any = changed
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return changed


@pytest.mark.parametrize(
    ("kind", "item"),
    [("sources", s) for s in CANONICAL["sources"] + SPEND.get("sources", [])]
    + [("features", f) for f in CANONICAL["features"] + SPEND["features"]],
    ids=lambda v: v if isinstance(v, str) else v["name"],
)
def test_a_wrong_type_anywhere_in_a_definition_is_one_sentence(
    kind: str, item: dict[str, Any]
) -> None:
    read = Source.from_dict if kind == "sources" else FeatureDefinition.from_dict
    for path in _paths(item):
        for wrong in WRONG_TYPES:
            try:
                parsed = read(_replaced(item, path, wrong))
            except InvalidInput as refusal:
                assert refusal.field and refusal.rule
                continue
            again = read(parsed.to_dict())  # what is accepted is stored and read back alike
            assert again.to_dict() == parsed.to_dict(), (path, wrong)
            if isinstance(parsed, FeatureDefinition):
                assert len(parsed.fingerprint) == 64
                for term in getattr(parsed.computation, "terms", ()):
                    assert term.column is None or isinstance(term.column, str), (path, wrong)


def test_ingestion_time_as_a_list_names_the_field_and_the_type() -> None:
    with pytest.raises(InvalidInput) as refused:
        Source.from_dict(_with(SOURCE, ingestion_time=["at"]))
    assert str(refused.value) == (
        "source purchases.ingestion_time: must be a column name (text), not a list"
    )


def _full_policy() -> dict[str, Any]:
    raw = MonitoringPolicy.churn_default().to_mapping()
    raw["thresholds"][0].update(feature="score", segment="plan=pro", runbook="runbooks/psi.md")
    return raw


RECORDS: list[tuple[str, Callable[[Any], Any], dict[str, Any]]] = [
    ("policy", MonitoringPolicy.from_mapping, _full_policy()),
    (
        "contract",
        BusinessImpact.from_mapping,
        _with(CONTRACT, guardrails=[{"metric": "cost", "cap": 3}], value_per_unit=3.0),
    ),
    ("evidence", Evidence.from_mapping, _with(EVIDENCE, guardrail_values={"cost": 1.0})),
    ("hypothesis", Hypothesis.from_mapping, {"description": "d", "expected_impact": 0.1}),
    (
        "success criterion",
        SuccessCriterion.from_mapping,
        {"name": "retention", "baseline": 0.1, "target": 0.2, "direction": "higher"},
    ),
]


@pytest.mark.parametrize(("kind", "read", "record"), RECORDS, ids=[r[0] for r in RECORDS])
def test_a_wrong_type_anywhere_in_a_record_file_is_one_sentence(
    kind: str, read: Callable[[Any], Any], record: dict[str, Any]
) -> None:
    for path in _paths(record):
        for wrong in [*WRONG_TYPES, float("nan")]:
            try:
                read(_replaced(record, path, wrong))
            except InvalidInput as refusal:
                assert refusal.field and refusal.rule


def test_a_checkpoint_a_thousand_centuries_away_is_refused() -> None:
    from lucid.contracts.deployments import checkpoint_days

    assert checkpoint_days([30, 36_500]) == (30, 36_500)
    with pytest.raises(InvalidInput, match="checkpoints: each must be a whole number of days"):
        checkpoint_days([10**20])


def test_a_policy_file_names_every_bad_threshold_at_once() -> None:
    def two_mistakes(raw: dict[str, Any]) -> None:
        raw["thresholds"][0]["warning"] = -0.1
        raw["thresholds"][2]["critcal"] = 0.3

    with pytest.raises(InvalidInput) as refused:
        MonitoringPolicy.from_mapping(_policy_with(two_mistakes))
    assert str(refused.value) == (
        "thresholds: 2 problems: thresholds[0].warning: a psi threshold must be ≥ 0, not -0.1. "
        "thresholds[2].critcal: unknown key; did you mean critical?"
    )
