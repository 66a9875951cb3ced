"""`lucid incidents ...` (an incident from detection to its lesson) and `lucid report`."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from lucid.cli.context import acting, console, open_lucid, print_json
from lucid.contracts.incidents.incident import ROOT_CAUSES, Incident
from lucid.errors import InvalidInput

app = typer.Typer(
    help="Incidents: open → acknowledged → diagnosed → proposed → experimenting → closed "
    "(only with a lesson).",
    no_args_is_help=True,
)

AS = typer.Option(None, "--as", help="Who does it (default: $LUCID_ACTOR or the user).")
JSON = typer.Option(False, "--json", help="Print JSON.")


def _show(incident: Incident, as_json: bool, said: str) -> None:
    if as_json:
        print_json(incident.to_dict())
        return
    console.print(f"Incident {incident.id} ({incident.model}): {said}; now {incident.status}.")
    if incident.repeated_of is not None:
        console.print(
            f"[bold yellow]Repeated error:[/] incident {incident.repeated_of.incident_id} had "
            f"the same root cause; its lesson: {escape(incident.repeated_of.lesson)}",
            highlight=False,
        )


@app.command("list")
def list_(
    ctx: typer.Context,
    model: str | None = typer.Option(None, "--model", help="Only this model's incidents."),
    status: str | None = typer.Option(None, "--status", help="Only incidents in this status."),
    as_json: bool = JSON,
) -> None:
    """Incidents, oldest first."""
    with open_lucid(ctx) as lucid:
        found = lucid.incidents.list(model, status)
    if as_json:
        print_json([i.to_dict() for i in found])
        return
    if not found:
        console.print("No incident.")
        return
    table = Table("id", "model", "status", "level", "opened", "recovered", "root cause", "lesson")
    for i in found:
        table.add_row(
            i.id,
            i.model,
            i.status.value,
            i.level,
            i.opened_at,
            i.recovered_at or "-",
            "-" if i.root_cause is None else i.root_cause.value,
            "yes" if i.lesson else "-",
        )
    console.print(table)


@app.command()
def show(
    ctx: typer.Context,
    incident_id: str = typer.Argument(..., help="Incident id."),
    as_json: bool = JSON,
) -> None:
    """One incident with its diagnosis, proposals, experiment and lesson."""
    with open_lucid(ctx) as lucid:
        incident = lucid.incidents.get(incident_id)
    if as_json:
        print_json(incident.to_dict())
        return
    for key, value in incident.to_dict().items():
        if isinstance(value, list):
            value = "; ".join(value) or None
        elif isinstance(value, dict):
            value = f"{value['incident_id']} (lesson: {value['lesson']})"
        shown = "-" if value is None else escape(str(value))
        console.print(f"[bold]{key}[/]: {shown}", highlight=False)


@app.command("open")
def open_(
    ctx: typer.Context,
    model: str = typer.Argument(..., help="Model name."),
    summary: str = typer.Option(..., "--summary", help="What is wrong."),
    level: str = typer.Option("warning", "--level", help="warning or critical."),
    actor: str | None = AS,
    as_json: bool = JSON,
) -> None:
    """Open an incident by hand (monitoring opens its own)."""
    with open_lucid(ctx) as lucid:
        incident = lucid.incidents.open(model, summary=summary, level=level, actor=acting(actor))
    _show(incident, as_json, "opened")


@app.command("ack")
def ack(
    ctx: typer.Context,
    incident_id: str = typer.Argument(..., help="Incident id."),
    actor: str | None = AS,
    as_json: bool = JSON,
) -> None:
    """Take an open incident in hand."""
    with open_lucid(ctx) as lucid:
        incident = lucid.incidents.acknowledge(incident_id, actor=acting(actor))
    _show(incident, as_json, f"acknowledged by {incident.acknowledged_by}")


@app.command()
def diagnose(
    ctx: typer.Context,
    incident_id: str = typer.Argument(..., help="Incident id."),
    root_cause: str = typer.Option(
        ...,
        "--root-cause",
        help="One of: " + ", ".join(f"{c.value} ({why})" for c, why in ROOT_CAUSES.items()),
    ),
    details: str = typer.Option(..., "--details", help="The diagnosis in words."),
    participants: list[str] = typer.Option(
        [], "--participant", help="A team or person who took part (repeat the option)."
    ),
    actor: str | None = AS,
    as_json: bool = JSON,
) -> None:
    """Record the shared diagnosis; a root cause seen before is flagged as a repeated error."""
    with open_lucid(ctx) as lucid:
        incident = lucid.incidents.diagnose(
            incident_id,
            root_cause=root_cause,
            details=details,
            participants=participants,
            actor=acting(actor),
        )
    _show(incident, as_json, f"diagnosed as {root_cause}")


@app.command()
def propose(
    ctx: typer.Context,
    incident_id: str = typer.Argument(..., help="Incident id."),
    proposals: list[str] = typer.Argument(..., help="2 or 3 testable hypotheses."),
    actor: str | None = AS,
    as_json: bool = JSON,
) -> None:
    """Record 2 or 3 testable proposals (retrain? new features? another algorithm?)."""
    with open_lucid(ctx) as lucid:
        incident = lucid.incidents.propose(incident_id, proposals, actor=acting(actor))
    _show(incident, as_json, f"{len(incident.proposals)} proposals recorded")


@app.command()
def link(
    ctx: typer.Context,
    incident_id: str = typer.Argument(..., help="Incident id."),
    experiment_id: str = typer.Argument(..., help="The experiment testing the proposals."),
    actor: str | None = AS,
    as_json: bool = JSON,
) -> None:
    """Tie the A/B experiment that tests the proposals."""
    with open_lucid(ctx) as lucid:
        incident = lucid.incidents.link_experiment(incident_id, experiment_id, actor=acting(actor))
    _show(incident, as_json, f"experiment {experiment_id} linked")


@app.command()
def lesson(
    ctx: typer.Context,
    incident_id: str = typer.Argument(..., help="Incident id."),
    text: str = typer.Argument(..., help="What was learnt."),
    actor: str | None = AS,
    as_json: bool = JSON,
) -> None:
    """Write (or rewrite, until it closes) the incident's lesson."""
    with open_lucid(ctx) as lucid:
        incident = lucid.incidents.record_lesson(incident_id, text, actor=acting(actor))
    _show(incident, as_json, "lesson recorded")


@app.command()
def resolve(
    ctx: typer.Context,
    incident_id: str = typer.Argument(..., help="Incident id."),
    resolution: str = typer.Option(..., "--resolution", help="How it was resolved."),
    actor: str | None = AS,
    as_json: bool = JSON,
) -> None:
    """Close the incident; refused while it has no lesson."""
    with open_lucid(ctx) as lucid:
        incident = lucid.incidents.resolve(incident_id, resolution=resolution, actor=acting(actor))
    _show(incident, as_json, "resolved")


@app.command("declare-shift")
def declare_shift(
    ctx: typer.Context,
    started_at: str = typer.Argument(
        ..., help="When the shift started (ISO 8601 date or time; no offset means UTC)."
    ),
    description: str = typer.Option(..., "--description", help="What shifted."),
    actor: str | None = AS,
) -> None:
    """Record a shift whose start is known (a drill): it measures detection delay."""
    from lucid.memory.retrospective import parse_since

    moment = parse_since(started_at, "STARTED_AT")
    with open_lucid(ctx) as lucid:
        lucid.incidents.declare_shift(moment, description=description, actor=acting(actor))
    console.print(f"Known shift declared at {moment.isoformat()}.")


def report(
    ctx: typer.Context,
    since: str = typer.Option(
        ..., "--since", help="Start of the period (ISO 8601 date or time; no offset means UTC)."
    ),
    out: Path | None = typer.Option(
        None, "--out", help="File to write (default: lucid-report-<since>.<format>)."
    ),
    format_: str = typer.Option("md", "--format", help="md or html."),
) -> None:
    """Write the retrospective of the period: deployments and checkpoint verdicts, incidents
    and lessons, experiments, the scorecard now and the trend of its incident figures."""
    from lucid.memory.retrospective import RENDERERS, gather, parse_since

    if format_ not in RENDERERS:
        raise InvalidInput("--format", f"must be md or html, not {format_!r}")
    start = parse_since(since)
    with open_lucid(ctx) as lucid:
        retro = gather(lucid, start)
    target = out or Path(f"lucid-report-{start.date().isoformat()}.{format_}")
    try:
        target.write_text(RENDERERS[format_](retro), encoding="utf-8")
    except OSError as error:
        raise InvalidInput("--out", f"cannot write {target}: {error.strerror}") from None
    console.print(
        f"Wrote {target}: {len(retro.deployments)} deployments, {len(retro.incidents)} "
        f"incidents, {len(retro.experiments)} experiments since {retro.since[:10]}."
    )
