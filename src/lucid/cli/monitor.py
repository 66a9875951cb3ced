"""`lucid monitor`: the validity contract from the command line, one module per group of
commands (`monitor_logs`, `monitor_policy`, `monitor_runs`, `monitor_alerts`)."""

from __future__ import annotations

import typer

from lucid.cli import monitor_alerts, monitor_logs, monitor_policy, monitor_runs

app = typer.Typer(help="Drift monitoring: the validity contract.", no_args_is_help=True)
app.command()(monitor_logs.check)
app.command()(monitor_logs.predictions)
app.command()(monitor_logs.outcomes)
app.command()(monitor_logs.seal)
app.add_typer(monitor_policy.app, name="policy")
app.command()(monitor_logs.profile)
app.command()(monitor_runs.run)
app.command()(monitor_runs.runs)
app.command()(monitor_runs.resume)
app.command()(monitor_runs.digest)
app.command()(monitor_runs.drill)
app.command()(monitor_alerts.escalate)
app.command()(monitor_alerts.ack)
app.command()(monitor_alerts.alerts)
app.command()(monitor_alerts.incidents)
