"""`lucid monitor policy`: the monitoring policy of a model."""

from __future__ import annotations

from pathlib import Path

import typer

from lucid.cli.context import acting, console, open_lucid, print_json
from lucid.contracts.validity.policy import ThresholdApproval
from lucid.errors import InvalidInput

app = typer.Typer(help="The monitoring policy of a model.", no_args_is_help=True)


@app.command("show")
def policy_show(
    ctx: typer.Context,
    model: str = typer.Argument(..., help="The model."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of YAML."),
) -> None:
    """Print the model's policy (the generic policy alerting its owner when none was set)."""
    from lucid.monitoring.policy_file import dump_policy

    with open_lucid(ctx) as lucid:
        policy = lucid.monitoring.policy(model)
    if as_json:
        print_json(policy.to_mapping())
        return
    console.print(dump_policy(policy), end="", highlight=False)


@app.command("set")
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
        parsed.append(ThresholdApproval(team.strip(), person.strip()))
    with open_lucid(ctx) as lucid:
        lucid.monitoring.set_policy(
            policy, actor=acting(actor), rationale=rationale, approvals=parsed
        )
    console.print(f"policy of {model} stored ({len(policy.thresholds)} thresholds)")
