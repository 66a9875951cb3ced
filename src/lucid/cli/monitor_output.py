"""What `lucid monitor` commands share: levels in colour, tables of checks, a run's report,
the window and actor options."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import typer
from rich.markup import escape
from rich.table import Table

from lucid.cli.context import console
from lucid.contracts.times import to_utc
from lucid.contracts.validity.diagnostics import findings
from lucid.contracts.validity.evaluation import PolicyEvaluation
from lucid.contracts.validity.grades import Level

if TYPE_CHECKING:
    from lucid.monitoring.run_reports import RunReport

LEVEL_STYLE = {
    Level.OK: "green",
    Level.INSUFFICIENT_DATA: "yellow",
    Level.WARNING: "bold yellow",
    Level.CRITICAL: "bold red",
}


def format_value(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"


def option_time(text: str | None, field_name: str) -> datetime | None:
    """An ISO 8601 option as an aware UTC time: an offset is honoured, no offset means UTC."""
    return None if text is None else to_utc(text, field_name)


WINDOW_START = typer.Option(
    None, "--window-start", help="Window start, ISO 8601 (no offset means UTC)."
)
WINDOW_END = typer.Option(
    None, "--window-end", help="Window end (excluded), ISO 8601 (no offset means UTC)."
)


def window_options(start: str | None, end: str | None) -> tuple[datetime | None, datetime | None]:
    """The --window-start and --window-end options as aware UTC times."""
    return option_time(start, "--window-start"), option_time(end, "--window-end")


def checks_table(checks: list[dict[str, Any]]) -> Table:
    table = Table("threshold", "feature", "segment", "value", "level", "no-drift PSI", "note")
    for item in checks:
        level = Level(item["level"])
        table.add_row(
            item["threshold"],
            item.get("feature") or "-",
            item.get("segment") or "all",
            format_value(item.get("value")),
            f"[{LEVEL_STYLE[level]}]{level.value}[/]",
            format_value(item.get("expected_no_drift")),
            item.get("note") or "",
        )
    return table


def print_findings(checks: list[dict[str, Any]]) -> None:
    """One line per warning or critical check: what moved."""
    for line in findings(checks):
        console.print(f"  what moved: {escape(line)}", highlight=False)


def print_run(report: RunReport) -> None:
    record = report.record
    console.print(
        f"[bold]{record.model}[/] version {record.version}, window {record.window}"
        + (
            ""
            if report.created
            else " (interrupted follow-up finished now)"
            if report.resumed
            else " (already run: the stored run)"
        )
    )
    console.print(checks_table(record.checks))
    print_findings(record.checks)
    level = Level(record.level)
    console.print(
        f"{len(record.checks)} checks; worst level [{LEVEL_STYLE[level]}]{level.value}[/]; "
        f"actions: {', '.join(record.actions) or 'none'}"
    )
    for alert in report.alerts:
        sent = ", ".join(
            f"{d.channel} {'delivered' if d.delivered else 'FAILED'} ({d.attempts} attempts)"
            for d in alert.deliveries
        )
        console.print(
            f"alert {alert.alert.id} to {alert.alert.target} ({alert.alert.level}): {sent}"
        )
    for taken in report.actions:
        console.print(f"{taken.action}: {taken.outcome} — {taken.detail}")
    if report.incident is not None:
        console.print(f"incident {report.incident.id}: {report.incident.status}")


def print_evaluation(evaluation: PolicyEvaluation, title: str) -> None:
    console.print(title)
    checks = [c.to_dict() for c in evaluation.checks]
    console.print(checks_table(checks))
    print_findings(checks)
    level = evaluation.level
    actions = ", ".join(str(a) for a in evaluation.actions) or "none"
    console.print(
        f"{len(evaluation.checks)} checks; worst level [{LEVEL_STYLE[level]}]{level.value}[/]; "
        f"actions that would fire: {actions}"
    )
