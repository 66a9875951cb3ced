"""`lucid deploy`, `lucid checkpoints` and `lucid scorecard`: the learning loop's commands."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
import yaml

from lucid.cli.context import acting, console, open_lucid, print_json
from lucid.contracts.deployments import DECISION_KEYS
from lucid.contracts.names import refuse_unknown_keys
from lucid.contracts.override_share import WHOLE_HISTORY, OverrideShares, check_period
from lucid.contracts.times import to_utc
from lucid.errors import InvalidInput

if TYPE_CHECKING:
    from rich.table import Table

checkpoints_app = typer.Typer(help="Deployment checkpoints: the hypotheses checked over time.")


def _moment(text: str, field: str) -> datetime:
    """An ISO 8601 option as an aware UTC time: an offset is honoured, no offset means UTC."""
    return to_utc(text, field)


def _decision(path: Path) -> dict[str, Any]:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InvalidInput("--decision", f"the file {path} does not exist") from None
    except yaml.YAMLError as error:
        raise InvalidInput("--decision", f"{path} is not valid YAML ({error})") from None
    if not isinstance(raw, dict):
        raise InvalidInput("--decision", f"{path} must hold a mapping with hypotheses")
    refuse_unknown_keys(raw, DECISION_KEYS, "--decision")
    for name in DECISION_KEYS:
        if raw.get(name) is not None and not isinstance(raw[name], list):
            raise InvalidInput(name, f"must be a list, not {raw[name]!r}")
    return raw


def deploy(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Model name."),
    version: int = typer.Argument(..., help="Version to put into production."),
    decision: Path = typer.Option(
        ...,
        "--decision",
        help="YAML: hypotheses (description, expected_impact, unit), success_criteria (name, "
        "baseline, target, direction; default: the contract's metric), checkpoints (days; "
        "default 30, 90, 180).",
    ),
    rationale: str = typer.Option(..., "--rationale", help="Why it is deployed."),
    actor: str | None = typer.Option(None, "--as", help="Who deploys."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Promote a version to production through the gate and record the decision."""
    raw = _decision(decision)
    with open_lucid(ctx) as lucid:
        deployment = lucid.loop.deploy(
            name,
            version,
            hypotheses=raw.get("hypotheses") or [],
            success_criteria=raw.get("success_criteria"),
            checkpoints=raw.get("checkpoints"),
            actor=acting(actor),
            rationale=rationale,
        )
    if as_json:
        print_json(deployment.to_dict())
        return
    console.print(
        f"Deployed {name}@{version} (deployment {deployment.id}); checkpoints at "
        + ", ".join(deployment.checkpoints)
        + "."
    )


@checkpoints_app.command("run")
def run(
    ctx: typer.Context,
    at: str | None = typer.Option(
        None, "--at", help="Judge what is due by this time (ISO 8601; no offset means UTC)."
    ),
    actor: str | None = typer.Option(None, "--as", help="Who runs them (e.g. cron)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Judge every due checkpoint on the registry's observations and record the verdicts."""
    moment = _moment(at, "--at") if at is not None else None
    with open_lucid(ctx) as lucid:
        judged = lucid.loop.run_checkpoints(at=moment, actor=acting(actor))
    if as_json:
        print_json([c.to_dict() for c in judged])
        return
    if not judged:
        console.print("No checkpoint is due.")
    for c in judged:
        lesson = " — a lesson is requested" if c.outcome == "failed" else ""
        console.print(f"{c.name}@{c.version} {c.days}-day checkpoint: {c.outcome}{lesson}.")


@checkpoints_app.command("list")
def list_(
    ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help="Print JSON.")
) -> None:
    """Every checkpoint of every deployment, due first."""
    with open_lucid(ctx) as lucid:
        found = lucid.loop.checkpoints()
    if as_json:
        print_json([c.to_dict() for c in found])
        return
    from rich.table import Table

    table = Table("deployment", "model", "days", "due", "evaluated", "outcome")
    for c in found:
        table.add_row(
            str(c.deployment_id),
            f"{c.name}@{c.version}",
            str(c.days),
            c.due_at,
            c.evaluated_at or "-",
            c.outcome or "-",
        )
    console.print(table)


def scorecard(
    ctx: typer.Context,
    period: str = typer.Option(
        "month", "--period", help="Cut the promotions by month, quarter or year (UTC)."
    ),
    recompute: bool = typer.Option(
        False,
        "--recompute",
        help="Measure every figure from scratch too; show both and exit 1 if they differ.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """The seed's scorecard measured from the stores and the log (null: nothing to measure),
    then each model's production promotions per period: by evidence, by override. The skew's sums
    are kept and brought up to date with the values served since; `--recompute` measures it
    from scratch, keeps that, and shows the figures as kept and as recomputed."""
    try:
        check_period(period)
    except InvalidInput as refused:
        raise InvalidInput("--period", refused.rule) from None
    with open_lucid(ctx) as lucid:
        card = lucid.loop.scorecard().to_dict()
        recomputed = lucid.loop.scorecard(recompute=True).to_dict() if recompute else None
        shares = lucid.registry.override_shares(period)
    differ = [] if recomputed is None else [k for k in card if card[k] != recomputed[k]]
    if as_json:
        body: dict[str, Any] = {**card, "override_shares": shares.to_dict()}
        if recomputed is not None:
            body.update(recomputed=recomputed, agree=not differ, differ=differ)
        print_json(body)
    else:
        _print_scorecard(card, recomputed)
        console.print(_promotions_table(shares))
        if recomputed is not None:
            console.print(
                "cached and recomputed figures agree."
                if not differ
                else f"cached and recomputed figures differ: {', '.join(differ)}."
            )
    if differ:
        raise typer.Exit(1)


def _print_scorecard(card: dict[str, Any], recomputed: dict[str, Any] | None) -> None:
    """One row per figure; with `recomputed`, its value beside the cached one."""
    columns = ("figure", "value") if recomputed is None else ("figure", "cached", "recomputed")
    from rich.table import Table

    table = Table(*columns)
    for key, value in card.items():
        row = [key, _figure(value)]
        if recomputed is not None:
            row.append(_figure(recomputed[key]))
        table.add_row(*row)
    console.print(table)


def _figure(value: Any) -> str:
    return "-" if value is None else f"{value:g}"


def _promotions_table(shares: OverrideShares) -> Table:
    """One row per model and period, then each model's whole history."""
    from rich.table import Table

    table = Table(
        "model",
        shares.period,
        "promotions",
        "by evidence (Lucid / external)",
        "by override",
        "override share",
        title="Production promotions",
    )
    for row in shares.rows:
        share = row.override_share_pct
        table.add_row(
            row.model,
            "whole history" if row.period == WHOLE_HISTORY else row.period,
            str(row.promotions),
            f"{row.by_evidence} ({row.evidence_lucid} / {row.evidence_external})",
            str(row.by_override),
            "-" if share is None else f"{share:.0f} %",
        )
    if not shares.rows:
        table.add_row("-", "-", "0", "-", "-", "-")
    return table
