"""`lucid serve` and `lucid tokens`: the HTTP service and the tokens that call it."""

from __future__ import annotations

import os
from pathlib import Path

import typer
from rich.table import Table

from lucid.cli.context import console, open_lucid, print_json, state
from lucid.project_folder import PROJECT_ENV, find_project
from lucid.settings import SUPERVISOR_ENV, Settings, default_actor

tokens_app = typer.Typer(help="API tokens for the HTTP service.", no_args_is_help=True)


def serve(
    ctx: typer.Context,
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(8000, "--port", min=0, max=65535),
    workers: int = typer.Option(1, "--workers", min=1, help="Worker processes."),
    schedule: bool | None = typer.Option(
        None,
        "--schedule/--no-schedule",
        help="Also run the scheduler (default: scheduler.enabled in lucid.yaml).",
    ),
    tick: float | None = typer.Option(
        None, "--tick", help="Scheduler tick in seconds (default: scheduler.tick_seconds)."
    ),
) -> None:
    """Serve the HTTP API (OpenAPI at /docs and /openapi.json) for this project."""
    import subprocess
    import sys
    import tempfile

    import uvicorn

    from lucid.errors import InvalidInput
    from lucid.settings import load_settings

    if tick is not None and not tick > 0:
        raise InvalidInput("--tick", f"must be a positive number of seconds, not {tick}")
    folder = find_project(state(ctx).project, Path.cwd(), os.environ)
    os.environ[PROJECT_ENV] = str(folder)  # the workers' factory finds the project here
    os.environ[SUPERVISOR_ENV] = str(os.getpid())  # and the process whose end is theirs
    # Every worker writes its metrics here, so /metrics answers for all of them.
    os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="lucid-metrics-"))
    scheduler = None
    settings = load_settings(folder, os.environ)
    scheduling = settings.scheduler
    if scheduling.enabled if schedule is None else schedule:
        # One scheduler process beside the workers, whatever their number; it leads only
        # while it holds the project's scheduler lock, and exits when this process is gone.
        seconds = tick if tick is not None else scheduling.tick_seconds
        scheduler = subprocess.Popen(
            [
                *(sys.executable, "-m", "lucid", "--project", str(folder), "schedule"),
                *("--tick", str(seconds), "--parent-pid", str(os.getpid())),
            ]
        )
    _announce(settings, host, port, workers, scheduler is not None)
    try:
        uvicorn.run(
            "lucid.service.asgi:app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level="warning",
            access_log=False,  # a line per prediction costs more than the prediction
            # X-Forwarded-Proto/-For are believed only from a proxy the project trusts.
            proxy_headers=settings.dashboard.trusted_proxy,
        )
    finally:
        if scheduler is not None:
            scheduler.terminate()
            try:
                scheduler.wait(timeout=30)
            except subprocess.TimeoutExpired:
                scheduler.kill()


def _announce(settings: Settings, host: str, port: int, workers: int, scheduling: bool) -> None:
    """What `lucid serve` serves, where, and what it stores to: said once, before the
    workers start (each worker then logs only warnings and errors)."""
    from lucid.storage.database import redact

    shown = f"[{host}]" if ":" in host else host
    base = f"http://{shown}:{port}"
    lines = [
        f"Lucid serves the project {settings.name} ({settings.project_dir})",
        f"  API:          {base}/v1  (OpenAPI at {base}/docs)",
        f"  Dashboard:    {base}/dashboard",
        f"  Workers:      {workers}; scheduler {'on' if scheduling else 'off'}",
        f"  Metadata:     {redact(settings.database_url)}",
        f"  Online store: {redact(settings.online_store_url)}",
        f"  Artifacts:    {redact(settings.artifacts_url)}",
    ]
    for line in lines:
        console.print(line, markup=False, highlight=False, soft_wrap=True)
    console.file.flush()  # before the workers start, when the output is a file or a pipe


@tokens_app.command("create")
def create(
    ctx: typer.Context,
    person: str = typer.Option(..., "--person", help="Who the token speaks for."),
    role: str = typer.Option(
        ..., "--role", help="viewer, scientist, approver, admin or service (an application)."
    ),
    team: list[str] = typer.Option([], "--team", help="Teams an approver approves for."),
    rationale: str = typer.Option("issued for the HTTP API", "--rationale"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Issue a token; its secret is printed once and stored only as a hash."""
    with open_lucid(ctx) as lucid:
        principal, secret = lucid.tokens.create(
            person=person,
            role=role,
            teams=team,
            actor=default_actor(os.environ),
            rationale=rationale,
        )
    if as_json:
        print_json(
            {
                "id": principal.token_id,
                "person": principal.person,
                "role": principal.role.value,
                "teams": list(principal.teams),
                "token": secret,
            }
        )
        return
    console.print(f"Token {principal.token_id} for {principal.person} ({principal.role.value}):")
    console.print(secret, highlight=False, markup=False)
    console.print("Store it now: it is not shown again.")


@tokens_app.command("list")
def list_tokens(ctx: typer.Context, as_json: bool = typer.Option(False, "--json")) -> None:
    """List tokens (never their secrets)."""
    with open_lucid(ctx) as lucid:
        rows = lucid.tokens.list()
    if as_json:
        print_json(rows)
        return
    table = Table("id", "person", "role", "teams", "created", "revoked")
    for row in rows:
        table.add_row(
            row["id"],
            row["person"],
            row["role"],
            ", ".join(row["teams"]),
            row["created_at"],
            row["revoked_at"] or "",
        )
    console.print(table)


@tokens_app.command("revoke")
def revoke(
    ctx: typer.Context,
    token_id: str = typer.Argument(...),
    rationale: str = typer.Option(..., "--rationale"),
) -> None:
    """Revoke a token for good."""
    with open_lucid(ctx) as lucid:
        lucid.tokens.revoke(token_id, actor=default_actor(os.environ), rationale=rationale)
    console.print(f"Token {token_id} is revoked.")


webhooks_app = typer.Typer(help="Event subscriptions: signed webhooks.", no_args_is_help=True)


@webhooks_app.command("add")
def add_webhook(
    ctx: typer.Context,
    url: str = typer.Argument(..., help="Where to POST the events."),
    types: str = typer.Option("", "--types", help="Event types, comma-separated (all if empty)."),
    from_start: bool = typer.Option(False, "--from-start", help="Also send past events."),
    rationale: str = typer.Option("subscribed to the event log", "--rationale"),
) -> None:
    """Subscribe a URL to events; prints the shared secret that signs every delivery."""
    with open_lucid(ctx) as lucid:
        subscription_id, secret = lucid.subscriptions.add(
            url,
            event_types=types.split(","),
            actor=default_actor(os.environ),
            rationale=rationale,
            from_start=from_start,
        )
    console.print(f"Subscription {subscription_id} → {url}")
    console.print(
        f"Signing secret (Standard Webhooks, header webhook-signature): {secret}",
        highlight=False,
        markup=False,
    )


@webhooks_app.command("list")
def list_webhooks(ctx: typer.Context) -> None:
    """List subscriptions and their cursors."""
    with open_lucid(ctx) as lucid:
        print_json(lucid.subscriptions.entries())


@webhooks_app.command("dispatch")
def dispatch_webhooks(ctx: typer.Context) -> None:
    """Send pending events to every subscription, with retries (run it from cron)."""
    with open_lucid(ctx) as lucid:
        result = lucid.subscriptions.dispatch()
    print_json(result.to_dict())
    if result.stuck:
        raise typer.Exit(1)
