"""A/B experiments as use cases: design, exposures and outcomes, the analysis, the conclusion.

The control is the model's production version and the challenger a version at the challenger
stage; the metric, its direction and the guardrails are the challenger's impact contract. Each
change writes its rows and its event in one unit of work, and every batch is checked whole
before anything is written: a refused batch stores nothing. `lab.Experiments` gathers the
verbs (`design`, `exposures`, `outcomes`, `conclude`) for the SDK, the CLI and the service.
"""
