"""`lucid monitor check` with the multivariate metrics in a real process: a correlation whose
sign flips is critical on both while PSI stays ok; a threshold on the wrong side is one
sentence and exit 1."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tests.conftest import run_lucid


def frame(rows: int, seed: int, rho: float) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    first = rng.standard_normal(rows)
    second = rho * first + np.sqrt(1 - rho**2) * rng.standard_normal(rows)
    return pd.DataFrame(
        {"activity": first, "spend": 30 + 8 * second, "plan": rng.choice(["free", "pro"], rows)}
    )


def policy(auc_warning: float = 0.6) -> dict[str, Any]:
    def threshold(metric: str, warning: float, critical: float) -> dict[str, Any]:
        return {
            "drift_type": "data",
            "metric": metric,
            "warning": warning,
            "critical": critical,
            "warning_action": "alert:data_team",
            "critical_action": "retrain",
        }

    return {
        "model": "churn",
        "thresholds": [
            threshold("domain_classifier_auc", auc_warning, 0.7),
            threshold("reconstruction_error_rise", 0.1, 0.3),
            threshold("psi", 0.1, 0.2),
        ],
        "reporting": {"stakeholders": ["data_team@example.org"]},
    }


def check(tmp_path: Path, raw: dict[str, Any]) -> Any:
    reference, current = tmp_path / "reference.parquet", tmp_path / "current.csv"
    frame(4_000, 1, 0.7).to_parquet(reference)
    frame(3_000, 2, -0.7).to_csv(current, index=False)
    policy_file = tmp_path / "policy.json"
    policy_file.write_text(json.dumps(raw))
    return run_lucid(
        "monitor",
        "check",
        "--reference",
        str(reference),
        "--current",
        str(current),
        "--policy",
        str(policy_file),
        "--json",
    )


def test_a_correlation_flip_is_critical_on_both_multivariate_checks(tmp_path: Path) -> None:
    result = check(tmp_path, policy())
    assert result.code == 0, result.stderr
    checks = json.loads(result.stdout)["checks"]
    levels = {(c["metric"], c["feature"]): c["level"] for c in checks}
    assert levels["domain_classifier_auc", None] == "critical"
    assert levels["reconstruction_error_rise", None] == "critical"
    assert {levels["psi", column] for column in ("activity", "spend", "plan")} == {"ok"}
    auc = next(c for c in checks if c["metric"] == "domain_classifier_auc")
    assert auc["pvalue"] < 1e-6
    assert {f["feature"] for f in auc["details"]["features"][:2]} == {"activity", "spend"}


@pytest.mark.parametrize(
    ("warning", "message"),
    [
        (0.4, "a domain_classifier_auc threshold must be > 0.5 and ≤ 1, not 0.4"),
        (0.8, "must be below critical for domain_classifier_auc, where higher is worse"),
    ],
)
def test_an_auc_threshold_on_the_wrong_side_is_one_sentence(
    tmp_path: Path, warning: float, message: str
) -> None:
    result = check(tmp_path, policy(auc_warning=warning))
    assert result.code == 1, result.stdout
    stderr = " ".join(result.stderr.split())
    assert f"error: thresholds[0].warning: {message}" in stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 3
