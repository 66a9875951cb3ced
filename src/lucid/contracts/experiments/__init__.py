"""The rules of A/B experiments: assignment, the difference in means (CUPED), peeking, SRM,
sample size and duration.

An experiment compares the production version (control) with a challenger on the contract's
business metric, measured per entity as a number (0/1 for a binary metric such as retained),
better in the contract's direction.
By concept: `assignment` (the hashed arm of each entity), `statistics` (sample size, the
fixed-horizon and the always-valid tests, the sample-ratio check), `design` (what an
experiment tests), `analysis` (the decision at one look and the evidence it becomes),
`events`; `paired` and `shadow` compare a challenger's scores with production's on the same
rows (shadow comparisons). Pure: no I/O.
"""

from lucid.contracts.experiments.analysis import (
    Analysis,
    Decision,
    analyse,
    evidence_of,
    guardrail_results,
    worse_bound,
)
from lucid.contracts.experiments.assignment import (
    ARMS,
    CHALLENGER,
    CONTROL,
    DEFAULT_CHALLENGER_SHARE,
    assign,
    bucket,
    check_share,
    experiment_subject,
    validate_experiment_id,
)
from lucid.contracts.experiments.design import CONCLUDED, RUNNING, Design
from lucid.contracts.experiments.events import (
    ExperimentConcluded,
    ExperimentCreated,
    ExposuresLogged,
    OutcomesLogged,
)
from lucid.contracts.experiments.sample_size import (
    SampleSize,
    minimum_sample_size,
    minimum_sample_size_means,
    shrink,
)
from lucid.contracts.experiments.shadow import (
    ShadowBacktested,
    ShadowConcluded,
    ShadowDesign,
    ShadowScoresLogged,
    ShadowStarted,
)
from lucid.contracts.experiments.statistics import (
    DEFAULT_SRM_THRESHOLD,
    ArmStats,
    EffectTest,
    RatioCheck,
    always_valid_test,
    difference_test,
    sample_ratio_check,
)

__all__ = [
    "ARMS",
    "CHALLENGER",
    "CONCLUDED",
    "CONTROL",
    "DEFAULT_CHALLENGER_SHARE",
    "DEFAULT_SRM_THRESHOLD",
    "RUNNING",
    "Analysis",
    "ArmStats",
    "Decision",
    "Design",
    "EffectTest",
    "ExperimentConcluded",
    "ExperimentCreated",
    "ExposuresLogged",
    "OutcomesLogged",
    "RatioCheck",
    "SampleSize",
    "ShadowBacktested",
    "ShadowConcluded",
    "ShadowDesign",
    "ShadowScoresLogged",
    "ShadowStarted",
    "always_valid_test",
    "analyse",
    "assign",
    "bucket",
    "check_share",
    "difference_test",
    "evidence_of",
    "experiment_subject",
    "guardrail_results",
    "minimum_sample_size",
    "minimum_sample_size_means",
    "sample_ratio_check",
    "shrink",
    "validate_experiment_id",
    "worse_bound",
]
