"""The policy of a model nobody wrote one for: data drift on its inputs, alerting its owner.

It watches only what every model has — the distribution of each pinned feature against the
reference profile (PSI, warning at its minimum effect 0.02 and critical at a large effect 0.2,
`evidence.drift_threshold`; graded on effect and evidence, so a small window's noise does not
alarm)
and the health of its values (NULL share rise, values outside the reference's range, new and
vanished categories, at the default health bounds), and for a model pinning features the
health of the sources behind them (volume against the trailing weeks, freshness, NULL share
rise, schema changes, at `DEFAULT_SOURCE_BOUNDS`) — and asks nothing it cannot compute (no
business metric, no labels, and no volume: a reference built from a file has no duration to
scale the expected rows by). Its alerts and its
digest go to the model's owner, never to a placeholder address.
"""

from __future__ import annotations

import re

from lucid.contracts.validity.actions import Action, ActionKind
from lucid.contracts.validity.evidence import drift_threshold
from lucid.contracts.validity.health import default_health_thresholds
from lucid.contracts.validity.policy import Frequency, MonitoringPolicy, Reporting
from lucid.contracts.validity.source_health import default_source_thresholds

_NOT_IN_TARGET = re.compile(r"[^a-z0-9_.@-]+")


def alert_target(owner: str) -> str:
    """`owner` as an alert target (lower case; other characters become `_`)."""
    target = _NOT_IN_TARGET.sub("_", owner.strip().lower()).strip("_")
    if not target or not target[0].isalpha():
        target = f"owner_{target}".rstrip("_")
    return target


def generic_policy(model: str, owner: str, *, sources: bool = False) -> MonitoringPolicy:
    """Data drift (PSI) and data health on every feature of `model`, daily, alerting and
    reporting to `owner` (a team or the person who registered the model); with `sources`
    (the model pins features), the data health of the sources behind them too."""
    alert = Action(ActionKind.ALERT, alert_target(owner))
    critical = (alert, Action(ActionKind.INVESTIGATE))
    health = default_health_thresholds(None, warning_actions=(alert,), critical_actions=critical)
    if sources:
        health += default_source_thresholds(warning_actions=(alert,), critical_actions=critical)
    return MonitoringPolicy(
        model=model,
        thresholds=(
            drift_threshold("psi", (alert,), critical),
            *(threshold for threshold in health if threshold.metric != "volume_ratio"),
        ),
        reporting=Reporting(stakeholders=(owner,), frequency=Frequency.DAILY),
    )
