"""`lucid events`: read and verify the hash-chained event log."""

from __future__ import annotations

import typer
from rich.markup import escape
from rich.table import Table

from lucid.cli.context import acting, console, open_lucid, print_json
from lucid.contracts.catalogue import event_types
from lucid.contracts.events import DecisionRecorded, NewEvent, Subject
from lucid.errors import IntegrityViolation

app = typer.Typer(help="The append-only, hash-chained event log.", no_args_is_help=True)


@app.command("list")
def list_events(
    ctx: typer.Context,
    type: str | None = typer.Option(None, "--type", help="Only events of this type."),
    subject: str | None = typer.Option(None, "--subject", help="Only events about kind:id."),
    after: int = typer.Option(0, "--after", help="Cursor: only events after this position."),
    limit: int = typer.Option(100, "--limit", help="At most this many events."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List events, oldest first, with a cursor for the next page."""
    if subject is not None:
        subject = str(Subject.parse(subject))
    with open_lucid(ctx) as lucid:
        page = lucid.events.read(after=after, limit=limit, type=type, subject=subject)
    next_cursor = page[-1].seq if len(page) == limit else None
    if as_json:
        print_json({"events": [event.to_dict() for event in page], "next_cursor": next_cursor})
        return
    table = Table("#", "occurred at", "type", "subject", "actor", "rationale")
    for event in page:
        table.add_row(
            str(event.seq),
            event.occurred_at,
            event.type,
            escape(event.subject),
            escape(event.actor),
            escape(event.rationale),
        )
    console.print(table)
    if next_cursor is not None:
        console.print(f"More events: --after {next_cursor}")


@app.command()
def verify(
    ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help="Print JSON.")
) -> None:
    """Recompute every hash and link; exit 1 and name the first bad event if any."""
    with open_lucid(ctx) as lucid:
        verdict = lucid.events.verify()
    if as_json:
        print_json(verdict.to_dict())
        if not verdict.ok:
            raise typer.Exit(IntegrityViolation.exit_code)
        return
    if verdict.ok:
        console.print(f"[green]ok[/]: {verdict.events} events, every hash and link verifies.")
        return
    raise IntegrityViolation(
        f"The event chain is broken at event {verdict.first_bad}. {verdict.reason}"
    )


@app.command()
def record(
    ctx: typer.Context,
    title: str = typer.Argument(..., help="What was decided, in a few words."),
    decision: str = typer.Option(..., "--decision", help="The decision itself."),
    subject: str = typer.Option(..., "--subject", help="What it is about, as kind:id."),
    rationale: str = typer.Option(..., "--rationale", help="Why it was decided."),
    actor: str | None = typer.Option(None, "--as", help="Who decided (default: $LUCID_ACTOR)."),
) -> None:
    """Record a decision taken outside Lucid, with its rationale, in the event log."""
    new = NewEvent.of(
        DecisionRecorded(title=title, decision=decision),
        actor=acting(actor),
        subject=Subject.parse(subject),
        rationale=rationale,
    )
    with open_lucid(ctx) as lucid:
        event = lucid.events.append(new)
    console.print(f"Recorded event {event.id} at position {event.seq}.")


@app.command()
def types() -> None:
    """List the registered event types."""
    for name in event_types():
        console.print(name)
