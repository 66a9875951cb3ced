"""`lucid monitor check`, `predictions`, `outcomes`, `seal`, `profile`: data in, the log's
rows sealed into segments, reference profiles."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import typer
from rich.table import Table

from lucid.cli.context import acting, console, open_lucid, print_json
from lucid.cli.monitor_output import (
    LEVEL_STYLE,
    WINDOW_END,
    WINDOW_START,
    format_value,
    print_findings,
    window_options,
)
from lucid.contracts.validity.policy import MonitoringPolicy
from lucid.errors import InvalidInput


def check(
    reference: Path = typer.Option(..., "--reference", help="Reference data (.parquet or .csv)."),
    current: Path = typer.Option(..., "--current", help="Current window (.parquet or .csv)."),
    policy_file: Path | None = typer.Option(
        None, "--policy", help="Monitoring policy YAML (default: the seed's churn policy)."
    ),
    segment: str | None = typer.Option(
        None, "--segment", help="Also check each value of this column (e.g. plan)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Run the policy's data-drift checks on two files; print every check and its level."""
    # Imported here: DuckDB and SciPy take a second to load, which other commands need not pay.
    from lucid.engines.duckdb import DuckDBEngine
    from lucid.monitoring.drift import DATA_DRIFT_METRICS, measure_data_drift
    from lucid.monitoring.multivariate import MULTIVARIATE_METRICS, measure_multivariate
    from lucid.monitoring.policy_file import load_policy
    from lucid.monitoring.profiles import build_profile

    policy = load_policy(policy_file) if policy_file else MonitoringPolicy.churn_default()
    checked = DATA_DRIFT_METRICS | MULTIVARIATE_METRICS
    drift = [t for t in policy.thresholds if t.metric in checked]
    if not drift:
        raise InvalidInput("policy", "has no data-drift threshold (psi, ks, ... ) to check")
    policy = policy.with_thresholds(drift)
    multivariate = policy.metrics & MULTIVARIATE_METRICS
    with DuckDBEngine() as engine:
        engine.register("reference", reference)
        engine.register("current", current)
        profile = build_profile(
            engine, "reference", segment_column=segment, multivariate=bool(multivariate)
        )
        measured = measure_data_drift(
            engine,
            "current",
            profile,
            metrics=policy.metrics,
            minimum_rows=policy.minimum_rows,
        )
        measured += measure_multivariate(
            engine, "current", profile, metrics=multivariate, minimum_rows=policy.minimum_rows
        )
    evaluation = policy.evaluate(measured)
    if as_json:
        print_json({"model": policy.model, **evaluation.to_dict()})
        return
    table = Table("threshold", "feature", "segment", "value", "level", "no-drift PSI", "note")
    for item in evaluation.checks:
        table.add_row(
            item.threshold.key,
            item.measurement.feature or "-",
            item.measurement.segment or "all",
            format_value(item.measurement.value),
            f"[{LEVEL_STYLE[item.level]}]{item.level.value}[/]",
            format_value(item.measurement.expected_no_drift),
            item.measurement.note or "",
        )
    console.print(table)
    print_findings([c.to_dict() for c in evaluation.checks])
    actions = ", ".join(str(a) for a in evaluation.actions) or "none"
    level = evaluation.level
    console.print(
        f"{len(evaluation.checks)} checks; worst level [{LEVEL_STYLE[level]}]{level.value}[/]; "
        f"actions: {actions}"
    )


def predictions(
    ctx: typer.Context,
    path: Path = typer.Argument(..., help="Predictions: .parquet or .csv."),
    model: str = typer.Option(..., "--model", help="The model that served them."),
    version: str = typer.Option(..., "--version", help="The model version that served them."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Log served predictions from a file: columns entity, served_at, score, optional id and
    arm; every other column is a feature value."""
    with open_lucid(ctx) as lucid:
        ids = lucid.monitoring.log_predictions_file(model, version, path)
    if as_json:
        print_json({"model": model, "version": version, "logged": len(ids)})
        return
    console.print(f"{len(ids)} predictions of {model} version {version} logged")


def outcomes(
    ctx: typer.Context,
    path: Path = typer.Argument(..., help="Outcomes: .parquet or .csv."),
    model: str = typer.Option(..., "--model", help="The model whose predictions they answer."),
    horizon_days: float | None = typer.Option(
        None, "--horizon-days", help="Join by entity within this many days (default 90)."
    ),
    metric: list[str] = typer.Option(
        [],
        "--metric",
        help="A column holding a business metric value (repeatable): experiment outcomes for "
        "predictions served in an arm of the model's running experiment.",
    ),
    actor: str | None = typer.Option(None, "--as", help="Who logs the outcomes."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Log outcomes (columns label 0/1, observed_at, and prediction_id or entity) joined to
    their predictions: by prediction_id when given, else the entity's latest prediction at
    or before observed_at within the horizon. Unmatched outcomes are counted, not stored.
    Columns named by --metric are business metric values (see docs/experiments.md)."""
    if horizon_days is not None and not horizon_days > 0:
        raise InvalidInput("--horizon-days", f"must be a positive number, not {horizon_days}")
    horizon = None if horizon_days is None else timedelta(days=horizon_days)
    with open_lucid(ctx) as lucid:
        report = lucid.monitoring.log_outcomes_file(
            model, path, horizon=horizon, metrics=metric, actor=acting(actor)
        )
    if as_json:
        print_json({"model": model, **report.to_dict()})
        return
    console.print(
        f"{report.logged} outcomes of {model} logged, {report.already_logged} already logged, "
        f"{len(report.unmatched)} matched no prediction (not stored), "
        f"{report.experiment_outcomes} experiment outcomes"
    )


def profile(
    ctx: typer.Context,
    model: str = typer.Argument(..., help="The model."),
    version: str = typer.Option(..., "--version", help="The model version to profile."),
    reference: Path | None = typer.Option(
        None, "--reference", help="Reference file (.parquet/.csv): features, score, label."
    ),
    window_start: str | None = WINDOW_START,
    window_end: str | None = WINDOW_END,
    segment: str | None = typer.Option(None, "--segment", help="Also profile per value."),
    actor: str | None = typer.Option(None, "--as", help="Who builds it."),
) -> None:
    """Build the version's reference profile once, from a file or from its logged
    predictions (and outcomes) in a window."""
    start, end = window_options(window_start, window_end)
    with open_lucid(ctx) as lucid:
        built, stored = lucid.monitoring.build_profile(
            model,
            version,
            reference=reference,
            start=start,
            end=end,
            segment=segment,
            actor=acting(actor),
        )
    columns = ", ".join(built.overall.columns)
    state = "stored" if stored else "already stored (identical)"
    console.print(f"reference profile of {model} version {version} {state}: {columns}")


def seal(
    ctx: typer.Context,
    model: str | None = typer.Option(None, "--model", help="Seal this model only."),
    before: str | None = typer.Option(
        None, "--before", help="Seal the rows served before this UTC day, YYYY-MM-DD (today)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Move the logged prediction and outcome rows of UTC days that have ended into columnar
    segments, one model and day each, and the served feature values of those days (every
    model's, so not with --model) into segments of one day each (the scheduler does it once
    a UTC day). Sealing twice is a no-op."""
    with open_lucid(ctx) as lucid:
        report = lucid.monitoring.seal(model, before)
    if as_json:
        print_json(report.to_dict())
        return
    for day in report.days:
        console.print(
            f"{day['model']} {day['day']}: {_counted(day['rows'], 'row')} in "
            f"{_counted(day['segments'], 'segment')}"
        )
    for day in report.outcome_days:
        console.print(
            f"{day['model']} {day['day']}: {_counted(day['rows'], 'outcome row')} in "
            f"{_counted(day['segments'], 'segment')}"
        )
    console.print(
        f"{_counted(report.rows, 'prediction row')} served before {report.before} sealed into "
        f"{_counted(report.segments, 'segment')}"
    )
    console.print(
        f"{_counted(report.outcomes, 'outcome row')} logged before {report.before} sealed into "
        f"{_counted(report.outcome_segments, 'segment')}"
    )
    if model is None:
        console.print(
            f"{_counted(report.served, 'served feature value')} served before {report.before} "
            f"sealed into {_counted(report.served_segments, 'segment')}"
        )


def _counted(n: int, noun: str) -> str:
    """`n` and `noun`, plural unless `n` is 1."""
    return f"{n} {noun}{'' if n == 1 else 's'}"
