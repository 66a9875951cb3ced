"""`lucid monitor`: the validity contract from the command line."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from lucid.cli.context import console, print_json
from lucid.contracts.validity import Level, MonitoringPolicy
from lucid.errors import InvalidInput

app = typer.Typer(help="Drift monitoring: the validity contract.", no_args_is_help=True)

_LEVEL_STYLE = {
    Level.OK: "green",
    Level.INSUFFICIENT_DATA: "yellow",
    Level.WARNING: "bold yellow",
    Level.CRITICAL: "bold red",
}


def _format(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"


@app.command()
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
    from lucid.monitoring.policy_file import load_policy
    from lucid.monitoring.profiles import build_profile

    policy = load_policy(policy_file) if policy_file else MonitoringPolicy.churn_default()
    drift = [t for t in policy.thresholds if t.metric in DATA_DRIFT_METRICS]
    if not drift:
        raise InvalidInput("policy", "has no data-drift threshold (psi, ks, ... ) to check")
    policy = policy.with_thresholds(drift)
    with DuckDBEngine() as engine:
        engine.register("reference", reference)
        engine.register("current", current)
        profile = build_profile(engine, "reference", segment_column=segment)
        measured = measure_data_drift(
            engine,
            "current",
            profile,
            metrics=policy.metrics,
            minimum_rows=policy.minimum_rows,
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
            _format(item.measurement.value),
            f"[{_LEVEL_STYLE[item.level]}]{item.level.value}[/]",
            _format(item.measurement.expected_no_drift),
            item.measurement.note or "",
        )
    console.print(table)
    actions = ", ".join(str(a) for a in evaluation.actions) or "none"
    level = evaluation.level
    console.print(
        f"{len(evaluation.checks)} checks; worst level [{_LEVEL_STYLE[level]}]{level.value}[/]; "
        f"actions: {actions}"
    )
