"""The retrospective of a period (`lucid report --since DATE`), gathered from the log and stores.

What it holds: the deployments of the period (`ModelDeployed`) with the checkpoint verdicts
recorded for them (`CheckpointEvaluated`, whenever judged), the incidents opened in the period
or still not closed at its start, with their diagnoses and lessons, the experiments created in
the period or still running, the scorecard now, and the trend of the incident figures: the
same pure fold (`lucid.contracts.incidents.incident_figures`) over the log as it stood at the
end of each step of the period. The other scorecard figures are measured now only: the log
does not keep the feature audit or skew as of a past date.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Protocol

from lucid.contracts.events import RecordedEvent, format_time, parse_time
from lucid.contracts.incidents.figures import (
    INCIDENT_EVENT_TYPES,
    IncidentFigures,
    facts_from_events,
    incident_figures,
)
from lucid.contracts.incidents.incident import Incident
from lucid.contracts.scorecard import INCIDENT_KEYS, SCORECARD_LABELS
from lucid.contracts.times import utc_text
from lucid.errors import InvalidInput
from lucid.ports.event_log import EventLog


class _Incidents(Protocol):
    def list(self) -> list[Incident]: ...


class _Experiments(Protocol):
    def overview(self) -> list[dict[str, Any]]: ...


class _Scorecard(Protocol):
    def to_dict(self) -> dict[str, Any]: ...


class _Loop(Protocol):
    def scorecard(self) -> _Scorecard: ...


class PeriodSources(Protocol):
    """What a retrospective reads: the project's clock, log, incidents, experiments and
    scorecard (a `lucid.bootstrap.Lucid` handle is one)."""

    @property
    def clock(self) -> Callable[[], datetime]: ...

    @property
    def events(self) -> EventLog: ...

    @property
    def incidents(self) -> _Incidents: ...

    @property
    def experiments(self) -> _Experiments: ...

    @property
    def loop(self) -> _Loop: ...


TREND_POINTS = 6
"""How many moments the incident figures are measured at across the period."""


@dataclass(frozen=True)
class Retrospective:
    """One period's story; times are canonical UTC texts."""

    since: str
    until: str
    deployments: list[dict[str, Any]]
    incidents: list[Incident]
    experiments: list[dict[str, Any]]
    scorecard: dict[str, Any]
    trend: list[tuple[str, IncidentFigures]]

    def to_dict(self) -> dict[str, Any]:
        return {
            "since": self.since,
            "until": self.until,
            "deployments": self.deployments,
            "incidents": [i.to_dict() for i in self.incidents],
            "experiments": self.experiments,
            "scorecard": self.scorecard,
            "trend": [{"at": at, **asdict(figures)} for at, figures in self.trend],
        }


def _events(log: EventLog, kind: str) -> Iterator[RecordedEvent]:
    after = 0
    while True:
        page = log.read(after=after, limit=1000, type=kind)
        yield from page
        if len(page) < 1000:
            return
        after = page[-1].seq


def incident_trend(
    log: EventLog, since: datetime, until: datetime, points: int = TREND_POINTS
) -> list[tuple[str, IncidentFigures]]:
    """The incident figures as the log stood at `points` moments evenly spread from `since`
    to `until` (both included)."""
    events = sorted(
        (e for kind in INCIDENT_EVENT_TYPES for e in _events(log, kind)), key=lambda e: e.seq
    )
    step = (until - since) / max(points - 1, 1)
    trend: list[tuple[str, IncidentFigures]] = []
    for index in range(points):
        moment = since + step * index
        at = format_time(moment)
        facts, shifts = facts_from_events(events, until=at)
        trend.append((at, incident_figures(facts, shifts, moment)))
    return trend


def gather(lucid: PeriodSources, since: datetime, until: datetime | None = None) -> Retrospective:
    """The retrospective of [since, until] (until: the project clock's now)."""
    end = lucid.clock() if until is None else until
    start_text, end_text = utc_text(since, "since"), utc_text(end, "until")
    if start_text >= end_text:
        raise InvalidInput("since", f"{start_text} must be before the end of the period")

    def within(at: str) -> bool:
        return start_text <= at <= end_text

    verdicts: dict[int, list[dict[str, Any]]] = {}
    for event in _events(lucid.events, "CheckpointEvaluated"):
        p = event.payload
        verdicts.setdefault(int(p["deployment_id"]), []).append(
            {"days": p["days"], "due_at": p["due_at"], "outcome": p["outcome"]}
        )
    deployments = [
        {
            "id": e.payload["deployment_id"],
            "model": e.payload["name"],
            "version": e.payload["version"],
            "deployed_at": e.occurred_at,
            "deployed_by": e.payload["deployed_by"],
            "rationale": e.rationale,
            "hypotheses": [h["description"] for h in e.payload["hypotheses"]],
            "checkpoints": verdicts.get(int(e.payload["deployment_id"]), []),
        }
        for e in _events(lucid.events, "ModelDeployed")
        if within(e.occurred_at)
    ]
    incidents = [
        i
        for i in lucid.incidents.list()
        if within(i.opened_at) or (i.opened_at < start_text and (i.closed_at or "~") >= start_text)
    ]
    experiments = [
        x
        for x in lucid.experiments.overview()
        if within(x["created_at"]) or (x["created_at"] < start_text and x["status"] == "running")
    ]
    return Retrospective(
        start_text,
        end_text,
        deployments,
        incidents,
        experiments,
        lucid.loop.scorecard().to_dict(),
        incident_trend(lucid.events, since, end),
    )


# -- rendering -------------------------------------------------------------------------------


def _number(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def _trend_rows(trend: list[tuple[str, IncidentFigures]]) -> list[list[str]]:
    return [
        [at[:16].replace("T", " "), *(_number(v) for v in asdict(f).values())] for at, f in trend
    ]


TREND_HEADER = ["as of", *(SCORECARD_LABELS[key] for key in INCIDENT_KEYS)]

TREND_NOTE = (
    "The incident figures are recomputed from the event log as it stood at each moment; the "
    "other scorecard figures are measured now only (the log keeps no past audit or skew)."
)


Table = tuple[str, list[str], list[list[str]], str | None]
"""(title, header, rows, note)."""


def sections(retro: Retrospective) -> list[Table]:
    """The report as (title, header, rows, note) tables, shared by both formats."""
    return [
        (
            "Deployments and their checkpoint verdicts",
            ["model", "deployed", "by", "hypotheses", "checkpoints"],
            [_deployment_row(d) for d in retro.deployments],
            None,
        ),
        (
            "Incidents and lessons",
            [
                "id",
                "model",
                "status",
                "level",
                "opened",
                "diagnosis",
                "proposals",
                "lesson",
                "resolution",
                "repeated error",
            ],
            [_incident_row(i) for i in retro.incidents],
            None,
        ),
        (
            "Experiments",
            ["id", "model", "versions", "status", "decision"],
            [_experiment_row(x) for x in retro.experiments],
            None,
        ),
        (
            "Scorecard now",
            ["figure", "value"],
            [[key, _number(value)] for key, value in retro.scorecard.items()],
            None,
        ),
        ("Scorecard trend (incident figures)", TREND_HEADER, _trend_rows(retro.trend), TREND_NOTE),
    ]


def _deployment_row(d: dict[str, Any]) -> list[str]:
    return [
        f"{d['model']}@{d['version']}",
        d["deployed_at"][:16].replace("T", " "),
        d["deployed_by"],
        "; ".join(d["hypotheses"]),
        ", ".join(f"{c['days']} d: {c['outcome']}" for c in d["checkpoints"]) or "none yet",
    ]


def _incident_row(i: Incident) -> list[str]:
    return [
        i.id,
        i.model,
        i.status.value,
        i.level,
        i.opened_at[:16].replace("T", " "),
        "" if i.root_cause is None else f"{i.root_cause.value}: {i.diagnosis}",
        "; ".join(i.proposals),
        i.lesson or "",
        i.resolution or "",
        ""
        if i.repeated_of is None
        else f"repeats {i.repeated_of.incident_id} (lesson: {i.repeated_of.lesson})",
    ]


def _experiment_row(x: dict[str, Any]) -> list[str]:
    return [
        x["id"],
        x["model"],
        f"{x['control_version']} vs {x['challenger_version']}",
        x["status"],
        x["decision"] or "",
    ]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown(retro: Retrospective) -> str:
    """The retrospective as Markdown."""
    lines = [f"# Lucid retrospective {retro.since[:10]} → {retro.until[:10]}", ""]
    for title, header, rows, note in sections(retro):
        lines += [f"## {title}", ""]
        if not rows:
            lines += ["Nothing in this period.", ""]
            continue
        lines.append("| " + " | ".join(header) + " |")
        lines.append("|" + "---|" * len(header))
        lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
        lines.append("")
        if note:
            lines += [note, ""]
    return "\n".join(lines)


def html(retro: Retrospective) -> str:
    """The retrospective as a standalone HTML page."""
    from html import escape

    title = f"Lucid retrospective {retro.since[:10]} → {retro.until[:10]}"
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(title)}</title>",
        "<style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:80rem}"
        "table{border-collapse:collapse;margin-bottom:1rem}"
        "td,th{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top}"
        "</style></head><body>",
        f"<h1>{escape(title)}</h1>",
    ]
    for heading, header, rows, note in sections(retro):
        parts.append(f"<h2>{escape(heading)}</h2>")
        if not rows:
            parts.append("<p>Nothing in this period.</p>")
            continue
        parts.append("<table><thead><tr>")
        parts += [f"<th>{escape(h)}</th>" for h in header]
        parts.append("</tr></thead><tbody>")
        for row in rows:
            parts.append("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>")
        parts.append("</tbody></table>")
        if note:
            parts.append(f"<p>{escape(note)}</p>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


RENDERERS: dict[str, Callable[[Retrospective], str]] = {"md": markdown, "html": html}


def parse_since(text: str, field: str = "--since") -> datetime:
    """A moment given on the command line, ISO 8601 (`lucid.contracts.times`: a date means its
    midnight UTC, an offset is honoured, no offset means UTC), to the microsecond stored;
    `field` names the option in the error sentence."""
    return parse_time(utc_text(text, field))
