"""The scenario's small rules: who gets the retention budget, and the retention contract."""

from __future__ import annotations

import pytest

from lucid.contracts.value import Direction
from lucid.errors import InvalidInput
from lucid.scenarios.churn.arms import Arm, HandDeployedModels, retention_contract


def test_the_budget_goes_to_the_highest_scores_ties_broken_by_id() -> None:
    entities = ["c3", "c1", "c2", "c4"]
    scores = [0.2, 0.9, 0.2, 0.1]
    assert Arm.top_at_risk(entities, scores, 0.5) == ["c1", "c2"]
    assert Arm.top_at_risk(entities, scores, 0.0) == []
    assert Arm.top_at_risk(entities, scores, 1.0) == ["c1", "c2", "c3", "c4"]


def test_the_retention_contract_sits_around_the_measured_baseline() -> None:
    contract = retention_contract(0.98512)
    assert contract.metric == "retention_7d"
    assert contract.direction is Direction.HIGHER
    assert contract.rollback_threshold < contract.baseline == 0.9851 < contract.target
    assert retention_contract(0.9989).target == 0.999  # capped below 1


def test_a_retention_contract_without_room_is_refused() -> None:
    with pytest.raises(InvalidInput):
        retention_contract(0.9995)  # the target cannot be above the baseline


def test_a_hand_deployed_model_has_no_contract() -> None:
    portfolio = HandDeployedModels(1).portfolio()
    assert portfolio.production_models == 1
    assert portfolio.share_without_contract == 1.0
    assert HandDeployedModels(0).portfolio().production_models == 0
