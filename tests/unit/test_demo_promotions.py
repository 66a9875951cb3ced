"""What the demo reports of each arm's production promotions: the counts by basis, and the
cells of its table, where a deployment no gate saw is said ungated."""

from __future__ import annotations

from lucid.contracts.override_share import EVERY_MODEL, PromotionTally
from lucid.contracts.periods import WHOLE_HISTORY
from lucid.scenarios.churn.architecture import promotion_counts
from lucid.scenarios.churn.comparison import PROMOTION_ROWS, promotion_cells


def test_a_gated_arm_reports_its_promotions_by_basis() -> None:
    tally = PromotionTally(EVERY_MODEL, WHOLE_HISTORY, 4, 3, 1, 2, 1)
    counts = promotion_counts(tally)
    assert counts == {
        "production": 4,
        "by_evidence": 3,
        "by_override": 1,
        "ungated": 0,
        "evidence_lucid": 2,
        "evidence_external": 1,
        "override_share_pct": 25.0,
    }
    assert promotion_cells(counts) == {
        "production_promotions": "4",
        "promotions_by_evidence": "3 (2 on Lucid's evidence)",
        "promotions_by_override": "1",
    }


def test_a_hand_copied_model_is_an_ungated_deployment_with_no_share() -> None:
    counts = promotion_counts(PromotionTally(EVERY_MODEL, WHOLE_HISTORY), ungated=1)
    assert (counts["production"], counts["ungated"], counts["by_override"]) == (1, 1, 0)
    assert counts["override_share_pct"] is None
    cells = promotion_cells(counts)
    assert cells["production_promotions"] == "1 ungated"
    assert cells["promotions_by_override"] == cells["promotions_by_evidence"] == "0"
    mixed = promotion_counts(PromotionTally(EVERY_MODEL, WHOLE_HISTORY, 2, 0, 2), ungated=1)
    assert promotion_cells(mixed)["production_promotions"] == "3 (1 ungated)"
    assert mixed["override_share_pct"] == 100.0  # of the gated promotions


def test_an_arm_without_figures_prints_dashes_in_every_row() -> None:
    assert promotion_cells({}) == {key: "—" for key, _ in PROMOTION_ROWS}
    assert [label for _, label in PROMOTION_ROWS][-1] == "promotions by override"
