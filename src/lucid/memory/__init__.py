"""The memory of the learning loop: deployments as decisions, checkpoints, the scorecard."""
