"""The validity contract: monitoring policies, thresholds, graded checks and the actions they ask.

A `MonitoringPolicy` holds a model's thresholds and reporting. `evaluate` grades *every*
threshold against the measurements of a run and never stops at the first non-OK check (the
seed's `checkDrift` did, and hid every later check). The worst level of the run decides its
severity; the actions are those asked by every non-OK check, so a warning on data drift and a
critical business drop report both and ask for the rollback.

Pure: no I/O. Measurements come from the monitoring statistics; YAML is read elsewhere and
handed here as a mapping (`MonitoringPolicy.from_mapping`), so the SDK and YAML build the same
objects. One module per concept: `grades`, `actions`, `metrics`, `thresholds`, `evaluation`,
`policy`, `profiles` (the reference a run compares with) and `records` (what is stored).
"""

from lucid.contracts.validity.actions import SEED_ACTIONS, Action, ActionKind, parse_actions
from lucid.contracts.validity.evaluation import Check, PolicyEvaluation
from lucid.contracts.validity.grades import DriftType, Level
from lucid.contracts.validity.metrics import (
    DEFAULT_MINIMUM_ROWS,
    METRICS,
    Measurement,
    MetricSpec,
    metric_spec,
)
from lucid.contracts.validity.policy import (
    Frequency,
    MonitoringPolicy,
    Reporting,
    ThresholdApproval,
    ThresholdChanged,
)
from lucid.contracts.validity.profiles import (
    DEFAULT_BINS,
    OTHER,
    CategoricalProfile,
    ColumnProfile,
    NumericProfile,
    PerformanceProfile,
    ReferenceProfile,
    SegmentKey,
    SegmentProfile,
)
from lucid.contracts.validity.records import AlertRecord, IncidentRecord, RunRecord
from lucid.contracts.validity.stored_runs import stored_evaluation
from lucid.contracts.validity.thresholds import Threshold

__all__ = [
    "DEFAULT_BINS",
    "DEFAULT_MINIMUM_ROWS",
    "METRICS",
    "OTHER",
    "SEED_ACTIONS",
    "Action",
    "ActionKind",
    "AlertRecord",
    "CategoricalProfile",
    "Check",
    "ColumnProfile",
    "DriftType",
    "Frequency",
    "IncidentRecord",
    "Level",
    "Measurement",
    "MetricSpec",
    "MonitoringPolicy",
    "NumericProfile",
    "PerformanceProfile",
    "PolicyEvaluation",
    "ReferenceProfile",
    "Reporting",
    "RunRecord",
    "SegmentKey",
    "SegmentProfile",
    "Threshold",
    "ThresholdApproval",
    "ThresholdChanged",
    "metric_spec",
    "parse_actions",
    "stored_evaluation",
]
