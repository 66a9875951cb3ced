"""`lucid schedule`: the scheduler on its own (what `lucid serve --schedule` starts)."""

from __future__ import annotations

import signal
import threading
from types import FrameType

import typer

from lucid.cli.context import console, open_lucid, print_json
from lucid.errors import Conflict, InvalidInput


def schedule(
    ctx: typer.Context,
    tick: float | None = typer.Option(
        None, "--tick", help="Seconds between ticks (default: scheduler.tick_seconds, 60)."
    ),
    once: bool = typer.Option(False, "--once", help="One tick, then exit (for cron)."),
    as_json: bool = typer.Option(False, "--json", help="Print the tick as JSON (--once)."),
    parent_pid: int | None = typer.Option(None, "--parent-pid", hidden=True),
) -> None:
    """Run the periodic work — monitoring runs per policy frequency, interrupted runs,
    escalation, digests, due checkpoints — every tick, while this process leads (one
    scheduler leads per database; others stand by and take over when it dies)."""
    from lucid.jobs.scheduler import SCHEDULER

    if tick is not None and not tick > 0:
        raise InvalidInput("--tick", f"must be a positive number of seconds, not {tick}")
    with open_lucid(ctx) as lucid:
        seconds = tick if tick is not None else lucid.settings.scheduler.tick_seconds
        if once:
            with lucid.db.session_lock(SCHEDULER, wait=False) as held:
                if held is None:
                    raise Conflict(
                        "Another scheduler leads for this database; its ticks do this work "
                        "(see /readyz). Nothing was done."
                    )
                report = lucid.scheduler(0).tick_once()
            if as_json:
                print_json(report.to_dict())
            else:
                console.print(
                    f"tick at {report.ticked_at}: {len(report.runs)} runs, {report.resumed} "
                    f"resumed, {report.escalated} escalated, {report.digests} digests, "
                    f"{report.checkpoints} checkpoints, {len(report.errors)} errors"
                )
                for error in report.errors:
                    console.print(f"- {error}", highlight=False, markup=False)
            return
        stop = threading.Event()

        def on_term(_signum: int, _frame: FrameType | None) -> None:
            stop.set()

        signal.signal(signal.SIGTERM, on_term)
        signal.signal(signal.SIGINT, on_term)
        if parent_pid is not None:  # started by `lucid serve`: end with it, even mid-wait
            from lucid.supervision import set_parent_death_signal

            set_parent_death_signal(signal.SIGTERM)
        lucid.scheduler(seconds, stop=stop, parent_pid=parent_pid).serve_forever()
