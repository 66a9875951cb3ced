"""`lucid monitor escalate`, `ack`, `alerts`, `incidents`: what runs raised."""

from __future__ import annotations

import typer
from rich.table import Table

from lucid.cli.context import acting, console, open_lucid, print_json


def escalate(
    ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help="Print JSON.")
) -> None:
    """Escalate every unacknowledged alert whose delay has passed (cron-friendly)."""
    with open_lucid(ctx) as lucid:
        moved = lucid.monitoring.escalate()
    if as_json:
        print_json([outcome.to_dict() for outcome in moved])
        return
    for outcome in moved:
        console.print(
            f"alert {outcome.alert.id} of {outcome.alert.model}: step {outcome.alert.step}"
        )
    console.print(f"{len(moved)} alerts escalated")


def ack(
    ctx: typer.Context,
    alert_id: str = typer.Argument(..., help="The alert id."),
    actor: str | None = typer.Option(None, "--as", help="Who takes it in hand."),
) -> None:
    """Acknowledge an alert: it stops escalating."""
    with open_lucid(ctx) as lucid:
        record = lucid.monitoring.acknowledge(alert_id, actor=acting(actor))
    console.print(f"alert {record.id} acknowledged by {record.acknowledged_by}")


def alerts(
    ctx: typer.Context,
    model: str | None = typer.Option(None, "--model", help="Only this model."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List alerts with their delivery attempts."""
    with open_lucid(ctx) as lucid:
        found = [
            {**a.to_dict(), "deliveries": lucid.monitoring.deliveries(a.id)}
            for a in lucid.monitoring.alerts(model)
        ]
    if as_json:
        print_json(found)
        return
    table = Table("id", "model", "target", "level", "step", "raised", "acknowledged", "delivered")
    for a in found:
        ok = sum(1 for d in a["deliveries"] if d["delivered"])
        table.add_row(
            a["id"],
            a["model"],
            a["target"],
            a["level"],
            str(a["step"]),
            a["raised_at"],
            a["acknowledged_by"] or "-",
            f"{ok}/{len(a['deliveries'])} attempts",
        )
    console.print(table)


def incidents(
    ctx: typer.Context,
    model: str | None = typer.Option(None, "--model", help="Only this model."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List incidents opened by runs."""
    with open_lucid(ctx) as lucid:
        found = [i.to_dict() for i in lucid.monitoring.incidents(model)]
    if as_json:
        print_json(found)
        return
    table = Table("id", "model", "status", "level", "opened", "window start", "recovered")
    for i in found:
        table.add_row(
            i["id"],
            i["model"],
            i["status"],
            i["level"],
            i["opened_at"],
            i["window_start"],
            i["recovered_at"] or "-",
        )
    console.print(table)
