"""`lucid events`: read, verify and anchor the hash-chained event log."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from lucid.cli.context import acting, console, open_lucid, print_json
from lucid.contracts.catalogue import event_types
from lucid.contracts.events import DecisionRecorded, NewEvent, Subject
from lucid.contracts.log_checkpoints import PublicKey, SigningKey
from lucid.errors import IntegrityViolation
from lucid.jobs.anchor import CHAIN_ONLY
from lucid.storage.log_checkpoints import write_signing_key

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
    ctx: typer.Context,
    checkpoints: list[str] = typer.Option(
        [], "--checkpoint", help="A checkpoint file or URL to check the log against (repeatable)."
    ),
    public_key: str | None = typer.Option(
        None,
        "--public-key",
        help="The trusted public key (base64), or a file holding it (default: beside the "
        "checkpoints).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Recompute every hash and link, compare the log with each checkpoint and the state tables
    with the log, rehash every prediction log segment; exit 1 and name the first problem."""
    keys = _public_keys(public_key)
    with open_lucid(ctx) as lucid:
        audit = lucid.anchor.verify(checkpoints, keys)
    if as_json:
        print_json(audit.to_dict())
        if not audit.ok:
            raise typer.Exit(IntegrityViolation.exit_code)
        return
    if not audit.ok:
        raise IntegrityViolation(audit.problem or "The log does not verify.")
    if checkpoints:
        console.print(
            f"[green]ok[/]: {audit.events} events, every hash and link verifies, the log "
            f"reaches and matches {audit.checkpoints} signed checkpoint(s), and the state "
            "tables agree with it."
        )
        return
    console.print(
        f"[green]ok[/]: {audit.events} events, every hash and link verifies and the state "
        f"tables agree with the log. {CHAIN_ONLY}"
    )


def _public_keys(given: str | None) -> list[PublicKey]:
    """`--public-key`: base64 text, or the file holding one key per line."""
    if given is None:
        return []
    path = Path(given).expanduser()
    if path.is_file():
        lines = path.read_text(encoding="utf-8").splitlines()
        return [PublicKey.from_text(line) for line in lines if line.strip()]
    return [PublicKey.from_text(given)]


@app.command()
def keygen(
    file: Path = typer.Argument(..., help="Where to write the private key (mode 0600)."),
) -> None:
    """Create an Ed25519 signing key for checkpoints and print its public key."""
    key = SigningKey.generate()
    write_signing_key(file, key)
    public = key.public_key
    console.print(f"Wrote the private key {file} (readable by you only).")
    console.print(f"public key: {public.text}")
    console.print(f"key id: {public.key_id}")


@app.command()
def checkpoint(
    ctx: typer.Context,
    to: str | None = typer.Option(
        None, "--to", help="A file, fsspec URL or https webhook (default: log_checkpoints.to)."
    ),
    key: Path | None = typer.Option(
        None, "--key", help="The signing key file (default: log_checkpoints.key)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Append a signed statement of the log's count and head to a place the database's
    administrator cannot write."""
    with open_lucid(ctx) as lucid:
        signed = lucid.anchor.checkpoint(to, str(key) if key else None)
        target = to or lucid.anchor.default_place
    stated = signed.checkpoint
    if as_json:
        print_json({"to": target, **json.loads(signed.to_line())})
        return
    console.print(
        f"Checkpoint of {stated.events} events (head {stated.head_hash[:12]}…) signed by key "
        f"{stated.key_id} and appended to {escape(str(target))}."
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
