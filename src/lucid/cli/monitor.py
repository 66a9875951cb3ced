"""`lucid monitor`: the validity contract from the command line."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.markup import escape
from rich.table import Table

from lucid.cli.context import acting, console, errors, open_lucid, print_json
from lucid.contracts.times import to_utc
from lucid.contracts.validity import Approval, Evaluation, Level, MonitoringPolicy
from lucid.errors import InvalidInput

if TYPE_CHECKING:
    from lucid.monitoring.service import RunReport

app = typer.Typer(help="Drift monitoring: the validity contract.", no_args_is_help=True)
policy_app = typer.Typer(help="The monitoring policy of a model.", no_args_is_help=True)
app.add_typer(policy_app, name="policy")

_LEVEL_STYLE = {
    Level.OK: "green",
    Level.INSUFFICIENT_DATA: "yellow",
    Level.WARNING: "bold yellow",
    Level.CRITICAL: "bold red",
}


def _format(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"


@app.command()
def check(
    reference: Path = typer.Option(..., "--reference", help="Reference data (.parquet or .csv)."),
    current: Path = typer.Option(..., "--current", help="Current window (.parquet or .csv)."),
    policy_file: Path | None = typer.Option(
        None, "--policy", help="Monitoring policy YAML (default: the seed's churn policy)."
    ),
    segment: str | None = typer.Option(
        None, "--segment", help="Also check each value of this column (e.g. plan)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Run the policy's data-drift checks on two files; print every check and its level."""
    # Imported here: DuckDB and SciPy take a second to load, which other commands need not pay.
    from lucid.engines.duckdb import DuckDBEngine
    from lucid.monitoring.drift import DATA_DRIFT_METRICS, measure_data_drift
    from lucid.monitoring.policy_file import load_policy
    from lucid.monitoring.profiles import build_profile

    policy = load_policy(policy_file) if policy_file else MonitoringPolicy.churn_default()
    drift = [t for t in policy.thresholds if t.metric in DATA_DRIFT_METRICS]
    if not drift:
        raise InvalidInput("policy", "has no data-drift threshold (psi, ks, ... ) to check")
    policy = policy.with_thresholds(drift)
    with DuckDBEngine() as engine:
        engine.register("reference", reference)
        engine.register("current", current)
        profile = build_profile(engine, "reference", segment_column=segment)
        measured = measure_data_drift(
            engine,
            "current",
            profile,
            metrics=policy.metrics,
            minimum_rows=policy.minimum_rows,
        )
    evaluation = policy.evaluate(measured)
    if as_json:
        print_json({"model": policy.model, **evaluation.to_dict()})
        return
    table = Table("threshold", "feature", "segment", "value", "level", "no-drift PSI", "note")
    for item in evaluation.checks:
        table.add_row(
            item.threshold.key,
            item.measurement.feature or "-",
            item.measurement.segment or "all",
            _format(item.measurement.value),
            f"[{_LEVEL_STYLE[item.level]}]{item.level.value}[/]",
            _format(item.measurement.expected_no_drift),
            item.measurement.note or "",
        )
    console.print(table)
    actions = ", ".join(str(a) for a in evaluation.actions) or "none"
    level = evaluation.level
    console.print(
        f"{len(evaluation.checks)} checks; worst level [{_LEVEL_STYLE[level]}]{level.value}[/]; "
        f"actions: {actions}"
    )


def _time(text: str | None, field_name: str) -> datetime | None:
    """An ISO 8601 option as an aware UTC time: an offset is honoured, no offset means UTC."""
    return None if text is None else to_utc(text, field_name)


_WINDOW_START = typer.Option(
    None, "--window-start", help="Window start, ISO 8601 (no offset means UTC)."
)
_WINDOW_END = typer.Option(
    None, "--window-end", help="Window end (excluded), ISO 8601 (no offset means UTC)."
)


def _checks_table(checks: list[dict[str, Any]]) -> Table:
    table = Table("threshold", "feature", "segment", "value", "level", "no-drift PSI", "note")
    for item in checks:
        level = Level(item["level"])
        table.add_row(
            item["threshold"],
            item.get("feature") or "-",
            item.get("segment") or "all",
            _format(item.get("value")),
            f"[{_LEVEL_STYLE[level]}]{level.value}[/]",
            _format(item.get("expected_no_drift")),
            item.get("note") or "",
        )
    return table


@app.command()
def predictions(
    ctx: typer.Context,
    path: Path = typer.Argument(..., help="Predictions: .parquet or .csv."),
    model: str = typer.Option(..., "--model", help="The model that served them."),
    version: str = typer.Option(..., "--version", help="The model version that served them."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Log served predictions from a file: columns entity, served_at, score, optional id and
    arm; every other column is a feature value."""
    with open_lucid(ctx) as lucid:
        ids = lucid.monitoring.log_predictions_file(model, version, path)
    if as_json:
        print_json({"model": model, "version": version, "logged": len(ids)})
        return
    console.print(f"{len(ids)} predictions of {model} version {version} logged")


@app.command()
def outcomes(
    ctx: typer.Context,
    path: Path = typer.Argument(..., help="Outcomes: .parquet or .csv."),
    model: str = typer.Option(..., "--model", help="The model whose predictions they answer."),
    horizon_days: float | None = typer.Option(
        None, "--horizon-days", help="Join by entity within this many days (default 90)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Log outcomes (columns label 0/1, observed_at, and prediction_id or entity) joined to
    their predictions: by prediction_id when given, else the entity's latest prediction at
    or before observed_at within the horizon. Unmatched outcomes are counted, not stored."""
    if horizon_days is not None and not horizon_days > 0:
        raise InvalidInput("--horizon-days", f"must be a positive number, not {horizon_days}")
    horizon = None if horizon_days is None else timedelta(days=horizon_days)
    with open_lucid(ctx) as lucid:
        report = lucid.monitoring.log_outcomes_file(model, path, horizon=horizon)
    if as_json:
        print_json({"model": model, **report.to_dict()})
        return
    console.print(
        f"{report.logged} outcomes of {model} logged, {report.already_logged} already logged, "
        f"{len(report.unmatched)} matched no prediction (not stored)"
    )


@policy_app.command("show")
def policy_show(
    ctx: typer.Context,
    model: str = typer.Argument(..., help="The model."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of YAML."),
) -> None:
    """Print the model's policy (the seed's churn policy when none was set)."""
    from lucid.monitoring.policy_file import dump_policy

    with open_lucid(ctx) as lucid:
        policy = lucid.monitoring.policy(model)
    if as_json:
        print_json(policy.to_mapping())
        return
    console.print(dump_policy(policy), end="", highlight=False)


@policy_app.command("set")
def policy_set(
    ctx: typer.Context,
    model: str = typer.Argument(..., help="The model."),
    policy_file: Path = typer.Argument(..., help="Monitoring policy YAML."),
    rationale: str = typer.Option(..., "--rationale", help="Why this policy."),
    approvals: list[str] = typer.Option(
        [], "--approve", help="team:person approving the change (repeat for each team)."
    ),
    actor: str | None = typer.Option(None, "--as", help="Who proposes it."),
) -> None:
    """Store the model's policy; changing a stored one needs every named team's approval."""
    from lucid.monitoring.policy_file import load_policy

    policy = load_policy(policy_file)
    if policy.model != model:
        raise InvalidInput("model", f"the file's policy is for {policy.model}, not {model}")
    parsed = []
    for item in approvals:
        team, _, person = item.partition(":")
        if not team.strip() or not person.strip():
            raise InvalidInput("--approve", f"{item!r} must be written team:person")
        parsed.append(Approval(team.strip(), person.strip()))
    with open_lucid(ctx) as lucid:
        lucid.monitoring.set_policy(
            policy, actor=acting(actor), rationale=rationale, approvals=parsed
        )
    console.print(f"policy of {model} stored ({len(policy.thresholds)} thresholds)")


@app.command()
def profile(
    ctx: typer.Context,
    model: str = typer.Argument(..., help="The model."),
    version: str = typer.Option(..., "--version", help="The model version to profile."),
    reference: Path | None = typer.Option(
        None, "--reference", help="Reference file (.parquet/.csv): features, score, label."
    ),
    window_start: str | None = _WINDOW_START,
    window_end: str | None = _WINDOW_END,
    segment: str | None = typer.Option(None, "--segment", help="Also profile per value."),
    actor: str | None = typer.Option(None, "--as", help="Who builds it."),
) -> None:
    """Build the version's reference profile once, from a file or from its logged
    predictions (and outcomes) in a window."""
    start, end = _time(window_start, "--window-start"), _time(window_end, "--window-end")
    with open_lucid(ctx) as lucid:
        built, stored = lucid.monitoring.build_profile(
            model,
            version,
            reference=reference,
            start=start,
            end=end,
            segment=segment,
            actor=acting(actor),
        )
    columns = ", ".join(built.overall.columns)
    state = "stored" if stored else "already stored (identical)"
    console.print(f"reference profile of {model} version {version} {state}: {columns}")


def _print_run(report: RunReport) -> None:
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
    console.print(_checks_table(record.checks))
    level = Level(record.level)
    console.print(
        f"{len(record.checks)} checks; worst level [{_LEVEL_STYLE[level]}]{level.value}[/]; "
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


@app.command()
def run(
    ctx: typer.Context,
    model: str | None = typer.Option(
        None, "--model", help="Run this model (default: every model with a stored policy)."
    ),
    version: str | None = typer.Option(
        None, "--version", help="Version watched (default: production, else latest logged)."
    ),
    window_start: str | None = _WINDOW_START,
    window_end: str | None = _WINDOW_END,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Run the policy over a window of the prediction and outcome logs (default: the last
    complete period of the policy's frequency); every threshold graded, the run stored once
    per window, then alerts, freeze, rollback and retraining taken."""
    start, end = _time(window_start, "--window-start"), _time(window_end, "--window-end")
    with open_lucid(ctx) as lucid:
        models = [model] if model else lucid.monitoring.models()
        if not models:
            raise InvalidInput(
                "--model", "no model has a stored policy; name one or store its policy first"
            )
        reports = [
            lucid.monitoring.run(name, start=start, end=end, version=version) for name in models
        ]
    if as_json:
        print_json([r.to_dict() for r in reports] if model is None else reports[0].to_dict())
        return
    for report in reports:
        _print_run(report)


@app.command()
def runs(
    ctx: typer.Context,
    model: str = typer.Option(..., "--model", help="The model."),
    limit: int = typer.Option(20, "--limit", help="The latest this many runs (at least 1)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON, every check included."),
) -> None:
    """List the model's stored runs, oldest window first: level, actions and the checks
    outside their band (read only; `run` with a run's window prints all its checks)."""
    if limit < 1:
        raise InvalidInput("--limit", f"must be at least 1, not {limit}")
    with open_lucid(ctx) as lucid:
        found = lucid.monitoring.store.runs(model, limit=limit)
    if as_json:
        print_json([run.to_dict() for run in found])
        return
    if not found:
        console.print(f"No stored run of {model}.")
        return
    table = Table()
    table.add_column("window start", no_wrap=True)
    table.add_column("window end", no_wrap=True)
    for name in ("version", "level", "actions"):
        table.add_column(name)
    table.add_column("outside their band", overflow="fold")
    for record in found:
        level = Level(record.level)
        outside = [
            f"{c['threshold']}"
            + (f"[{c['feature']}]" if c.get("feature") else "")
            + f"={c['level']}"
            for c in record.checks
            if c["level"] in (Level.WARNING.value, Level.CRITICAL.value)
        ]
        start, _, end = record.window.replace(".000000Z", "Z").partition("/")
        table.add_row(
            start,
            end,
            record.version,
            f"[{_LEVEL_STYLE[level]}]{level.value}[/]",
            escape(", ".join(record.actions)) or "-",
            escape(", ".join(outside)) or "-",
        )
    console.print(table)


@app.command()
def resume(
    ctx: typer.Context,
    model: str | None = typer.Option(None, "--model", help="Only this model."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Finish the alerts, actions and incident of runs whose process died after storing them
    (each step exactly once; `run` does it too). Cron-friendly."""
    with open_lucid(ctx) as lucid:
        reports = lucid.monitoring.resume(model)
    if as_json:
        print_json([r.to_dict() for r in reports])
        return
    for report in reports:
        _print_run(report)
    console.print(f"{len(reports)} interrupted runs finished")


@app.command()
def digest(
    ctx: typer.Context,
    model: str | None = typer.Option(
        None, "--model", help="Only this model (default: every model with a stored policy)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Send each due stakeholder digest: the last complete reporting period's runs and
    levels, open incidents and unacknowledged alerts; once per period (cron-friendly)."""
    with open_lucid(ctx) as lucid:
        if model is None and not lucid.monitoring.models():
            raise InvalidInput(
                "--model", "no model has a stored policy; name one or store its policy first"
            )
        reports = lucid.monitoring.send_digests(model=model)
    if as_json:
        print_json([r.to_dict() for r in reports])
        return
    for report in reports:
        sent = ", ".join(
            f"{d.channel} {'delivered' if d.delivered else 'FAILED'} ({d.attempts} attempts)"
            for d in report.deliveries
        )
        console.print(f"digest of {report.digest.model} for {report.digest.period}: {sent}")
    console.print(f"{len(reports)} digests sent")


@app.command()
def drill(
    ctx: typer.Context,
    model: str = typer.Option(..., "--model", help="The model."),
    shifts: list[str] = typer.Option(
        ..., "--shift", help="COLUMN=+Xsd, COLUMN=-X or COLUMN=*X (repeatable)."
    ),
    expect: str | None = typer.Option(
        None, "--expect", help="Level the drill must reach (warning, critical); exit 1 if not."
    ),
    version: str | None = typer.Option(None, "--version", help="Version watched."),
    window_start: str | None = _WINDOW_START,
    window_end: str | None = _WINDOW_END,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Inject a known shift into a copy of the window and grade it with the policy; nothing
    is stored as a run and no action is taken."""
    start, end = _time(window_start, "--window-start"), _time(window_end, "--window-end")
    with open_lucid(ctx) as lucid:
        report = lucid.monitoring.drill(
            model, shifts, start=start, end=end, version=version, expect=expect
        )
    if as_json:
        print_json(report.to_dict())
    else:
        _print_evaluation(report.evaluation, f"drill on {model}, window {report.window.key}")
    if report.passed is False:
        errors.print(
            f"drill failed: expected at least {expect}, the policy graded "
            f"{report.evaluation.level.value}"
        )
        raise typer.Exit(1)


def _print_evaluation(evaluation: Evaluation, title: str) -> None:
    console.print(title)
    console.print(_checks_table([c.to_dict() for c in evaluation.checks]))
    level = evaluation.level
    actions = ", ".join(str(a) for a in evaluation.actions) or "none"
    console.print(
        f"{len(evaluation.checks)} checks; worst level [{_LEVEL_STYLE[level]}]{level.value}[/]; "
        f"actions that would fire: {actions}"
    )


@app.command()
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


@app.command()
def ack(
    ctx: typer.Context,
    alert_id: str = typer.Argument(..., help="The alert id."),
    actor: str | None = typer.Option(None, "--as", help="Who takes it in hand."),
) -> None:
    """Acknowledge an alert: it stops escalating."""
    with open_lucid(ctx) as lucid:
        record = lucid.monitoring.acknowledge(alert_id, actor=acting(actor))
    console.print(f"alert {record.id} acknowledged by {record.acknowledged_by}")


@app.command()
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


@app.command()
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
