"""`lucid scorecard`: the seed's scorecard and the production promotions, printed from the
report kept for the period while it holds (`lucid.storage.kept_reports`), else measured."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from lucid.cli.context import console, print_json, state
from lucid.contracts.periods import WHOLE_HISTORY, check_period
from lucid.errors import InvalidInput, LucidError

if TYPE_CHECKING:
    from rich.table import Table


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
    from scratch, keeps that, and shows the figures as kept and as recomputed. The report is
    kept with the state of the database and read back while nothing it reads has changed."""
    try:
        check_period(period)
    except InvalidInput as refused:
        raise InvalidInput("--period", refused.rule) from None
    kept = _kept(ctx, period)
    if kept is not None and not recompute:
        body, recomputed = kept, None
    else:
        body, recomputed = _measured(ctx, period, recompute=recompute)
        # `--recompute` sets what a plain call prints, the kept report, beside a new measure
        body = body if kept is None else kept
    card = {key: value for key, value in body.items() if key != "override_shares"}
    differ = [] if recomputed is None else [k for k in card if card[k] != recomputed[k]]
    if as_json:
        if recomputed is not None:
            body = {**body, "recomputed": recomputed, "agree": not differ, "differ": differ}
        print_json(body)
    else:
        _print_scorecard(card, recomputed)
        console.print(_promotions_table(body["override_shares"]))
        if recomputed is not None:
            console.print(
                "cached and recomputed figures agree."
                if not differ
                else f"cached and recomputed figures differ: {', '.join(differ)}."
            )
    if differ:
        raise typer.Exit(1)


def _name(period: str) -> str:
    return f"scorecard/{period}"


def _kept(ctx: typer.Context, period: str) -> dict[str, Any] | None:
    """The report kept for `period`, if it still holds; None sends the command to measure."""
    from lucid.project_folder import find_project
    from lucid.storage.kept_reports import read_kept

    try:
        folder = find_project(state(ctx).project, Path.cwd(), os.environ)
    except LucidError:
        return None  # measuring opens the project and says why it cannot
    return read_kept(folder, _name(period), os.environ, lambda: datetime.now(UTC))


def _measured(
    ctx: typer.Context, period: str, *, recompute: bool
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The scorecard and the promotions measured now (and `recomputed` from scratch); kept
    for `period` when nothing moved while they were measured."""
    from lucid.bootstrap import open_project
    from lucid.contracts.events import format_time
    from lucid.settings import PLAIN_VARIABLES
    from lucid.storage.kept_reports import KeptReports, ReadEnvironment, keep_settings

    environ = ReadEnvironment(os.environ)
    with open_project(state(ctx).project, environ=environ) as lucid:
        kept = KeptReports(lucid.db)
        before = kept.state()
        moment = lucid.clock()
        card = lucid.loop.scorecard().to_dict()
        recomputed = lucid.loop.scorecard(recompute=True).to_dict() if recompute else None
        body = {**card, "override_shares": lucid.registry.override_shares(period).to_dict()}
        if recomputed is None:
            until = lucid.loop.scorecard_valid_until(moment)
            settings = lucid.settings
            if kept.keep(
                _name(period),
                body,
                state=before,
                measured_at=format_time(moment),
                valid_until=None if until is None else format_time(until),
            ):
                as_of = None if settings.as_of is None else format_time(settings.as_of)
                keep_settings(
                    settings.project_dir, environ, PLAIN_VARIABLES, settings.database_url, as_of
                )
    return body, recomputed


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


def _promotions_table(shares: dict[str, Any]) -> Table:
    """One row per model and period, then each model's whole history (`shares`: the
    `OverrideShares.to_dict()` of the period)."""
    from rich.table import Table

    table = Table(
        "model",
        shares["period"],
        "promotions",
        "by evidence (Lucid / external)",
        "by override",
        "override share",
        title="Production promotions",
    )
    for row in shares["rows"]:
        share = row["override_share_pct"]
        table.add_row(
            row["model"],
            "whole history" if row["period"] == WHOLE_HISTORY else row["period"],
            str(row["promotions"]),
            f"{row['by_evidence']} ({row['evidence_lucid']} / {row['evidence_external']})",
            str(row["by_override"]),
            "-" if share is None else f"{share:.0f} %",
        )
    if not shares["rows"]:
        table.add_row("-", "-", "0", "-", "-", "-")
    return table
