"""The `/v1` routes of the validity contract: monitoring runs with every check, the policy of a
model, alerts and their acknowledgement. Reads are open to every role; running a policy over a
window and acknowledging an alert need a data scientist."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from lucid.contracts.access import Role
from lucid.service.dependencies import LucidDep, PrincipalDep
from lucid.service.times import UtcTime

router = APIRouter(prefix="/v1")


class CheckView(BaseModel):
    """One threshold of the policy graded on one measurement."""

    position: int
    threshold: str = Field(description="The threshold's key in the policy.")
    drift_type: str = Field(description="data, concept or performance")
    metric: str
    feature: str | None
    segment: str | None
    value: float | None = Field(description="The measured value (null: not measurable).")
    level: str = Field(description="ok, warning or critical")
    warning: float
    critical: float
    reference_rows: int | None
    current_rows: int | None
    expected_no_drift: float | None
    actions: list[str]
    note: str | None
    pvalue: float | None = Field(
        None, description="Evidence against no drift at the window's sizes (null: no test)."
    )
    adjusted_pvalue: float | None = Field(
        None, description="The p-value adjusted across the run's tested checks."
    )
    details: dict[str, Any] = Field(
        default_factory=dict,
        description="Diagnostics: `moved` lists the bins or categories that moved most "
        "(reference and current share and rows, term of PSI in nats); health counts.",
    )
    what_moved: str | None = Field(
        None, description="A warning or critical check in one line: what moved."
    )


class RunView(BaseModel):
    """A stored monitoring run over one window: its worst level, the actions it asked and
    every check (none hidden behind the first failure)."""

    id: str
    model: str
    version: str
    window: str
    measured_at: str
    level: str
    actions: list[str]
    checks: list[CheckView]


class RunPageView(BaseModel):
    runs: list[RunView]
    next_cursor: str | None = Field(description="The `cursor` of the next page; null at the end.")


class AlertView(BaseModel):
    """An alert raised by a run: step 0 warning, 1 critical, 2 escalated."""

    id: str
    model: str
    run_id: str
    target: str
    level: str
    step: int
    summary: str
    runbooks: list[str]
    raised_at: str
    stepped_at: str
    acknowledged_at: str | None
    acknowledged_by: str | None


@router.get("/monitoring/runs", tags=["monitoring"])
def list_runs(
    lucid: LucidDep,
    who: PrincipalDep,
    model: str | None = Query(None, description="Only this model's runs."),
    cursor: str | None = Query(None, description="The `next_cursor` of the previous page."),
    limit: int = Query(50, ge=1, le=500),
) -> RunPageView:
    """Monitoring runs newest first, each with every check, a page at a time."""
    page = lucid.monitoring.runs(model, cursor=cursor, limit=limit)
    return RunPageView.model_validate(page.to_dict())


class RunRequest(BaseModel):
    """A run of the model's policy over a window: both times, or neither for the last complete
    period of the policy's frequency. A window that has not ended is refused."""

    model: str
    window_start: UtcTime | None = None
    window_end: UtcTime | None = None
    version: int | None = Field(None, ge=1, description="Default: the production version.")


class RunAnswer(BaseModel):
    created: bool = Field(description="False when the window had been run: the stored run.")
    run: RunView


@router.post("/monitoring/runs", tags=["monitoring"])
def run_policy(body: RunRequest, lucid: LucidDep, who: PrincipalDep) -> RunAnswer:
    """Run the model's policy over the window and take the actions it asks (scientists+)."""
    who.require(Role.SCIENTIST, action=f"running the monitoring policy of {body.model}")
    report = lucid.monitoring.run(
        body.model, start=body.window_start, end=body.window_end, version=body.version
    )
    return RunAnswer(created=report.created, run=RunView.model_validate(report.record.to_dict()))


@router.get("/monitoring/runs/{run_id}", tags=["monitoring"])
def show_run(run_id: str, lucid: LucidDep, who: PrincipalDep) -> RunView:
    """One run: every check with its metric, feature, segment, value, level and thresholds."""
    return RunView.model_validate(lucid.monitoring.get_run(run_id).to_dict())


@router.get("/monitoring/policies/{model}", tags=["monitoring"])
def show_policy(model: str, lucid: LucidDep, who: PrincipalDep) -> dict[str, Any]:
    """The model's monitoring policy (thresholds, actions, reporting); `stored` is false when
    none was set and the generic policy alerting the model's owner applies."""
    policy = lucid.monitoring.policy(model)  # checks the name first
    stored = lucid.monitoring.store.stored_policy(model) is not None
    if not stored:
        lucid.registry.versions(model)  # the not-found sentence for an unknown model
    return {"stored": stored, **policy.to_mapping()}


@router.get("/alerts", tags=["monitoring"])
def list_alerts(
    lucid: LucidDep,
    who: PrincipalDep,
    model: str | None = Query(None, description="Only this model's alerts."),
) -> list[AlertView]:
    """Alerts oldest first, acknowledged or not."""
    return [AlertView.model_validate(alert.to_dict()) for alert in lucid.monitoring.alerts(model)]


@router.post("/alerts/{alert_id}/ack", tags=["monitoring"])
def acknowledge_alert(alert_id: str, lucid: LucidDep, who: PrincipalDep) -> AlertView:
    """Take an alert in hand as the token's person: it stops escalating (scientists+)."""
    who.require(Role.SCIENTIST, action=f"acknowledging alert {alert_id}")
    return AlertView.model_validate(
        lucid.monitoring.acknowledge(alert_id, actor=who.person).to_dict()
    )
