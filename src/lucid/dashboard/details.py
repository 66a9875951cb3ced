"""What the detail pages show — one feature, one incident, one experiment — read from a
`Lucid` handle into plain dicts and SVG charts. Nothing here writes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from lucid.bootstrap import Lucid
from lucid.charts import Look, band_chart, format_day
from lucid.contracts.events import RecordedEvent
from lucid.contracts.incidents.incident import ROOT_CAUSES
from lucid.contracts.incidents.lifecycle import ALLOWED_FROM
from lucid.contracts.registry_events import model_subject
from lucid.contracts.semantic.plan import diff_definitions
from lucid.errors import LucidError, NotFound
from lucid.ports.online import MATERIALISED

INCIDENT_EVENTS = (
    "IncidentOpened",
    "IncidentReported",
    "IncidentUpdated",
    "IncidentAcknowledged",
    "IncidentDiagnosed",
    "ProposalsRecorded",
    "ExperimentLinked",
    "LessonRecorded",
    "IncidentClosed",
)
"""The event types that carry an `incident_id`, all recorded on the model's subject."""


def srm_verdict(analysis: dict[str, Any]) -> tuple[str, str]:
    """The sample-ratio verdict as the pages word it, and its CSS class: no verdict without
    an exposure."""
    if analysis["control"]["exposed"] + analysis["challenger"]["exposed"] == 0:
        return "no exposures yet: no sample-ratio check without data", "muted"
    ratio = analysis["sample_ratio"]
    if ratio["mismatch"]:
        return f"mismatch (p {ratio['p_value']:.3g})", "bad"
    return f"as designed (p {ratio['p_value']:.3g})", "ok"


# --- a feature ---------------------------------------------------------------------------


def feature(lucid: Lucid, name: str, version: str | None) -> dict[str, Any]:
    """One feature version (the latest unless `version`): its definition, approvals with their
    rationale, the change from the previous version, the SQL a training set runs, its last
    materialisation, how many values were served and their skew."""
    versions = [g for g in lucid.features.definitions() if g.definition.name == name]
    if not versions:
        raise NotFound(f"No feature named {name} is stored.")
    chosen = versions[-1]
    if version is not None:
        found = [g for g in versions if str(g.definition.version) == version]
        if not found:
            stored = ", ".join(str(g.definition.version) for g in versions)
            raise NotFound(f"Feature {name} has no version {version} (stored: {stored}).")
        chosen = found[0]
    definition = chosen.definition
    ref = str(definition.ref)
    index = versions.index(chosen)
    previous = versions[index - 1].definition if index > 0 else None
    events = lucid.events.read(subject=f"feature:{ref}", limit=1000)
    return {
        "name": name,
        "ref": ref,
        "definition": definition.to_dict(),
        "status": chosen.status.value,
        "proposed_by": chosen.proposed_by,
        "missing_teams": list(chosen.missing_teams),
        "versions": [str(g.definition.version) for g in versions],
        "version": str(definition.version),
        "previous": None if previous is None else str(previous.version),
        "changes": [
            {"field": c.field, "old": c.old, "new": c.new, "bump": c.bump.label}
            for c in (diff_definitions(previous, definition) if previous else [])
        ],
        "approvals": [
            {
                "team": e.payload["team"],
                "person": e.payload["person"],
                "at": e.occurred_at,
                "rationale": e.rationale,
            }
            for e in events
            if e.type == "FeatureApprovalGiven"
        ],
        "history": [_row(e) for e in events],
        **_sql(lucid, ref),
        **_freshness(lucid, ref),
        **_serving(lucid, ref),
    }


def _sql(lucid: Lucid, ref: str) -> dict[str, Any]:
    try:
        return {"sql": lucid.features.sql(ref, dialect=lucid.settings.engine), "sql_error": None}
    except LucidError as error:
        return {"sql": None, "sql_error": error.sentence}


def _freshness(lucid: Lucid, ref: str) -> dict[str, Any]:
    """The last materialisation's moment (None: never materialised, or no online store)."""
    try:
        stored = lucid.online_store.read([MATERIALISED], [ref])
    except LucidError as error:
        return {"materialised_at": None, "online_error": error.sentence}
    marker = stored.get((MATERIALISED, ref))
    moment = None if marker is None else datetime.fromtimestamp(marker[1], UTC)
    return {
        "materialised_at": None if moment is None else moment.strftime("%Y-%m-%d %H:%M UTC"),
        "online_error": None,
    }


def _serving(lucid: Lucid, ref: str) -> dict[str, Any]:
    """Served volume, and the skew the promotion gate judges (the 30 days before the last
    served value)."""
    try:
        figures = lucid.features.serving_figures(ref)
    except LucidError as error:
        return {"served": None, "last_served_at": None, "skew": None, "skew_error": error.sentence}
    last = figures.last_served_at
    return {
        "served": figures.served,
        "last_served_at": None if last is None else last.strftime("%Y-%m-%d %H:%M UTC"),
        "skew": figures.skew,
        "skew_error": None,
    }


def _row(event: RecordedEvent) -> dict[str, Any]:
    return {
        "seq": event.seq,
        "at": event.occurred_at,
        "type": event.type,
        "actor": event.actor,
        "rationale": event.rationale,
    }


# --- an incident -------------------------------------------------------------------------


def incident(lucid: Lucid, incident_id: str) -> dict[str, Any]:
    """One incident: its record, its timeline from the log (every event about it, oldest
    first), the linked experiment and which steps its status allows."""
    found = lucid.incidents.get(incident_id)
    subject = str(model_subject(found.model))
    timeline: list[RecordedEvent] = []
    for kind in INCIDENT_EVENTS:
        after = 0
        while True:
            page = lucid.events.read(subject=subject, type=kind, after=after, limit=1000)
            timeline.extend(e for e in page if e.payload.get("incident_id") == incident_id)
            if len(page) < 1000:
                break
            after = page[-1].seq
    timeline.sort(key=lambda e: e.seq)
    return {
        "incident": found.to_dict(),
        "timeline": [_row(e) for e in timeline],
        "steps": {step for step, allowed in ALLOWED_FROM.items() if found.status in allowed},
        "root_causes": [(cause.value, meaning) for cause, meaning in ROOT_CAUSES.items()],
    }


# --- an experiment -----------------------------------------------------------------------


def experiment(lucid: Lucid, experiment_id: str) -> dict[str, Any]:
    """One experiment: its design, exposures per arm, sample-ratio check, the estimate with
    its interval at the end of each day, and its conclusion."""
    design = lucid.experiments.design(experiment_id)
    summary = next(e for e in lucid.experiments.overview() if e["id"] == experiment_id)
    analysis = lucid.experiments.status(experiment_id).to_dict()
    looks = []
    for day, look in lucid.experiments.looks(experiment_id):
        if look.test is not None:
            moment = datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=UTC).timestamp()
            test = look.test
            looks.append(
                Look(moment, test.effect, test.ci_low, test.ci_high, f"{day}: {test.effect:+.4g}")
            )
    srm, srm_class = srm_verdict(analysis)
    return {
        "summary": summary,
        "design": design.to_dict(),
        "minimum": analysis["minimum_sample"],
        "analysis": analysis,
        "srm": srm,
        "srm_class": srm_class,
        "looks": len(looks),
        "history": [_row(e) for e in lucid.events.read(subject=f"experiment:{experiment_id}")],
        "chart": band_chart(
            f"{experiment_id}: challenger minus control over time",
            looks,
            x_format=format_day,
            y_label=f"effect on {design.metric} (challenger − control)",
            chart_id="estimate-chart",
        ),
    }
