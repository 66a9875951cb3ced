"""The incidents' pure rules: lifecycle steps, validation, repeated errors and the figures."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

import lucid.contracts.monitoring_events  # noqa: F401  (registers IncidentOpened/Updated)
from lucid.contracts import incidents as rules
from lucid.contracts.events import NewEvent, Subject, format_time, seal
from lucid.contracts.incidents import (
    ALLOWED_FROM,
    Incident,
    IncidentFacts,
    IncidentFigures,
    IncidentStatus,
    RepeatedOf,
    RootCause,
)
from lucid.contracts.incidents.figures import figures_change_at
from lucid.errors import Conflict, InvalidInput

T0 = datetime(2026, 3, 1, tzinfo=UTC)
AT = format_time(T0)


def opened(ident: str = "i1", model: str = "churn", at: datetime = T0) -> Incident:
    text = format_time(at)
    return Incident(ident, model, IncidentStatus.OPEN, "critical", text, text)


def diagnosed(incident: Incident, cause: str = "data_drift", *earlier: Incident) -> Incident:
    ready = rules.acknowledged(incident, actor="ana", at=incident.opened_at)
    return rules.diagnosed(
        ready, cause=cause, details="tenure moved", people=["data-science"], earlier=earlier
    )


def closed_with_lesson(incident: Incident, cause: str = "data_drift") -> Incident:
    done = rules.lesson_recorded(diagnosed(incident, cause), "watch tenure")
    return rules.closed(done, resolution="retrained", at=done.opened_at)


# -- the lifecycle ---------------------------------------------------------------------------


def test_the_full_lifecycle_moves_through_every_status_in_order() -> None:
    incident = opened()
    steps = [rules.acknowledged(incident, actor="ana", at=AT)]
    steps.append(
        rules.diagnosed(
            steps[-1], cause="concept_drift", details="d", people=["bi", "ds"], earlier=()
        )
    )
    steps.append(rules.proposed(steps[-1], ["retrain", "new features"]))
    steps.append(rules.experiment_linked(steps[-1], "exp-1"))
    steps.append(rules.lesson_recorded(steps[-1], "lesson"))
    steps.append(rules.closed(steps[-1], resolution="v3 promoted", at=AT))
    assert [s.status for s in steps] == [
        IncidentStatus.ACKNOWLEDGED,
        IncidentStatus.DIAGNOSED,
        IncidentStatus.PROPOSED,
        IncidentStatus.EXPERIMENTING,
        IncidentStatus.EXPERIMENTING,  # a lesson is a record, not a step
        IncidentStatus.CLOSED,
    ]
    final = steps[-1].to_dict()
    assert final["acknowledged_by"] == "ana"
    assert final["root_cause"] == "concept_drift"
    assert final["participants"] == ["bi", "ds"]
    assert final["proposals"] == ["retrain", "new features"]
    assert final["experiment_id"] == "exp-1"
    assert final["lesson"] == "lesson"
    assert final["resolution"] == "v3 promoted"
    assert final["closed_at"] == AT
    assert final["repeated_of"] is None


STEPS = {
    "acknowledge": lambda i: rules.acknowledged(i, actor="ana", at=AT),
    "diagnose": lambda i: rules.diagnosed(
        i, cause="data_drift", details="d", people=["ds"], earlier=()
    ),
    "propose": lambda i: rules.proposed(i, ["a", "b"]),
    "link_experiment": lambda i: rules.experiment_linked(i, "exp"),
    "record_lesson": lambda i: rules.lesson_recorded(i, "l"),
    "resolve": lambda i: rules.closed(replace(i, lesson="l"), resolution="r", at=AT),
}


@pytest.mark.parametrize("status", list(IncidentStatus))
@pytest.mark.parametrize("step", sorted(STEPS))
def test_each_step_is_allowed_exactly_from_its_statuses(status: IncidentStatus, step: str) -> None:
    incident = replace(opened(), status=status)
    if status in ALLOWED_FROM[step]:
        STEPS[step](incident)
    else:
        with pytest.raises(Conflict, match=f"Incident i1 is {status.value}"):
            STEPS[step](incident)


def test_an_incident_cannot_close_without_a_lesson() -> None:
    ready = diagnosed(opened())
    with pytest.raises(Conflict, match="cannot close without a lesson"):
        rules.closed(ready, resolution="fixed", at=AT)
    with pytest.raises(InvalidInput, match="resolution: must be non-empty"):
        rules.closed(replace(ready, lesson="l"), resolution=" ", at=AT)


def test_a_closed_incident_says_a_new_failure_opens_a_new_one() -> None:
    done = closed_with_lesson(opened())
    with pytest.raises(Conflict, match="closed for good; a new failure opens a new incident"):
        rules.lesson_recorded(done, "another")


# -- validation ------------------------------------------------------------------------------


def test_an_unknown_root_cause_is_refused_naming_the_allowed_ones() -> None:
    with pytest.raises(InvalidInput, match="root_cause: 'gremlins' is not a known") as caught:
        diagnosed(opened(), "gremlins")
    for cause in RootCause:
        assert cause.value in str(caught.value)
    assert set(rules.ROOT_CAUSES) == set(RootCause)  # every category is explained


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ([], "name at least one team or person"),
        (["ds", " "], "must be non-empty text"),
        (["ds", "DS"], "'DS' is given twice"),
        ("ds", "must be a list of texts"),
    ],
)
def test_participants_are_named_once_each(values: object, message: str) -> None:
    with pytest.raises(InvalidInput, match=f"participants: .*{message}"):
        rules.participants(values)


@pytest.mark.parametrize("count", [0, 1, 4])
def test_proposals_are_two_or_three(count: int) -> None:
    with pytest.raises(InvalidInput, match=f"proposals: must be 2 or 3 .*not {count}"):
        rules.proposals([f"p{i}" for i in range(count)])
    assert rules.proposals(["retrain", "another algorithm", "new features"])[2] == "new features"
    with pytest.raises(InvalidInput, match="given twice"):
        rules.proposals(["retrain", "Retrain"])


def test_levels_and_texts() -> None:
    assert rules.level("warning") == "warning"
    with pytest.raises(InvalidInput, match=r"level: .* is not one of warning, critical"):
        rules.level("ok")
    with pytest.raises(InvalidInput, match="lesson: must be non-empty"):
        rules.lesson_recorded(diagnosed(opened()), "")
    with pytest.raises(InvalidInput, match="diagnosis: must be non-empty"):
        rules.diagnosed(
            rules.acknowledged(opened(), actor="a", at=AT),
            cause="data_drift",
            details="",
            people=["x"],
            earlier=(),
        )


# -- repeated errors -------------------------------------------------------------------------


def test_a_root_cause_seen_before_with_a_lesson_is_a_repeated_error() -> None:
    first = closed_with_lesson(opened("i1", at=T0))
    second = diagnosed(opened("i2", at=T0 + timedelta(days=10)), "data_drift", first)
    assert second.repeated_of == RepeatedOf("i1", "watch tenure")
    assert second.to_dict()["repeated_of"] == {"incident_id": "i1", "lesson": "watch tenure"}


def test_the_most_recent_earlier_lesson_is_linked() -> None:
    first = closed_with_lesson(opened("i1", at=T0))
    second = replace(
        closed_with_lesson(opened("i2", at=T0 + timedelta(days=5))), lesson="second lesson"
    )
    third = diagnosed(opened("i3", at=T0 + timedelta(days=9)), "data_drift", first, second)
    assert third.repeated_of == RepeatedOf("i2", "second lesson")


@pytest.mark.parametrize(
    "earlier",
    [
        pytest.param(lambda: diagnosed(opened("i1")), id="earlier-has-no-lesson"),
        pytest.param(lambda: closed_with_lesson(opened("i1"), "data_quality"), id="other-cause"),
        pytest.param(lambda: closed_with_lesson(opened("i1", "fraud")), id="other-model"),
        pytest.param(
            lambda: closed_with_lesson(opened("i1", at=T0 + timedelta(days=30))), id="later"
        ),
    ],
)
def test_not_a_repeated_error(earlier: object) -> None:
    other = earlier()  # type: ignore[operator]
    now = diagnosed(opened("i2", at=T0 + timedelta(days=10)), "data_drift", other)
    assert now.repeated_of is None


# -- figures ---------------------------------------------------------------------------------


def facts(
    ident: str,
    day: float,
    recovered_day: float | None = None,
    documented: bool = False,
    repeated: bool = False,
) -> IncidentFacts:
    return IncidentFacts(
        ident,
        T0 + timedelta(days=day),
        None if recovered_day is None else T0 + timedelta(days=recovered_day),
        documented,
        repeated,
    )


def test_figures_are_none_with_nothing_to_measure() -> None:
    assert rules.incident_figures([], [], T0) == IncidentFigures()


def test_figures_follow_their_stated_rules() -> None:
    incidents = [
        facts("a", 2.0, recovered_day=5.0, documented=True),
        facts("b", 3.0),  # the second incident of the first shift: not its detection
        facts("c", 21.5, recovered_day=22.5, repeated=True),
    ]
    shifts = [T0, T0 + timedelta(days=10), T0 + timedelta(days=20), T0 + timedelta(days=90)]
    figures = rules.incident_figures(incidents, shifts, T0 + timedelta(days=40))
    assert figures.detection_delay_days == pytest.approx((2.0 + 1.5) / 2)
    # the day-10 shift saw nothing before day 20; the day-90 one has not started yet
    assert figures.critical_incidents_undetected == 1
    assert figures.time_to_recovery_days == pytest.approx((3.0 + 1.0) / 2)
    assert figures.failures_documented_pct == pytest.approx(100 / 3)
    assert figures.repeated_errors == 1


def test_shifts_without_incidents_are_all_undetected() -> None:
    figures = rules.incident_figures([], [T0, T0 + timedelta(days=1)], T0 + timedelta(days=2))
    assert figures.critical_incidents_undetected == 2
    assert figures.detection_delay_days is None
    assert figures.failures_documented_pct is None
    assert figures.repeated_errors is None


def test_incidents_without_shifts_measure_no_delay() -> None:
    figures = rules.incident_figures([facts("a", 1.0)], [], T0 + timedelta(days=2))
    assert figures.detection_delay_days is None
    assert figures.critical_incidents_undetected is None
    assert figures.time_to_recovery_days is None
    assert (figures.failures_documented_pct, figures.repeated_errors) == (0.0, 0)


def test_facts_rebuilt_from_events_agree_with_the_records_and_respect_until() -> None:
    def event(kind: str, at: datetime, **payload: object) -> NewEvent:
        return NewEvent(kind, "t", Subject("model", "churn"), payload, "r", at)

    news = [
        event("KnownShiftDeclared", T0, started_at=format_time(T0), description="d"),
        event(
            "IncidentOpened",
            T0 + timedelta(days=1),
            incident_id="a",
            detected_at=format_time(T0 + timedelta(days=1)),
        ),
        event(
            "IncidentUpdated",
            T0 + timedelta(days=2),
            incident_id="a",
            recovered=True,
            observed_at=format_time(T0 + timedelta(days=2)),
        ),
        event("IncidentDiagnosed", T0 + timedelta(days=3), incident_id="a", repeated_of="z"),
        event("LessonRecorded", T0 + timedelta(days=3), incident_id="a", lesson="l"),
        event("IncidentClosed", T0 + timedelta(days=4), incident_id="a"),
        event(
            "IncidentReported",
            T0 + timedelta(days=5),
            incident_id="b",
            opened_at=format_time(T0 + timedelta(days=5)),
        ),
    ]
    recorded = []
    prev = "0" * 64
    for seq, new in enumerate(news, start=1):
        sealed = seal(new, seq=seq, id=str(seq), recorded_at=T0, prev_hash=prev)
        recorded.append(sealed)
        prev = sealed.hash
    found, shifts = rules.facts_from_events(recorded)
    assert shifts == [T0]
    assert found == [facts("a", 1.0, 2.0, True, True), facts("b", 5.0)]
    early, _ = rules.facts_from_events(recorded, until=format_time(T0 + timedelta(days=3.5)))
    assert early == [facts("a", 1.0, 2.0, False, True)]


def test_figures_hold_until_the_next_shift_starts_and_change_then() -> None:
    incidents = [facts("a", 2.0), facts("b", 12.0, recovered_day=13.0)]
    shifts = [T0 + timedelta(days=d) for d in (1.0, 10.0, 30.0, 31.0)]
    for day in (0.0, 0.5, 1.0, 5.0, 10.0, 20.0, 30.5, 31.0, 40.0):
        now = T0 + timedelta(days=day)
        until = figures_change_at(shifts, now)
        assert until == min((s for s in shifts if s > now), default=None)
        figures = rules.incident_figures(incidents, shifts, now)
        if until is None:
            later = rules.incident_figures(incidents, shifts, now + timedelta(days=365))
            assert later == figures
            continue
        just_before = until - timedelta(microseconds=1)
        assert rules.incident_figures(incidents, shifts, just_before) == figures
        assert rules.incident_figures(incidents, shifts, until) != figures
