"""`lucid features`: canonical definitions, their versions, approvals and the audit."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from lucid.cli.context import acting, console, open_lucid, print_json
from lucid.contracts.semantic import PlanAction
from lucid.contracts.times import to_utc
from lucid.features.definition_files import load_definitions

if TYPE_CHECKING:
    from lucid.features.apply import Plan

app = typer.Typer(help="Feature definitions: the semantic contract.", no_args_is_help=True)

PATH = typer.Argument(..., help="A YAML file, or a folder of them.")
AS_JSON = typer.Option(False, "--json", help="Print JSON.")
ACTOR = typer.Option(None, "--as", help="Who does it (default: $LUCID_ACTOR or the login).")


@app.command()
def plan(ctx: typer.Context, path: Path = PATH, as_json: bool = AS_JSON) -> None:
    """Show what `apply` would add, change (with the version bump) and leave alone."""
    definitions = load_definitions(path)
    with open_lucid(ctx) as lucid:
        result = lucid.features.plan(definitions)
    if as_json:
        print_json(result.to_dict())
    else:
        _print_plan(result)
    if result.refusals:
        raise typer.Exit(1)


@app.command()
def apply(
    ctx: typer.Context,
    path: Path = PATH,
    rationale: str = typer.Option(..., "--rationale", help="Why these definitions change."),
    actor: str | None = ACTOR,
    as_json: bool = AS_JSON,
) -> None:
    """Register new sources and propose new definitions; all or nothing."""
    definitions = load_definitions(path)
    with open_lucid(ctx) as lucid:
        result = lucid.features.apply(definitions, actor=acting(actor), rationale=rationale)
    if as_json:
        print_json(result.to_dict())
        return
    _print_plan(result)
    proposed = [i for i in result.features if i.action in (PlanAction.ADD, PlanAction.NEW_VERSION)]
    for item in proposed:
        console.print(f"Proposed {item.ref}: it needs the approval of its required teams.")


@app.command()
def approve(
    ctx: typer.Context,
    reference: str = typer.Argument(..., help="name@version"),
    team: str = typer.Option(..., "--team", help="The team this approval speaks for."),
    person: str | None = typer.Option(None, "--as", help="Who approves."),
    rationale: str = typer.Option("approved after review", "--rationale"),
) -> None:
    """Approve a proposed definition for one team; the last required team makes it canonical."""
    with open_lucid(ctx) as lucid:
        governed = lucid.features.approve(
            reference, team=team, person=acting(person), rationale=rationale
        )
    ref = governed.definition.ref
    if governed.missing_teams:
        console.print(f"{team} approved {ref}; still needed: {', '.join(governed.missing_teams)}")
    else:
        console.print(
            f"{ref} is approved by every required team: it is canonical for "
            f"{governed.definition.concept}."
        )


@app.command()
def deprecate(
    ctx: typer.Context,
    reference: str = typer.Argument(..., help="name@version"),
    rationale: str = typer.Option(..., "--rationale", help="Why it is retired."),
    actor: str | None = ACTOR,
) -> None:
    """Retire a definition (legacy ones included); its history is kept."""
    with open_lucid(ctx) as lucid:
        lucid.features.deprecate(reference, actor=acting(actor), rationale=rationale)
    console.print(f"{reference} is deprecated.")


@app.command("import-legacy")
def import_legacy(
    ctx: typer.Context,
    path: Path = PATH,
    rationale: str = typer.Option(
        "imported for the contradiction audit", "--rationale", help="Why they are imported."
    ),
    actor: str | None = ACTOR,
) -> None:
    """Import teams' existing, never-approved definitions so the audit can compare them."""
    definitions = load_definitions(path)
    with open_lucid(ctx) as lucid:
        imported = lucid.features.import_legacy(
            definitions, actor=acting(actor), rationale=rationale
        )
    console.print(
        f"Imported {len(imported)} legacy definition(s): "
        f"{', '.join(map(str, imported)) or 'none new'}"
    )


@app.command()
def audit(ctx: typer.Context, as_json: bool = AS_JSON) -> None:
    """Report contradictions: same concept, different computation, field by field."""
    with open_lucid(ctx) as lucid:
        report = lucid.features.audit()
    if as_json:
        print_json(report.to_dict())
        return
    console.print(f"Contradictory definitions: [bold]{report.contradictory_definitions}[/]")
    for concept in report.concepts:
        canonical = str(concept.canonical) if concept.canonical else "none approved"
        console.print(f"\n[bold]{concept.concept}[/] (canonical: {canonical})")
        for field_name, values in concept.differences:
            console.print(f"  {field_name}:")
            for ref, value in values.items():
                console.print(f"    {ref:40} {value}", highlight=False)


@app.command("list")
def list_features(ctx: typer.Context, as_json: bool = AS_JSON) -> None:
    """List every stored definition with its status and approvals."""
    with open_lucid(ctx) as lucid:
        governed = lucid.features.definitions()
    if as_json:
        print_json(
            [
                {
                    "name": g.definition.name,
                    "version": str(g.definition.version),
                    "concept": g.definition.concept,
                    "owner": g.definition.owner,
                    "status": g.status.value,
                    "fingerprint": g.definition.fingerprint,
                    "approvals": [{"team": a.team, "person": a.person} for a in g.approvals],
                    "missing_teams": list(g.missing_teams),
                }
                for g in governed
            ]
        )
        return
    table = Table("feature", "concept", "owner", "status", "approved by", "missing")
    table.columns[0].no_wrap = True  # the pin a model and `features show` take, kept whole
    for g in governed:
        table.add_row(
            str(g.definition.ref),
            g.definition.concept,
            g.definition.owner,
            g.status.value,
            ", ".join(a.team for a in g.approvals),
            ", ".join(g.missing_teams),
        )
    console.print(table)


@app.command()
def show(
    ctx: typer.Context,
    reference: str = typer.Argument(..., help="name or name@version"),
    sql: bool = typer.Option(False, "--sql", help="Print the SQL it compiles to."),
    dialect: str = typer.Option(
        "duckdb", "--dialect", help="SQL dialect for --sql (duckdb, spark)."
    ),
    as_json: bool = AS_JSON,
) -> None:
    """Show one definition (canonical version when no version is given)."""
    with open_lucid(ctx) as lucid:
        governed = lucid.features.get(reference)
        query = lucid.features.sql(str(governed.definition.ref), dialect=dialect) if sql else None
    if query is not None:
        # Soft wrap: the terminal folds long lines; the SQL itself is printed unchanged.
        console.print(query, highlight=False, markup=False, soft_wrap=True)
        return
    data = {
        **governed.definition.to_dict(),
        "status": governed.status.value,
        "fingerprint": governed.definition.fingerprint,
        "proposed_by": governed.proposed_by,
        "approvals": [{"team": a.team, "person": a.person} for a in governed.approvals],
    }
    print_json(data) if as_json else console.print_json(data=data)


def _print_plan(plan: Plan) -> None:
    table = Table("kind", "name", "action", "bump", "details")
    for source in plan.sources:
        table.add_row("source", source.name, source.action.value, "", source.reason)
    for item in plan.features:
        changes = ", ".join(f"{c.field} ({c.bump.label})" for c in item.changes)
        details = item.reason if item.action is PlanAction.REFUSE else (changes or item.reason)
        bump = item.required.label if item.changes else ""
        table.add_row("feature", str(item.ref), item.action.value, bump, details)
    console.print(table)


def _features_option(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


def _time(text: str | None, field_name: str) -> datetime | None:
    """An ISO 8601 option as an aware UTC time: an offset is honoured, no offset means UTC."""
    return None if text is None else to_utc(text, field_name)


@app.command("training-set")
def training_set(
    ctx: typer.Context,
    labels: Path = typer.Option(..., "--labels", help="Label rows: a Parquet or CSV file."),
    features: str = typer.Option(..., "--features", help="Pinned features: a@1.0,b@2.0"),
    out: Path = typer.Option(..., "--out", help="Parquet file to write."),
    entity_column: str = typer.Option("entity_id", "--entity-column"),
    time_column: str = typer.Option("timestamp", "--time-column"),
) -> None:
    """Write a point-in-time correct training set: each label row with every feature as known
    at the label's time."""
    with open_lucid(ctx) as lucid:
        result = lucid.features.get_training_set(
            labels,
            _features_option(features),
            entity_column=entity_column,
            time_column=time_column,
        )
        rows = result.to_parquet(out)
    console.print(f"Wrote {rows} rows with {', '.join(result.features)} to {out}")


@app.command()
def materialize(
    ctx: typer.Context,
    features: str | None = typer.Option(
        None, "--features", help="Pinned features (default: every approved definition)."
    ),
    at: str | None = typer.Option(
        None, "--at", help="Compute as known at this time (ISO 8601; no offset means UTC)."
    ),
) -> None:
    """Write the latest feature values to the online store."""
    with open_lucid(ctx) as lucid:
        written = lucid.features.materialize(
            _features_option(features) if features else None, at=_time(at, "--at")
        )
    for ref, count in written.items():
        console.print(f"{ref}: {count} entities written to the online store")


@app.command()
def get(
    ctx: typer.Context,
    entities: list[str] = typer.Argument(..., help="Entity ids."),
    features: str = typer.Option(..., "--features", help="Pinned features: a@1.0,b@2.0"),
    log: bool = typer.Option(False, "--log", help="Log the served values for the skew report."),
    now: str | None = typer.Option(
        None, "--now", help="Read as at this time (ISO 8601; no offset means UTC)."
    ),
) -> None:
    """Serve pinned features from the online store, as a model would (JSON)."""
    with open_lucid(ctx) as lucid:
        served = lucid.features.get_online_features(
            entities, _features_option(features), log=log, now=_time(now, "--now")
        )
    print_json([{ref: value.to_dict() for ref, value in row.items()} for row in served])


@app.command()
def skew(
    ctx: typer.Context,
    tolerance: float = typer.Option(1e-6, "--tolerance", help="Relative tolerance of a match."),
    since: str | None = typer.Option(None, "--since", help="Only values served since (ISO)."),
    as_json: bool = AS_JSON,
) -> None:
    """Recompute served values offline and report the training-serving skew."""
    with open_lucid(ctx) as lucid:
        report = lucid.features.skew_report(tolerance=tolerance, since=_time(since, "--since"))
    if as_json:
        print_json(report.to_dict())
        return
    table = Table("feature", "served", "mismatch", "missing", "mean rel. error")
    for stats in [*report.features, report.overall]:
        table.add_row(
            stats.feature,
            str(stats.served),
            f"{stats.mismatch_rate:.2%}",
            f"{stats.missing_rate:.2%}",
            f"{stats.mean_relative_error:.4g}",
        )
    console.print(table)
