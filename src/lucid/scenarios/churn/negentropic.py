"""The negentropic arm — Lucid: the contracts of `contracted` and the team's loop on top: the
seed's churn policy run every day; incident, diagnosis (root cause from the failing checks and
the silent sources), proposals; after each alert (an incident opened, or a check newly failing
in the one open), a follow-up retraining on the daily snapshots labelled since it as soon as
two exist, promoted when its back-test shows it ranks their churners at least as well as
production (`FOLLOW_UP_RULE`: non-inferior within 0.02 AUC), whatever the incident's state;
for an incident still open five weeks on, a retraining on the settled world with the evidence
its contract's rule asks for, produced by Lucid — a back-test against production and an A/B
test on a cohort (10 %, or half the customers when 10 % cannot reach the minimum sample, with
each customer's pre-period activity as CUPED covariate); promotion through the gate on that
evidence alone (a candidate the evidence does not prove is archived, never overridden);
checkpoints; every incident closed with its root cause's lesson once monitoring sees its checks
back in band."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from lucid.contracts.events import parse_time
from lucid.contracts.experiments import minimum_sample_size
from lucid.contracts.value import Stage
from lucid.engines.duckdb_access import confine, connect, folder
from lucid.errors import LucidError
from lucid.scenarios.churn.architecture import CYCLE_DAYS, MODEL, Alert, TeamIncident
from lucid.scenarios.churn.contracted import FOLLOW_UP_RULE, ContractedArm, retention_contract
from lucid.scenarios.churn.training import HORIZON_DAYS
from lucid.scenarios.churn.world_files import EVENT_TIME

EXPERIMENT_SHARE = 0.1
LESSONS = {
    "concept_drift": "when behaviour changes, the old relation to churn stops holding: retrain "
    "on outcomes observed after the shift, test on a cohort, then re-baseline the contract",
    "data_drift": "a moved feature or population mix comes before a moved retention: watch "
    "the segment and plan mix and the sources' volumes, and refit on outcomes observed since",
    "data_quality": "a pipeline writing NULLs silently empties a feature: watch the sources' "
    "NULL shares, and have the pipeline backfill the rows it broke",
    "upstream_change": "a source that stops recording silently empties a feature: check "
    "source volumes first, and retrain on what is still recorded",
}
"""What the team writes down when an incident of each root cause closes."""
QUIET_RUNS = 7
"""A check failing again after a week of passing runs is a new alert."""
URGENT_AFTER = timedelta(days=HORIZON_DAYS + 2)
"""After a detection, a follow-up retraining waits for two daily snapshots' outcomes since it
(one to fit, one to back-test on)."""
URGENT_TRIES = 3
"""Follow-up retrainings tried (every other day, two more snapshots each time)."""
READY_AFTER = timedelta(days=HORIZON_DAYS + 5 * CYCLE_DAYS)
RETRY_AFTER = timedelta(days=2 * CYCLE_DAYS)
"""After a candidate the evidence did not prove, the team retrains again two weeks later (two
more snapshots' outcomes)."""
"""After a detection, retraining waits for five weekly snapshots' outcomes since it: 30-day
features take a month to settle after a shift, and the reference must be the settled world."""


@dataclass
class NegentropicArm(ContractedArm):
    """Lucid's arm: the contracts, and the team working every incident through the loop."""

    handling: dict[str, str] = field(default_factory=dict)
    """Incident id → where the team is with it: waiting, testing, deployed, closed."""
    failing_checks: list[str] = field(default_factory=list)
    retry_at: dict[str, Any] = field(default_factory=dict)
    """Incident id → the moment the team retrains again after an unproven candidate."""
    urgent_tries: dict[int, int] = field(default_factory=dict)
    follow_ups: dict[int, Any] = field(default_factory=dict)
    """Alert day → the moment its follow-up retraining is due (`follow_up`)."""
    recent_failing: list[set[tuple[str, Any]]] = field(default_factory=list)
    """The failing (metric, column) of the last `QUIET_RUNS` daily runs."""
    alert_log: list[Alert] = field(default_factory=list)
    """Every alert so far, oldest first (`alerts`)."""
    deployed_since: int | None = None
    """The detection day the latest follow-up deployment learnt from."""

    # -- after the day: monitoring and the loop ----------------------------------------------

    def after_cycle(self) -> tuple[str | None, int | None]:
        """At a week's end, the contract's metric and the checkpoints; every day, the A/B
        cohort's outcomes once known, the daily monitoring run over the day just lived and the
        team's response."""
        if self.world.day % CYCLE_DAYS == 0:
            self.observe_week(self.world.day - CYCLE_DAYS)
            self.lucid.loop.run_checkpoints(actor="loop")
        self.record_exposures()
        if self.production is None:
            return None, None
        self.welcome_newcomers()
        now = self.clock()
        report = self.lucid.monitoring.run(MODEL, start=now - timedelta(days=1), end=now)
        failing = [
            (
                (str(c["metric"]), c.get("feature")),
                f"{c['metric']}"
                + (f"[{c['feature']}]" if c.get("feature") else "")
                + f"={c['level']}",
            )
            for c in report.record.checks
            if c["level"] in ("warning", "critical")
        ]
        self.failing_checks = [name for _, name in failing]
        quiet = set().union(*self.recent_failing) if self.recent_failing else set()
        new = [name for key, name in failing if key not in quiet]
        if new:  # an alert: the team plans a follow-up on what comes after it
            day = int(self.world.day)
            self.alert_log.append(Alert(float(day), "monitoring: " + ", ".join(new)))
            self.follow_ups.setdefault(day, self.clock() + URGENT_AFTER)
        self.recent_failing = [*self.recent_failing, {key for key, _ in failing}][-QUIET_RUNS:]
        self.respond(int(self.world.day))
        return report.record.level, self.production

    def respond(self, day: int) -> None:
        """The team's part of the loop, from what Lucid shows it (never the world's truth):
        each open incident moved along, then each follow-up retraining that is due."""
        incidents = self.lucid.incidents
        for incident in incidents.list(model=MODEL):
            if incident.status.value != "closed":
                self.work_on(incident, day)
        for since, due in sorted(self.follow_ups.items()):
            if self.clock() >= due:
                self.follow_up(since)

    def follow_up(self, since: int) -> None:
        """The follow-up of the alert of day `since` (an incident opened, or a check newly
        failing in the one open; monitoring may see the checks back in band before any outcome
        shows whether the model still ranks well): `urgent_retrain` on the outcomes since,
        tried `URGENT_TRIES` times two days apart; skipped when a version deployed since then
        already learnt from them. A deployment moves the open incidents on to "deployed"."""
        if self.deployed_since is not None and self.deployed_since >= since:
            del self.follow_ups[since]
            return
        outcome = self.urgent_retrain(since)
        tries = self.urgent_tries[since] = self.urgent_tries.get(since, 0) + 1
        if outcome == "deployed" or tries >= URGENT_TRIES:
            del self.follow_ups[since]
        else:
            self.follow_ups[since] = self.clock() + timedelta(days=2)
        if outcome == "deployed":
            for incident_id, state in self.handling.items():
                if state == "waiting":
                    self.handling[incident_id] = "deployed"

    def work_on(self, incident: Any, day: int) -> None:
        """Move one incident along: take it in hand, diagnose, propose; once outcomes after
        the detection are known, retrain and test; deploy; close with a lesson once the
        checks are back in their band."""
        incidents = self.lucid.incidents
        record = incident.to_dict()
        state = self.handling.get(record["id"])
        if state is None:
            incidents.acknowledge(record["id"], actor="dana")
            silent = self.silent_sources()
            incidents.diagnose(
                record["id"],
                root_cause=self.root_cause(silent),
                details="checks outside their band: "
                + ", ".join(self.failing_checks)
                + "".join(f"; no {source} recorded yesterday" for source in silent),
                participants=["data-science", "data-engineering", "business"],
                actor="dana",
            )
            incidents.propose(
                record["id"],
                [
                    "retrain on outcomes observed since the detection",
                    "add or revise features if the behaviour-to-churn relation changed",
                    "try another algorithm if a refit does not restore retention",
                ],
                actor="sam",
            )
            state = self.handling[record["id"]] = "waiting"
        opened = parse_time(record["opened_at"])
        if state == "waiting" and record.get("recovered_at"):
            self.close_incident(record["id"], LESSONS[record["root_cause"]])
        elif state == "waiting" and self.clock() >= self.retry_at.get(
            record["id"], opened + READY_AFTER
        ):
            self.handling[record["id"]] = self.start_experiment(record["id"])
        elif state == "testing":
            outcome = self.try_conclude()
            if outcome == "refused":
                self.retry_at[record["id"]] = self.clock() + RETRY_AFTER
                self.handling[record["id"]] = "waiting"
            elif outcome == "deployed":
                self.handling[record["id"]] = "deployed"
        elif state == "deployed" and record.get("recovered_at"):
            self.close_incident(record["id"], LESSONS[record["root_cause"]])

    def urgent_retrain(self, since: int) -> str:
        """Retrain on the daily snapshots labelled since day `since` and deploy the version
        when its back-test on the latest of them shows it ranks churners at least as well as
        production (`FOLLOW_UP_RULE`): "deployed"; otherwise archive it: "refused"."""
        current = self.lucid.registry.production_version(MODEL)
        assert current is not None
        version = self.register(
            retention_contract(self.retention_since(since), FOLLOW_UP_RULE),
            "retrained on the outcomes observed since the alert, to be promoted only if it "
            "ranks them at least as well as production",
            since_day=since,
            daily=True,
        )
        self.lucid.registry.promote(
            MODEL, version, Stage.CHALLENGER, actor="sam", rationale="back-test against production"
        )
        try:
            self.backtest(version, f"v{version} against production v{current.version}")
            self.lucid.loop.deploy(
                MODEL,
                version,
                hypotheses=[
                    {
                        "description": "the version trained on the outcomes since the alert "
                        "ranks today's churners as well or better, so the campaign keeps as "
                        "many customers or more",
                        "expected_impact": 0.005,
                        "unit": "retention_7d",
                    }
                ],
                actor="sam",
                rationale="its back-test on the outcomes since the alert shows it ranks "
                "churners at least as well as production",
            )
        except LucidError as refused:
            self.lucid.registry.archive(MODEL, version, actor="sam", rationale=refused.sentence)
            return "refused"
        self.deployed_since = since
        return "deployed"

    def team_incidents(self) -> list[TeamIncident]:
        """The incidents monitoring opened, as the team worked them."""
        found = []
        for incident in sorted(self.lucid.incidents.list(model=MODEL), key=lambda i: i.opened_at):
            record = incident.to_dict()
            opened = parse_time(record["opened_at"]).replace(tzinfo=None)
            found.append(
                TeamIncident(
                    id=record["id"],
                    opened_day=(opened - self.config.start).total_seconds() / 86_400,
                    detected_by=str(record.get("summary") or "monitoring"),
                    root_cause=record.get("root_cause"),
                    lesson=record.get("lesson"),
                    closed=record["status"] == "closed",
                )
            )
        return found

    def alerts(self) -> list[Alert]:
        """Each daily run that failed a check which had not failed in the `QUIET_RUNS` runs
        before it (recorded as the runs happen): monitoring opens an incident for it, or adds
        it to the one open (a check that flaps is no new alert)."""
        return list(self.alert_log)

    def close_incident(self, incident_id: str, lesson: str) -> None:
        self.lucid.incidents.record_lesson(incident_id, lesson, actor="dana")
        self.lucid.incidents.resolve(incident_id, resolution="checks back in band", actor="dana")
        self.handling[incident_id] = "closed"

    def start_experiment(self, incident_id: str) -> str:
        """Retrain, back-test the candidate against production, then A/B test it on a cohort.

        The A/B test is of non-inferiority within the contract's rollback margin (the
        contract's rule); the challenger's share is the seed's 10 % when that reaches the
        minimum sample, else half the customers. When even that cannot, no business evidence
        can be had: the candidate is archived and the team tries again later.
        """
        current = self.lucid.registry.production_version(MODEL)
        assert current is not None
        since = self.detected_day(incident_id)
        observed = self.retention_since(since)
        version = self.register(
            retention_contract(observed),
            "retrained on outcomes observed since the incident; the contract's baseline is the "
            "retention measured since then",
            since_day=since,
        )
        self.lucid.registry.promote(
            MODEL, version, Stage.CHALLENGER, actor="sam", rationale="A/B against production"
        )
        try:
            self.backtest(version, f"v{version} against production v{current.version}")
        except LucidError as refused:  # too few churners in the snapshot to compare
            self.lucid.registry.archive(MODEL, version, actor="sam", rationale=refused.sentence)
            self.retry_at[incident_id] = self.clock() + RETRY_AFTER
            return "waiting"
        baseline, alpha = current.impact.baseline, current.impact.alpha
        effect = -current.impact.rollback_margin
        active = len(self.world.active_customers())

        def reachable(option: float) -> bool:
            need = minimum_sample_size(baseline, effect, challenger_share=option, alpha=alpha)
            return need.challenger <= 0.95 * active * option and (
                need.control <= 0.95 * active * (1 - option)
            )

        share = next((option for option in (EXPERIMENT_SHARE, 0.5) if reachable(option)), None)
        if share is None:
            self.lucid.registry.archive(
                MODEL,
                version,
                actor="sam",
                rationale=f"no A/B test can reach its minimum sample on {active} customers",
            )
            self.retry_at[incident_id] = self.clock() + RETRY_AFTER
            return "waiting"
        name = f"churn-v{version}-vs-v{current.version}"
        self.lucid.experiments.create(
            name,
            model=MODEL,
            challenger=version,
            minimum_detectable_effect=abs(effect),
            challenger_share=share,
            actor="sam",
            rationale=f"does v{version} keep customers at least as well as v{current.version}?",
        )
        self.experiment, self.cohort_pending = name, True
        self.lucid.incidents.link_experiment(incident_id, name, actor="sam")
        return "testing"

    def detected_day(self, incident_id: str) -> int:
        """The simulated day the incident was opened (monitoring's detection)."""
        opened = self.lucid.incidents.get(incident_id).opened_at
        moment = parse_time(opened).replace(tzinfo=None)
        return (moment - self.config.start).days

    def try_conclude(self) -> str | None:
        """Once the cohort's outcomes are known: conclude, then deploy through the gate.
        None while the outcomes are unknown; "deployed", or "refused" (the candidate archived)
        when the evidence does not prove it."""
        assert self.experiment is not None
        if self.exposures or self.cohort_pending:  # the cohort's outcomes are still unknown
            return None
        design = self.lucid.experiments.design(self.experiment)
        try:
            evidence = self.lucid.experiments.conclude(
                self.experiment, actor="sam", rationale="every exposed customer's outcome is known"
            )
            found = f"effect {evidence.effect:+.4f}, p = {evidence.p_value:.3g}"
        except LucidError as refused:
            found = refused.sentence
        self.experiment = None
        return self.promote(design.challenger_version, design.experiment_id, found)

    def promote(self, version: int, experiment: str, found: str) -> str:
        """Deploy `version` with its hypothesis on its evidence; archive it when the gate
        refuses (no override: what the evidence does not prove does not serve)."""
        hypothesis = {
            "description": "the retrained version keeps more customers after the shift",
            "expected_impact": 0.005,
            "unit": "retention_7d",
        }
        try:
            self.lucid.loop.deploy(
                MODEL,
                version,
                hypotheses=[hypothesis],
                actor="sam",
                rationale=f"its back-test and the A/B test {experiment} ({found}) meet its "
                "contract's rule of evidence",
            )
        except LucidError as refused:
            self.lucid.registry.archive(MODEL, version, actor="sam", rationale=refused.sentence)
            return "refused"
        return "deployed"

    def root_cause(self, silent: Sequence[str]) -> str:
        """The data engineer's first look, then the checks that failed: a source that
        recorded nothing yesterday is an upstream change; a rise of NULLs, data quality; a
        failing business or performance check, concept drift; anything else (a moved feature,
        segment or plan mix, a source's volume), data drift."""
        text = " ".join(self.failing_checks)
        if silent:
            return "upstream_change"
        if "null_share" in text:
            return "data_quality"
        if "business" in text or "accuracy" in text or "auc" in text:
            return "concept_drift"
        return "data_drift"

    def silent_sources(self) -> list[str]:
        """Sources with no row on the last day of the project's own data files."""
        end = self.world.now
        start = end - timedelta(days=1)
        silent = []
        for source, column in EVENT_TIME.items():
            files = str(self.folder / "data" / source / "*.parquet")
            with connect() as connection:
                confine(connection, folder(self.folder / "data" / source))
                [(count,)] = connection.execute(
                    f"SELECT count(*) FROM read_parquet('{files}') "
                    f"WHERE {column} >= ? AND {column} < ?",
                    [start, end],
                ).fetchall()
            if count == 0:
                silent.append(source)
        return silent
