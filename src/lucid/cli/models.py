"""`lucid models`: the model registry — register, gate, observe, evaluate, roll back, history."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import typer
import yaml
from rich.markup import escape
from rich.table import Table

from lucid.cli.context import acting, console, open_lucid, print_json
from lucid.contracts.times import to_utc
from lucid.contracts.value import BusinessImpact, Evidence, Override, read_external_evidence
from lucid.contracts.value.request_inputs import request_input_of_option
from lucid.errors import InvalidInput
from lucid.registry.model_artifacts import artifact_from_option

app = typer.Typer(help="The model registry: value contracts, promotion gate, rollback.")


def _yaml_file(path: Path, field: str) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InvalidInput(field, f"the file {path} does not exist") from None
    except yaml.YAMLError as error:
        raise InvalidInput(field, f"{path} is not valid YAML ({error})") from None


def _metrics(pairs: list[str]) -> dict[str, float]:
    metrics: dict[str, float] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        try:
            metrics[key.strip()] = float(value)
        except ValueError:
            sep = ""
        if not sep or not key.strip():
            raise InvalidInput("--metric", f"{pair!r} must be written name=number, e.g. auc=0.81")
    return metrics


@app.command()
def register(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Model name, e.g. churn."),
    artifact: str = typer.Option(
        ...,
        "--artifact",
        help="Model file (skops, ONNX, XGBoost JSON/UBJ, LightGBM text), MLflow folder or Hub id.",
    ),
    kind: str = typer.Option(
        "sklearn",
        "--kind",
        help="sklearn, onnx, xgboost, lightgbm, mlflow, huggingface or external.",
    ),
    contract: Path | None = typer.Option(
        None, "--contract", help="YAML file of the business-impact contract (required)."
    ),
    feature: list[str] = typer.Option(
        [],
        "--feature",
        help="Pinned feature name@version; the pins must be the model's inputs, matched by name.",
    ),
    request_input: list[str] = typer.Option(
        [],
        "--request-input",
        help="A value each request gives, name:type[:rule]: amount:number:0..10000, "
        "count:integer:1.., flag:boolean, note:text:500, channel:text:web|app|store.",
    ),
    training_data: str = typer.Option(
        ..., "--training-data", help="Fingerprint of the training data."
    ),
    metric: list[str] = typer.Option([], "--metric", help="Offline metric name=number."),
    rationale: str = typer.Option(..., "--rationale", help="Why this version exists."),
    actor: str | None = typer.Option(None, "--as", help="Who registers it."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Register the next version of a model as a candidate, bound to its impact contract."""
    asked = [request_input_of_option(option) for option in request_input]
    if contract is None:
        raise InvalidInput(
            "--contract",
            "a model version is never registered without a business-impact contract; "
            "give its YAML file",
        )
    impact = BusinessImpact.from_mapping(_yaml_file(contract, "--contract"))
    spec = artifact_from_option(kind, artifact)
    offline = _metrics(metric)
    with open_lucid(ctx) as lucid:
        version = lucid.registry.register_model(
            name,
            artifact=spec,
            impact=impact,
            features=feature,
            training_data=training_data,
            offline_metrics=offline,
            registered_by=acting(actor),
            rationale=rationale,
            request_inputs=asked,
        )
        notice = lucid.monitoring.default_policy_notice(name)
    if as_json:
        print_json(version.to_dict())
        return
    takes = (
        "it takes its pinned features in the order of the pins"
        + (", then its request-time inputs" if version.request_inputs else "")
        if version.inputs is None
        else f"it takes {', '.join(version.inputs)}, in that order"
    )
    console.print(
        f"Registered {version.label} as a candidate ({version.artifact.kind.value}); {takes}."
    )
    if notice is not None:
        console.print(f"{notice[0].upper()}{notice[1:]}.")


@app.command()
def convert(
    file: Path = typer.Argument(..., help="skops file of a fitted scikit-learn model."),
    out: Path = typer.Option(..., "--out", help="ONNX file to write, e.g. model.onnx."),
) -> None:
    """Convert a scikit-learn model (skops) to ONNX with skl2onnx, checked to score as the
    model does before it is written."""
    from lucid.registry.convert import TOLERANCE, convert_file

    if out.is_dir():
        raise InvalidInput("--out", f"{out} is a folder; give the ONNX file to write")
    converted = convert_file(file)
    out.write_bytes(converted.data)
    takes = (
        f"one input per feature, by name: {', '.join(converted.inputs)}"
        if converted.inputs is not None
        else f"one tensor of {converted.width} columns, taken in the order of the pins"
    )
    console.print(
        f"Wrote {escape(str(out))}: the {converted.model} as ONNX, taking {escape(takes)}; "
        f"its scores match the model's within {TOLERANCE:g} on {converted.rows_checked} rows "
        f"(largest difference {converted.largest_difference:.2g})."
    )
    pins = " ".join(f"--feature {name}@VERSION" for name in converted.inputs or ("NAME",))
    console.print(
        f"Register it: lucid models register MODEL --kind onnx --artifact {escape(str(out))} "
        f"{escape(pins)} --contract contract.yaml --training-data FINGERPRINT --rationale WHY"
    )


@app.command("list")
def list_models(
    ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help="Print JSON.")
) -> None:
    """List registered models, their production version and freeze."""
    with open_lucid(ctx) as lucid:
        models = lucid.registry.list_models()
    if as_json:
        print_json([model.to_dict() for model in models])
        return
    table = Table("model", "versions", "production", "frozen")
    for model in models:
        table.add_row(
            model.name,
            str(model.versions),
            "-" if model.production is None else str(model.production),
            model.frozen_reason or "",
        )
    console.print(table)


@app.command()
def show(
    ctx: typer.Context,
    name: str = typer.Argument(...),
    version: int | None = typer.Option(None, "--version", help="Default: every version."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show a model's versions: stage, artifact, pins, contract, evidence."""
    with open_lucid(ctx) as lucid:
        versions = (
            [lucid.registry.get_version(name, version)]
            if version is not None
            else lucid.registry.versions(name)
        )
    if as_json:
        print_json([v.to_dict() for v in versions])
        return
    table = Table("version", "stage", "artifact", "features", "metric", "target", "evidence")
    for v in versions:
        table.add_row(
            str(v.version),
            v.stage.value,
            f"{v.artifact.kind.value}:{v.artifact.location}",
            escape(
                ", ".join([*v.features, *(f"{r.name} ({r.described})" for r in v.request_inputs)])
            ),
            f"{v.impact.metric} ({v.impact.direction.value})",
            f"{v.impact.target:g}",
            "; ".join(_described(e) for e in v.evidence) or "-",
        )
    console.print(table)


@app.command("attach-evidence")
def attach_evidence(
    ctx: typer.Context,
    name: str = typer.Argument(...),
    version: int = typer.Argument(...),
    evidence: Path = typer.Option(..., "--evidence", help="YAML or JSON evidence record."),
    rationale: str = typer.Option(..., "--rationale"),
    actor: str | None = typer.Option(None, "--as"),
) -> None:
    """Attach evidence from an experiment run outside Lucid (marked external; the schema is in
    docs/evidence.md, every problem of the file reported at once)."""
    record = read_external_evidence(_yaml_file(evidence, "--evidence"))
    with open_lucid(ctx) as lucid:
        v = lucid.registry.attach_evidence(
            name, version, record, actor=acting(actor), rationale=rationale
        )
    console.print(
        f"Attached external {record.kind.value} evidence on {record.metric} from "
        f"{escape(record.source)} to {v.label} (digest {record.digest[:12]})."
    )


def _described(evidence: Evidence) -> str:
    """`business churn_rate -0.02 p=0.003 (exp-42, external)`."""
    return escape(
        f"{evidence.kind.value} {evidence.metric} {evidence.effect:+.4g} "
        f"p={evidence.p_value:.3g} ({evidence.source}, {evidence.origin.value})"
    )


@app.command()
def promote(
    ctx: typer.Context,
    name: str = typer.Argument(...),
    version: int = typer.Argument(...),
    to: str = typer.Option(..., "--to", help="challenger or production."),
    rationale: str = typer.Option(..., "--rationale"),
    override_by: str | None = typer.Option(
        None, "--override-by", help="Approver overriding the evidence requirement."
    ),
    actor: str | None = typer.Option(None, "--as"),
) -> None:
    """Promote a version through the gate (production needs evidence or an override)."""
    override = Override(override_by, rationale) if override_by is not None else None
    with open_lucid(ctx) as lucid:
        v = lucid.registry.promote(
            name, version, to, actor=acting(actor), rationale=rationale, override=override
        )
    console.print(f"{v.label} is now {v.stage.value}.")


@app.command()
def archive(
    ctx: typer.Context,
    name: str = typer.Argument(...),
    version: int = typer.Argument(...),
    rationale: str = typer.Option(..., "--rationale"),
    actor: str | None = typer.Option(None, "--as"),
) -> None:
    """Retire a candidate or challenger."""
    with open_lucid(ctx) as lucid:
        v = lucid.registry.archive(name, version, actor=acting(actor), rationale=rationale)
    console.print(f"{v.label} is archived.")


@app.command()
def freeze(
    ctx: typer.Context,
    name: str = typer.Argument(...),
    reason: str = typer.Option(..., "--reason"),
    actor: str | None = typer.Option(None, "--as"),
) -> None:
    """Block every promotion of a model until it is unfrozen."""
    with open_lucid(ctx) as lucid:
        lucid.registry.freeze(name, reason=reason, actor=acting(actor))
    console.print(f"{name} is frozen: {reason}")


@app.command()
def unfreeze(
    ctx: typer.Context,
    name: str = typer.Argument(...),
    rationale: str = typer.Option(..., "--rationale"),
    actor: str | None = typer.Option(None, "--as"),
) -> None:
    """Lift a freeze."""
    with open_lucid(ctx) as lucid:
        lucid.registry.unfreeze(name, actor=acting(actor), rationale=rationale)
    console.print(f"{name} is unfrozen.")


@app.command()
def observe(
    ctx: typer.Context,
    name: str = typer.Argument(...),
    version: int = typer.Argument(...),
    metric: str = typer.Option(..., "--metric", help="The contract's metric or a guardrail."),
    value: float = typer.Option(..., "--value", help="Measured value, in the metric's unit."),
    period: str = typer.Option(..., "--period", help="Measurement period, e.g. 2026-11."),
    actor: str | None = typer.Option(None, "--as"),
) -> None:
    """Record a business metric measured for a version over a period."""
    with open_lucid(ctx) as lucid:
        lucid.registry.observe(
            name, version, metric=metric, value=value, period=period, actor=acting(actor)
        )
    console.print(f"Recorded {metric} = {value:g} for {name}@{version} over {period}.")


@app.command()
def evaluate(
    ctx: typer.Context,
    name: str = typer.Argument(...),
    no_rollback: bool = typer.Option(
        False, "--no-rollback", help="Report a due rollback without doing it."
    ),
    actor: str | None = typer.Option(None, "--as"),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Judge the production version: target achieved, within band, or rollback due (done)."""
    with open_lucid(ctx) as lucid:
        report = lucid.registry.evaluate(name, actor=acting(actor), auto_rollback=not no_rollback)
    if as_json:
        print_json(report.to_dict())
    else:
        e = report.evaluation
        console.print(
            f"{name}@{report.version}: {e.metric} {e.value:g} over {report.period} → "
            f"{e.verdict.value.replace('_', ' ')} (target {e.target:g}, rollback under "
            f"{e.rollback_threshold:g})"
        )
        if report.rolled_back_to is not None:
            console.print(f"Rolled back: {name}@{report.rolled_back_to} serves again.")
    if report.alert is not None:
        raise typer.Exit(_critical(report.alert))


def _critical(sentence: str) -> int:
    from lucid.cli.context import errors

    errors.print(f"[bold red]critical:[/] {sentence}", highlight=False)
    return 1


@app.command()
def rollback(
    ctx: typer.Context,
    name: str = typer.Argument(...),
    rationale: str = typer.Option(..., "--rationale"),
    actor: str | None = typer.Option(None, "--as"),
) -> None:
    """Make the previous production version serve again, by hand."""
    with open_lucid(ctx) as lucid:
        v = lucid.registry.rollback(name, actor=acting(actor), rationale=rationale)
    console.print(f"Rolled back: {v.label} serves production again.")


@app.command()
def history(
    ctx: typer.Context,
    name: str = typer.Argument(...),
    at: str | None = typer.Option(
        None, "--at", help="ISO 8601 time; no offset means UTC, e.g. 2026-11-25T10:00:00+01:00."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Which version served production at any moment and why it changed, from the event log."""
    moment = _moment(at) if at is not None else None
    with open_lucid(ctx) as lucid:
        story = lucid.registry.history(name, moment)
    if as_json:
        print_json(story.to_dict())
        return
    table = Table("at", "change", "serving", "actor", "why", "what")
    for entry in story.entries:
        table.add_row(
            entry.at.isoformat(),
            entry.kind,
            "-" if entry.serving_after is None else str(entry.serving_after),
            escape(entry.actor),
            escape(entry.rationale),
            escape(entry.detail),
        )
    console.print(table)
    serving = "no version" if story.serving is None else f"{name}@{story.serving}"
    console.print(f"{serving} served production{' at ' + at if at else ''}.")


def _moment(text: str) -> datetime:
    """`--at` as an aware UTC time: an offset is honoured, no offset means UTC."""
    return to_utc(text, "--at")


@app.command()
def portfolio(
    ctx: typer.Context,
    offline_metric: str | None = typer.Option(None, "--offline-metric"),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Portfolio figures: models without contract, offline/business correlation, value."""
    with open_lucid(ctx) as lucid:
        figures = lucid.registry.portfolio(offline_metric)
    if as_json:
        print_json(figures.to_dict())
        return
    console.print(
        f"Production models without contract: {figures.production_without_contract}/"
        f"{figures.production_models} ({figures.share_without_contract:.0%})"
    )
    r = (
        "not enough measured versions"
        if figures.correlation is None
        else f"{figures.correlation:.3f}"
    )
    console.print(f"Correlation of {figures.offline_metric} gains with business gains: {r}")
    for value in figures.values:
        console.print(
            f"{value.name}@{value.version}: {value.value_per_period:,.2f} per period "
            f"({value.gain_over_baseline:+g} over baseline)"
        )


@app.command("predict")
def predict(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Model name, e.g. churn."),
    entities: Path = typer.Option(
        ...,
        "--entities",
        help="CSV or Parquet file: an entity_id column, and one column per request-time input.",
    ),
    out: Path = typer.Option(..., "--out", help="The Parquet file the predictions go to."),
    version: int | None = typer.Option(
        None,
        "--version",
        help="Score every entity with this version (default: routed as the API routes).",
    ),
    actor: str | None = typer.Option(None, "--as", help="Who scores (on the exposures)."),
) -> None:
    """Score a file of entities offline, the twin of POST /v1/predict: routed like the API,
    features read online at the pinned versions, request-time inputs checked on every row
    (one bad row refuses the file, nothing logged), logged as the API logs."""
    from lucid.cli.model_predictions import score_file

    if out.suffix.lower() != ".parquet":
        raise InvalidInput("--out", f"{out} must be a .parquet file")
    with open_lucid(ctx) as lucid:
        summary = score_file(lucid, name, entities, out, version=version, actor=acting(actor))
    console.print(summary, markup=False, highlight=False)
