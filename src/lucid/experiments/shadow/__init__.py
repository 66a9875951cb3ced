"""Shadow comparisons as use cases: a challenger scores production's requests without acting
on them (`comparisons`: start, log, status, conclude), or both versions score the same
labelled point-in-time rows (`backtest`); paired tests on the same rows become the
challenger's predictive evidence. `lab.ShadowComparisons` gathers the verbs for the SDK, the
CLI and the service.
"""
