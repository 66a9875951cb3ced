"""`lucid experiments`: A/B experiments of a challenger against production, their evidence."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from lucid.cli.context import acting, console, open_lucid, print_json
from lucid.experiments.row_files import read_rows

app = typer.Typer(help="A/B experiments: assignment, exposures, outcomes, the test, evidence.")


@app.command()
def create(
    ctx: typer.Context,
    experiment: str = typer.Argument(..., help="Experiment id, e.g. churn-v3-ab."),
    model: str = typer.Option(
        ..., "--model", help="Model name; its production version is control."
    ),
    challenger: int = typer.Option(..., "--challenger", help="Version at the challenger stage."),
    mde: float | None = typer.Option(
        None,
        "--mde",
        help="Effect to power, in the metric's unit (default: the contract's minimum effect "
        "for superiority, its margin for non-inferiority).",
    ),
    share: float = typer.Option(0.10, "--share", help="Challenger's share of traffic."),
    baseline: float | None = typer.Option(
        None, "--baseline", help="Control's expected mean (default: the contract's)."
    ),
    metric_sd: float | None = typer.Option(
        None, "--metric-sd", help="Per-entity SD of a numeric metric (omit for a 0/1 metric)."
    ),
    rho: float = typer.Option(
        0.0, "--covariate-correlation", help="CUPED: expected correlation of the covariate."
    ),
    per_day: float | None = typer.Option(
        None, "--entities-per-day", help="Entities exposed per day, both arms."
    ),
    days: float | None = typer.Option(
        None, "--planned-days", help="Days the test may run; refused if it cannot reach."
    ),
    salt: str | None = typer.Option(None, "--salt", help="Assignment salt (default: the id)."),
    alpha: float | None = typer.Option(None, "--alpha", help="Default: the contract's alpha."),
    power: float = typer.Option(0.8, "--power"),
    sequential: bool = typer.Option(
        False, "--sequential", help="Always-valid mSPRT: safe to peek, may conclude early."
    ),
    rationale: str = typer.Option(..., "--rationale", help="What the experiment should show."),
    actor: str | None = typer.Option(None, "--as", help="Who designs it."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Design an experiment: control = production, metric and guardrails = the contract."""
    with open_lucid(ctx) as lucid:
        design = lucid.experiments.create(
            experiment,
            model=model,
            challenger=challenger,
            minimum_detectable_effect=mde,
            challenger_share=share,
            baseline=baseline,
            salt=salt,
            alpha=alpha,
            power=power,
            sequential=sequential,
            metric_sd=metric_sd,
            covariate_correlation=rho,
            entities_per_day=per_day,
            planned_days=days,
            actor=acting(actor),
            rationale=rationale,
        )
        summary = design.plan_summary()
    if as_json:
        print_json({"design": design.to_dict(), **summary})
        return
    minimum, needed = summary["minimum_sample"], summary["days_needed"]
    duration = "" if needed is None else f", {needed} days at this share"
    console.print(
        f"Created {experiment}: {design.control_label} (control) vs {design.challenger_label} "
        f"(challenger, {design.challenger_share:.0%} of traffic), "
        f"{design.comparison.value.replace('_', '-')} on {design.metric} powered for "
        f"{design.minimum_detectable_effect:g}; minimum sample {minimum['control']} control / "
        f"{minimum['challenger']} challenger entities ({summary['total']} in all{duration})."
    )


@app.command()
def expose(
    ctx: typer.Context,
    experiment: str = typer.Argument(...),
    file: Path = typer.Option(
        ..., "--file", help="Parquet/CSV: entity_id[, arm, version, exposed_at, covariate]."
    ),
    actor: str | None = typer.Option(None, "--as", help="Who logs (e.g. the serving service)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Log a batch of exposures; a row whose arm is not the hashed assignment refuses all."""
    rows = read_rows(file, "--file")
    with open_lucid(ctx) as lucid:
        counts = lucid.experiments.expose(experiment, rows, actor=acting(actor))
    if as_json:
        print_json(counts)
        return
    console.print(
        f"Logged {counts['control']} control and {counts['challenger']} challenger exposures "
        f"({counts['already_exposed']} already exposed)."
    )


@app.command()
def outcomes(
    ctx: typer.Context,
    experiment: str = typer.Argument(...),
    file: Path = typer.Option(
        ..., "--file", help="Parquet/CSV: entity_id, value[, metric, observed_at]."
    ),
    actor: str | None = typer.Option(None, "--as", help="Who logs the outcomes."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Log per-entity outcomes: a number per entity on the contract's metric or a guardrail."""
    rows = read_rows(file, "--file")
    with open_lucid(ctx) as lucid:
        counts = lucid.experiments.record_outcomes(experiment, rows, actor=acting(actor))
    if as_json:
        print_json(counts)
        return
    listed = ", ".join(f"{n} {metric}" for metric, n in sorted(counts.items()))
    console.print(f"Logged {listed} outcomes.")


@app.command()
def status(
    ctx: typer.Context,
    experiment: str = typer.Argument(...),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """The analysis now: arms, SRM check, the test, guardrails, whether it may conclude."""
    with open_lucid(ctx) as lucid:
        analysis = lucid.experiments.status(experiment).to_dict()
    if as_json:
        print_json(analysis)
        return
    table = Table("arm", "version", "exposed", "measured", "mean", "variance")
    for arm in ("control", "challenger"):
        a: dict[str, Any] = analysis[arm]
        mean = "-" if a["mean"] is None else f"{a['mean']:.4f}"
        table.add_row(
            arm, a["version"], str(a["exposed"]), str(a["measured"]), mean, f"{a['variance']:.4g}"
        )
    console.print(table)
    test = analysis["test"]
    if test:
        console.print(
            f"{test['method']}: effect {test['effect']:+.4f} "
            f"[{test['ci_low']:+.4f}, {test['ci_high']:+.4f}], p = {test['p_value']:.4g}"
        )
    console.print(f"{analysis['decision']}: {analysis['reason']}.")


@app.command()
def conclude(
    ctx: typer.Context,
    experiment: str = typer.Argument(...),
    rationale: str = typer.Option(..., "--rationale", help="Why it is concluded now."),
    actor: str | None = typer.Option(None, "--as", help="Who concludes."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Conclude and attach the evidence to the challenger (refused before it may conclude)."""
    with open_lucid(ctx) as lucid:
        design = lucid.experiments.design(experiment)
        evidence = lucid.experiments.conclude(experiment, actor=acting(actor), rationale=rationale)
    if as_json:
        print_json(evidence.to_dict())
        return
    console.print(
        f"Concluded {experiment}: {design.challenger_label} {evidence.treatment.value:.4f} vs "
        f"{evidence.control.value:.4f}, p = {evidence.p_value:.4g}; evidence attached to "
        f"{design.challenger_label}."
    )


@app.command("list")
def list_(
    ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help="Print JSON.")
) -> None:
    """Every experiment and where it stands."""
    with open_lucid(ctx) as lucid:
        found = lucid.experiments.overview()
    if as_json:
        print_json(found)
        return
    table = Table("experiment", "model", "control", "challenger", "status", "decision")
    for e in found:
        table.add_row(
            e["id"],
            e["model"],
            str(e["control_version"]),
            str(e["challenger_version"]),
            e["status"],
            e["decision"] or "-",
        )
    console.print(table)
