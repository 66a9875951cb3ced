"""`lucid shadow`: a challenger scored in production's shadow, compared on the same rows once
outcomes matured; and backtests of both versions over the same labelled snapshots."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from lucid.cli.context import acting, console, open_lucid, print_json
from lucid.contracts.value import Evidence
from lucid.experiments.row_files import read_rows

app = typer.Typer(
    help="Shadow comparisons: the challenger scores production's requests without acting; "
    "paired tests (DeLong, log-loss, precision at the budget) become predictive evidence."
)

METRICS_HELP = "Predictive metric: auc, log_loss or precision_at_budget (repeat for several)."


@app.command()
def start(
    ctx: typer.Context,
    comparison: str = typer.Argument(..., help="Comparison id, e.g. churn-v3-shadow."),
    model: str = typer.Option(..., "--model", help="Model name; production is the control."),
    challenger: int = typer.Option(..., "--challenger", help="Version at the challenger stage."),
    metric: list[str] = typer.Option(["auc"], "--metric", help=METRICS_HELP),
    minimum_pairs: int = typer.Option(
        200, "--minimum-pairs", help="Pairs with a matured outcome needed to conclude."
    ),
    budget_share: float = typer.Option(
        0.05, "--budget-share", help="Share of rows the action budget reaches."
    ),
    rationale: str = typer.Option(..., "--rationale", help="What the comparison should show."),
    actor: str | None = typer.Option(None, "--as", help="Who starts it."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Start scoring the challenger in production's shadow (serving scores it from now on)."""
    with open_lucid(ctx) as lucid:
        design = lucid.shadow.start(
            comparison,
            model=model,
            challenger=challenger,
            actor=acting(actor),
            rationale=rationale,
            metrics=tuple(metric),
            minimum_pairs=minimum_pairs,
            budget_share=budget_share,
        )
    if as_json:
        print_json(design.to_dict())
        return
    console.print(
        f"Started {comparison}: {design.challenger_label} scores in the shadow of "
        f"{design.control_label} on {', '.join(design.metrics)}; concludes after "
        f"{design.minimum_pairs} matured pairs."
    )


@app.command()
def log(
    ctx: typer.Context,
    comparison: str = typer.Argument(...),
    file: Path = typer.Option(..., "--file", help="Parquet/CSV: prediction_id, score."),
    actor: str | None = typer.Option(None, "--as", help="Who logs (e.g. the batch job)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Log the challenger's scores of production predictions; an unknown id refuses all."""
    rows = [
        # A CSV reader takes an id of digits for a number; an id is text.
        {**row, "prediction_id": str(row["prediction_id"])}
        if isinstance(row.get("prediction_id"), int)
        else row
        for row in read_rows(file, "--file")
    ]
    with open_lucid(ctx) as lucid:
        logged = lucid.shadow.log(comparison, rows, actor=acting(actor))
    if as_json:
        print_json({"logged": logged})
        return
    console.print(f"Logged {logged} shadow scores.")


@app.command()
def status(
    ctx: typer.Context,
    comparison: str = typer.Argument(...),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Pairs logged and matured, whether it may conclude, each metric's estimate so far."""
    with open_lucid(ctx) as lucid:
        state = lucid.shadow.status(comparison)
    if as_json:
        print_json(state)
        return
    console.print(
        f"{comparison} ({state['status']}): {state['challenger']} vs {state['control']}; "
        f"{state['pairs_logged']} pairs logged, {state['pairs_matured']} matured "
        f"({state['positives']} positives, {state['negatives']} negatives)."
    )
    if state["estimates"]:
        table = Table("metric", "control", "challenger", "effect", "interval", "p")
        for metric, e in state["estimates"].items():
            table.add_row(
                metric,
                f"{e['control']:.4f}",
                f"{e['challenger']:.4f}",
                f"{e['effect']:+.4f}",
                f"[{e['ci_low']:+.4f}, {e['ci_high']:+.4f}]",
                f"{e['p_value']:.4g}",
            )
        console.print(table)
    console.print("May conclude." if state["can_conclude"] else f"Not yet: {state['reason']}.")


@app.command()
def conclude(
    ctx: typer.Context,
    comparison: str = typer.Argument(...),
    rationale: str = typer.Option(..., "--rationale", help="Why it is concluded now."),
    actor: str | None = typer.Option(None, "--as", help="Who concludes."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Conclude and attach the predictive evidence (refused before outcomes matured)."""
    with open_lucid(ctx) as lucid:
        evidence = lucid.shadow.conclude(comparison, actor=acting(actor), rationale=rationale)
    _show(evidence, as_json)


@app.command()
def backtest(
    ctx: typer.Context,
    model: str = typer.Option(..., "--model", help="Model name; production is the control."),
    challenger: int = typer.Option(..., "--challenger", help="Version at the challenger stage."),
    labels: Path = typer.Option(
        ..., "--labels", help="Parquet/CSV: entity_id, event_timestamp, label (0/1, matured)."
    ),
    metric: list[str] = typer.Option(["auc"], "--metric", help=METRICS_HELP),
    minimum_pairs: int = typer.Option(200, "--minimum-pairs", help="Rows needed at least."),
    budget_share: float = typer.Option(0.05, "--budget-share"),
    rationale: str = typer.Option(..., "--rationale", help="What the backtest should show."),
    actor: str | None = typer.Option(None, "--as", help="Who runs it."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Score the same labelled point-in-time rows with both versions; attach the evidence."""
    with open_lucid(ctx) as lucid:
        evidence = lucid.shadow.backtest(
            model,
            challenger,
            labels=labels,
            actor=acting(actor),
            rationale=rationale,
            metrics=tuple(metric),
            minimum_pairs=minimum_pairs,
            budget_share=budget_share,
        )
    _show(evidence, as_json)


@app.command("list")
def list_(
    ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help="Print JSON.")
) -> None:
    """Every shadow comparison and where it stands."""
    with open_lucid(ctx) as lucid:
        found = lucid.shadow.overview()
    if as_json:
        print_json(found)
        return
    table = Table("comparison", "model", "control", "challenger", "status")
    for c in found:
        control = "no model" if c["control_version"] is None else str(c["control_version"])
        table.add_row(c["id"], c["model"], control, str(c["challenger_version"]), c["status"])
    console.print(table)


def _show(evidence: list[Evidence], as_json: bool) -> None:
    if as_json:
        print_json([record.to_dict() for record in evidence])
        return
    for record in evidence:
        console.print(
            f"{record.metric}: {record.treatment.name} {record.treatment.value:.4f} vs "
            f"{record.control.name} {record.control.value:.4f}, effect {record.effect:+.4f} "
            f"[{record.ci_low:+.4f}, {record.ci_high:+.4f}] at {record.confidence:.0%}, "
            f"p = {record.p_value:.4g} ({record.test}); attached to {record.treatment.name}."
        )
