"""The referee: both arms measured by the same code, from what each served and what happened.

Three measures, all read from the arm's record of what it scored (`ServedDay`), the team's
incidents (`TeamIncident`) and the world's realised churn — never from the team's own
monitoring:

- **Ranking quality and recovery.** For a day d, the window is every row served on days
  [d, d + window_days − 1] whose 14-day outcome is realised: the quality of what was served
  from day d on (a window is dated by its first day, so a version deployed on day d is judged
  from day d, not a week later). `quality` is the AUC of the
  served scores against churn within 14 days of serving; `oracle` the AUC of the same model
  family (log1p → standard scaling → logistic regression) refit on the window's served
  features and outcomes, out of sample: 2 folds by a stable hash of the customer id, each
  scored by the fit on the other. A window with fewer than `min_class` churners or stayers is
  not evaluated. A shock starting on day S is *recovered* on the first day r ≥ S (before the
  next shock) from which oracle − quality ≤ `tolerance_auc` on every evaluated day of
  [r, r + hold_days) (cut at the next shock's start; at least one evaluated day, every day
  realised), windows cut before the next shock — so a shock that never hurts the model is
  recovered on day S. The run states its tolerance from its own calm days
  (`calm_tolerance`): the 95th percentile of the gap over the days whose outcomes all fell
  before the first shock, both arms pooled, rounded up to 0.01 and at least 0.03 — the gap a
  model that nothing has hurt still shows on one day in twenty.
- **Detection.** Per shock, the first alert the team received on or after its day and before
  the next shock's day: detected_day and detected_by. An alert is an incident opened, or a
  check newly failing (after a quiet week) in the incident already open — monitoring adds
  to the open incident rather than opening another, and a second shock is no less seen for
  it; a team without monitoring is alerted only by the incidents it opens. The scorecard's
  detection delay is the mean over detected shocks, and a shock with no alert is a critical
  shock undetected.
- **Value.** Against the same world lived without any model (exact: the world's draws never
  depend on treatments), the monthly revenue still paying at the end of the customers paying
  on the first deployment day; each customer kept is attributed to the version that served
  the arm on the first day of the last treatment before their counterfactual churn.

Every day is a simulated day number (day 0 = the world's start).
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.special import expit
from scipy.stats import rankdata

from lucid.contracts.incidents.figures import IncidentFacts, IncidentFigures, incident_figures
from lucid.errors import InvalidInput
from lucid.scenarios.churn.architecture import Alert, ServedDay, TeamIncident

LABEL_HORIZON_DAYS = 14
SEASON_MARGIN_DAYS = 7
"""An incident opened within 7 days of a seasonal peak (before or after) is opened during it."""
TOLERANCE_FLOOR = 0.03
"""The smallest tolerance a run may state, however calm its windows (AUC points)."""
QUIET_BEFORE_DAYS = 30
"""An incident during a peak is a false alarm unless a shock started in the 30 days before."""


@dataclass(frozen=True)
class RefereeRules:
    """The referee's stated rules (`tolerance_auc` in AUC points, the rest in days)."""

    label_horizon_days: int = LABEL_HORIZON_DAYS
    window_days: int = 7
    tolerance_auc: float = 0.04
    hold_days: int = 14
    min_class: int = 10
    """Fewest churners, and fewest stayers, for a window to be evaluated."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "label_horizon_days": self.label_horizon_days,
            "window_days": self.window_days,
            "tolerance_auc": self.tolerance_auc,
            "hold_days": self.hold_days,
        }


# -- ranking quality ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Scored:
    """One served day with its realised outcomes (rows of customers gone before it dropped)."""

    day: int
    columns: tuple[str, ...]
    features: npt.NDArray[np.float64]
    scores: npt.NDArray[np.float64]
    churned: npt.NDArray[np.int64]
    fold: npt.NDArray[np.int64]


def _fold(entity: str) -> int:
    return zlib.crc32(entity.encode()) % 2


def _scored(served: ServedDay, churn_days: Mapping[str, float], horizon: int) -> _Scored:
    churn = np.array([churn_days.get(e, np.nan) for e in served.entities], dtype=float)
    present = ~(churn <= served.day)
    scores = np.asarray(served.scores, dtype=float).reshape(-1)
    lowest = np.nanmin(scores) - 1.0 if np.isfinite(scores).any() else 0.0
    features = np.nan_to_num(np.asarray(served.features, dtype=float), nan=0.0)
    features = features.reshape(len(served.entities), len(served.columns))
    return _Scored(
        served.day,
        tuple(served.columns),
        features[present],
        np.where(np.isfinite(scores), scores, lowest)[present],
        (churn <= served.day + horizon)[present].astype(np.int64),
        np.array([_fold(e) for e in served.entities], dtype=np.int64)[present],
    )


def auc(y: npt.NDArray[np.int64], scores: npt.NDArray[np.float64]) -> float:
    """The probability that a churner outranks a stayer (ties count half): Mann-Whitney's U
    over the product of the class sizes; both classes present."""
    ranks = rankdata(scores)
    positives = int(y.sum())
    negatives = len(y) - positives
    u = float(ranks[y == 1].sum()) - positives * (positives + 1) / 2
    return u / (positives * negatives)


def fit_logistic(
    features: npt.NDArray[np.float64], y: npt.NDArray[np.int64], c: float = 1.0
) -> Any:
    """The churn model's family fitted on (features, y): log1p (of values clipped at 0),
    standard scaling, then logistic regression with sklearn's default penalty (½‖w‖² + C ×
    log-loss, intercept free) solved by Newton's method; returns a scorer of new rows (the
    same ranking as `training.fit_churn_model`'s pipeline, in a few milliseconds)."""
    logged = np.log1p(np.clip(features, 0.0, None))
    mean, scale = logged.mean(axis=0), logged.std(axis=0)
    scale[scale == 0] = 1.0
    design = np.column_stack([(logged - mean) / scale, np.ones(len(y))])
    penalty = np.eye(design.shape[1])
    penalty[-1, -1] = 0.0
    beta = np.zeros(design.shape[1])
    for _ in range(50):
        p = expit(design @ beta)
        gradient = c * design.T @ (p - y) + penalty @ beta
        hessian = c * (design.T * (p * (1.0 - p))) @ design + penalty
        step = np.linalg.solve(hessian + 1e-12 * np.eye(len(beta)), gradient)
        beta -= step
        if np.max(np.abs(step)) < 1e-9:
            break

    def score(rows: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        scaled = (np.log1p(np.clip(rows, 0.0, None)) - mean) / scale
        return np.asarray(scaled @ beta[:-1] + beta[-1], dtype=float)

    return score


def window_quality(days: Sequence[_Scored], min_class: int) -> tuple[float, float] | None:
    """(quality, oracle) AUC over the rows of `days` served with the latest day's columns;
    None when a class has fewer than `min_class` rows or a fold cannot be fitted."""
    if not days:
        return None
    columns = days[-1].columns
    kept = [d for d in days if d.columns == columns]
    y = np.concatenate([d.churned for d in kept])
    churners = int(y.sum())
    if churners < min_class or len(y) - churners < min_class:
        return None
    features = np.concatenate([d.features for d in kept])
    fold = np.concatenate([d.fold for d in kept])
    held_out = np.zeros(len(y))
    for k in (0, 1):
        train, test = fold != k, fold == k
        if not test.any() or len(set(y[train].tolist())) < 2:
            return None
        held_out[test] = fit_logistic(features[train], y[train])(features[test])
    return auc(y, np.concatenate([d.scores for d in kept])), auc(y, held_out)


@dataclass
class QualityJudge:
    """Ranking quality of one arm's served scores on realised churn, window by window.

    `last_day` is the world's last simulated day: day d is evaluable while
    d + label horizon ≤ last_day."""

    served: Sequence[ServedDay]
    churn_days: Mapping[str, float]
    last_day: int
    rules: RefereeRules = field(default_factory=RefereeRules)
    _days: dict[int, list[_Scored]] = field(init=False, default_factory=dict)
    _cache: dict[tuple[int, ...], tuple[float, float] | None] = field(
        init=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        for served in self.served:
            if len(served.entities):
                self._days.setdefault(served.day, []).append(
                    _scored(served, self.churn_days, self.rules.label_horizon_days)
                )

    @property
    def last_evaluable(self) -> int:
        return self.last_day - self.rules.label_horizon_days

    def evaluate(self, day: int, until: int | None = None) -> tuple[float, float] | None:
        """(quality, oracle) of the window of rows served from `day` on (`window_days` days,
        cut before `until` and at the last realised day); None when not evaluable."""
        last = min(day + self.rules.window_days - 1, self.last_evaluable)
        if until is not None:
            last = min(last, until - 1)
        key = tuple(d for d in range(day, last + 1) if d in self._days)
        if not key:
            return None
        if key not in self._cache:
            rows = [part for d in key for part in self._days[d]]
            self._cache[key] = window_quality(rows, self.rules.min_class)
        return self._cache[key]

    def series(self) -> list[dict[str, Any]]:
        """Per evaluated day: {day, auc, oracle_auc} (AUC, 4 decimals)."""
        if not self._days:
            return []
        found = []
        for day in range(min(self._days), min(max(self._days), self.last_evaluable) + 1):
            judged = self.evaluate(day)
            if judged is not None:
                quality, oracle = (round(value, 4) for value in judged)
                found.append({"day": day, "auc": quality, "oracle_auc": oracle})
        return found

    def recovered_day(self, start: int, until: int | None = None) -> int | None:
        """The day a shock starting on `start` is recovered (module rule), searched before
        `until` (the next shock's day); None when not recovered by then."""
        realised = self.last_evaluable
        stop = realised + 1 if until is None else until
        gaps: dict[int, float] = {}
        for day in range(start, min(stop, realised + 1)):
            judged = self.evaluate(day, until)
            if judged is not None:
                gaps[day] = judged[1] - judged[0]
        for first in range(start, stop):
            span_end = first + self.rules.hold_days
            if until is not None:
                span_end = min(span_end, until)
            if span_end - 1 > realised:
                return None
            seen = [gaps[d] for d in range(first, span_end) if d in gaps]
            if seen and max(seen) <= self.rules.tolerance_auc:
                return first
        return None


def calm_tolerance(
    series: Sequence[Sequence[Mapping[str, Any]]],
    first_shock: int,
    *,
    horizon: int = LABEL_HORIZON_DAYS,
    window_days: int = RefereeRules.window_days,
    floor: float = TOLERANCE_FLOOR,
    default: float = RefereeRules.tolerance_auc,
) -> float:
    """The run's `tolerance_auc`: the 95th percentile of oracle − quality over the calm days
    (evaluated days whose window's outcomes all fell before the first shock: day + window
    − 1 + horizon < its day),
    pooled over the arms' `series` (`QualityJudge.series`), rounded up to 0.01 and at least
    `floor`; `default` with fewer than 10 calm days."""
    calm = [
        float(row["oracle_auc"]) - float(row["auc"])
        for rows in series
        for row in rows
        if int(row["day"]) + window_days - 1 + horizon < first_shock
    ]
    if len(calm) < 10:
        return default
    return max(floor, math.ceil(float(np.percentile(calm, 95)) * 100 - 1e-9) / 100)


# -- detection and the incident figures -----------------------------------------------------


def floor_days(shock: Mapping[str, Any], horizon: int = LABEL_HORIZON_DAYS) -> int:
    """The physical floor of a shock's recovery: the label horizon when it changes how
    behaviour relates to churn, else its duration (0 when permanent or unknown)."""
    if shock.get("changes_relation"):
        return horizon
    return int(shock.get("duration_days") or 0)


def _owner(day: float, starts: Sequence[int]) -> int | None:
    """Index of the shock whose [start, next start) holds `day`."""
    owner = None
    for index, start in enumerate(starts):
        if day >= start:
            owner = index
    return owner


def shock_outcomes(
    shocks: Sequence[Mapping[str, Any]],
    alerts: Sequence[Alert],
    judge: QualityJudge | None,
) -> list[dict[str, Any]]:
    """Per shock (by day): kind, day, detected_day, detected_by, recovered_day, floor_days,
    detection_delay_days, recovery_days."""
    ordered = sorted(shocks, key=lambda s: int(s["day"]))
    starts = [int(s["day"]) for s in ordered]
    opened = sorted(alerts, key=lambda a: a.day)
    found = []
    for number, shock in enumerate(ordered):
        day = starts[number]
        until = starts[number + 1] if number + 1 < len(starts) else None
        first = next(
            (a for a in opened if a.day >= day and (until is None or a.day < until)),
            None,
        )
        recovered = judge.recovered_day(day, until) if judge is not None else None
        detected = None if first is None else first.day
        found.append(
            {
                "kind": shock["kind"],
                "day": day,
                "detected_day": detected,
                "detected_by": None if first is None else first.what,
                "recovered_day": recovered,
                "floor_days": floor_days(shock),
                "detection_delay_days": None if detected is None else round(detected - day, 2),
                "recovery_days": None if recovered is None else recovered - day,
            }
        )
    return found


def referee_figures(
    outcomes: Sequence[Mapping[str, Any]],
    incidents: Sequence[TeamIncident],
    start: datetime,
    now_day: float,
) -> IncidentFigures:
    """The scorecard's incident figures for one arm, by `incident_figures`' rules over the
    team's incidents and the declared shocks — except `time_to_recovery_days`: the mean over
    recovered shocks of (recovered_day − day)."""
    starts = [int(o["day"]) for o in outcomes]
    recovered = {int(o["day"]): o["recovered_day"] for o in outcomes}
    causes: set[str] = set()
    facts = []
    for incident in sorted(incidents, key=lambda i: i.opened_day):
        owner = _owner(incident.opened_day, starts)
        back = None if owner is None else recovered[starts[owner]]
        facts.append(
            IncidentFacts(
                incident.id,
                start + timedelta(days=incident.opened_day),
                None if back is None else start + timedelta(days=back),
                incident.closed and bool(incident.lesson),
                incident.root_cause is not None and incident.root_cause in causes,
            )
        )
        if incident.root_cause is not None:
            causes.add(incident.root_cause)
    figures = incident_figures(
        facts, [start + timedelta(days=d) for d in starts], start + timedelta(days=now_day)
    )
    recoveries = [o["recovery_days"] for o in outcomes if o["recovery_days"] is not None]
    delays = [o["detection_delay_days"] for o in outcomes if o["detection_delay_days"] is not None]
    return IncidentFigures(
        detection_delay_days=sum(delays) / len(delays) if delays else None,
        time_to_recovery_days=sum(recoveries) / len(recoveries) if recoveries else None,
        critical_incidents_undetected=(
            sum(o["detected_day"] is None for o in outcomes) if outcomes else None
        ),
        failures_documented_pct=figures.failures_documented_pct,
        repeated_errors=figures.repeated_errors,
    )


def false_alarm_incidents(
    incidents: Sequence[TeamIncident],
    shock_days: Sequence[int],
    seasons: Sequence[Mapping[str, Any]],
) -> int:
    """Incidents opened before the first shock, or during a seasonal peak (from 7 days before
    it to 7 days after it ends) when no shock started in the 30 days before the opening."""
    first = min(shock_days, default=None)
    count = 0
    for incident in incidents:
        day = incident.opened_day
        if first is None or day < first:
            count += 1
            continue
        in_peak = any(
            int(s["day"]) - SEASON_MARGIN_DAYS
            <= day
            <= int(s["day"]) + int(s.get("duration_days") or 0) + SEASON_MARGIN_DAYS
            for s in seasons
        )
        shocked = any(day - QUIET_BEFORE_DAYS <= s <= day for s in shock_days)
        count += in_peak and not shocked
    return count


# -- value against the world without a model ------------------------------------------------


@dataclass(frozen=True)
class Customers:
    """What value needs of a world's customers: price (per month), signup day and churn day
    (NaN while active), aligned by customer id."""

    ids: tuple[str, ...]
    price: npt.NDArray[np.float64]
    signup: npt.NDArray[np.float64]
    churn: npt.NDArray[np.float64]

    def paying(self, day: float) -> npt.NDArray[np.bool_]:
        return (self.signup < day) & ~(self.churn <= day)

    def churn_map(self) -> dict[str, float]:
        """Customer id → churn day, for those who churned."""
        return {c: float(d) for c, d in zip(self.ids, self.churn, strict=True) if d == d}


def versions_by_day(served: Sequence[ServedDay]) -> list[tuple[int, int | None]]:
    """(day, version) of each serving day, by day (the last scoring of a day wins)."""
    return sorted({s.day: s.version for s in served}.items())


def model_value(
    arm: Customers,
    untreated: Customers,
    treatments: Sequence[tuple[int, int, frozenset[str]]],
    versions: Sequence[tuple[int, int | None]],
    first_day: int,
    end_day: int,
) -> dict[str, Any]:
    """Revenue (per month) and customers kept at `end_day` of those paying on `first_day`,
    the arm's world minus the untreated one, and each version's share: a customer paying at
    the end in the arm's world but not in the untreated one counts for the version serving on
    the first day of the last treatment that began before their counterfactual churn."""
    if arm.ids != untreated.ids[: len(arm.ids)]:
        raise InvalidInput("untreated", "must be the arm's world lived untreated (same customers)")
    size = len(arm.ids)
    cohort = untreated.paying(first_day)[:size]
    kept_arm = cohort & arm.paying(end_day)
    kept_none = cohort & untreated.paying(end_day)[:size]
    revenue = float(arm.price[kept_arm].sum() - untreated.price[:size][kept_none].sum())
    customers = int(kept_arm.sum() - kept_none.sum())
    last_treated: dict[str, list[int]] = {}
    for begin, _, ids in treatments:
        for customer in ids:
            last_treated.setdefault(customer, []).append(begin)
    days = [d for d, _ in versions]
    per_model: dict[int | None, float] = {}
    for index in np.flatnonzero(kept_arm & ~kept_none):
        customer = arm.ids[index]
        before = [b for b in last_treated.get(customer, []) if b <= untreated.churn[index]]
        version = None
        if before and days:
            position = int(np.searchsorted(days, max(before), side="right")) - 1
            version = versions[max(position, 0)][1]
        per_model[version] = per_model.get(version, 0.0) + float(arm.price[index])
    served_days: dict[int | None, int] = {}
    for _, version in versions:
        served_days[version] = served_days.get(version, 0) + 1
    models = len(served_days)
    return {
        "revenue_kept_vs_no_model": round(revenue, 2),
        "customers_kept_vs_no_model": customers,
        "models": models,
        "value_per_model": round(revenue / models, 2) if models else None,
        "per_model": [
            {
                "version": version,
                "days_served": served_days.get(version, 0),
                "revenue_kept": round(per_model.get(version, 0.0), 2),
            }
            for version in sorted(
                set(served_days) | set(per_model), key=lambda v: (v is None, v or 0)
            )
        ],
    }
