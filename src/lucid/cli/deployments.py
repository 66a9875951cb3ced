"""`lucid deploy` and `lucid checkpoints`: the learning loop's deployments and their checks."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import typer
import yaml

from lucid.cli.context import acting, console, open_lucid, print_json
from lucid.contracts.deployments import DECISION_KEYS
from lucid.contracts.names import refuse_unknown_keys
from lucid.contracts.times import to_utc
from lucid.errors import InvalidInput

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
