"""The scorecard's figures by key, and how each is named to people (one source for the
dashboard, the demo's table and the retrospective). The figures themselves are measured by
`lucid.memory.scorecard`."""

from __future__ import annotations

SCORECARD_KEYS = (
    "contradictory_definitions",
    "training_serving_skew_pct",
    "models_without_impact_pct",
    "tech_business_correlation",
    "detection_delay_days",
    "time_to_recovery_days",
    "critical_incidents_undetected",
    "failures_documented_pct",
    "repeated_errors",
)
"""The nine figures of the seed's tables 2 and 3 (issue 8's list: it stays fixed)."""
TRANSPARENCY_KEY = "transparency_pct"
"""The figure added after the nine keys (issue 9)."""
OVERRIDE_SHARE_KEY = "override_share_pct"
"""The figure after transparency (issue 22): production promotions that were overrides."""
FIGURE_KEYS = (*SCORECARD_KEYS, TRANSPARENCY_KEY, OVERRIDE_SHARE_KEY)
"""Every figure, in the order `Scorecard.to_dict` gives them."""
INCIDENT_KEYS = SCORECARD_KEYS[4:]
"""The figures measured from the incidents (`IncidentFigures`' fields, in this order)."""

SCORECARD_LABELS: dict[str, str] = {
    "contradictory_definitions": "contradictory definitions",
    "training_serving_skew_pct": "training-serving skew (%)",
    "models_without_impact_pct": "models without impact contract (%)",
    "tech_business_correlation": "technical/business correlation (r)",
    "detection_delay_days": "drift detection delay (days)",
    "time_to_recovery_days": "time to recovery (days)",
    "critical_incidents_undetected": "critical shocks undetected",
    "failures_documented_pct": "failures documented (%)",
    "repeated_errors": "repeated errors",
    TRANSPARENCY_KEY: "stakeholders with dashboard access (%)",
    OVERRIDE_SHARE_KEY: "production promotions by override (%)",
}
"""Every figure's name for people, in the scorecard's order."""
