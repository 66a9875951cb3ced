"""The columns a model's policy may name: its pinned features and model inputs, the columns
of its reference profiles (the logged features), its score and label, and its contract's
business metric. A threshold naming anything else would watch nothing, forever
`insufficient_data`; it is refused before the policy is stored."""

from __future__ import annotations

from lucid.contracts.validity.policy import MonitoringPolicy
from lucid.contracts.validity.source_health import SOURCE_PREFIX
from lucid.errors import InvalidInput, NotFound
from lucid.ports.unit_of_work import UnitOfWork

ALWAYS_KNOWN = frozenset({"score", "label"})


def known_columns(uow: UnitOfWork, model: str) -> frozenset[str] | None:
    """Every column `model`'s policy may name; None when nothing is known of the model yet
    (neither registered nor profiled), so there is nothing to check against."""
    versions = uow.models.versions(model)
    known: set[str] = set()
    for version in versions:
        known.update(pin.split("@", 1)[0] for pin in version.features)
        known.update(version.inputs or ())
        known.add(version.impact.metric)
        try:
            profile = uow.monitoring.load_profile(model, str(version.version))
        except NotFound:
            continue
        known.update(profile.overall.columns)
        if profile.segment_column is not None:
            known.add(profile.segment_column)
    if not versions:
        return None
    return frozenset(known | ALWAYS_KNOWN)


def check_columns(policy: MonitoringPolicy, known: frozenset[str] | None) -> None:
    """Refuse a threshold whose feature or segment column `model` does not have; one
    sentence naming the first such threshold, the column and the known ones."""
    if known is None:
        return
    for index, threshold in enumerate(policy.thresholds):
        named = [("feature", threshold.feature)]
        if threshold.segment is not None:
            named.append(("segment", threshold.segment.split("=", 1)[0]))
        for field, column in named:
            if column is not None and column.startswith(SOURCE_PREFIX):
                continue  # a source's column: `source_health.check_sources` checks it
            if column is not None and column not in known:
                raise InvalidInput(
                    f"thresholds[{index}].{field}",
                    f"{column!r} is not a column of {policy.model}: a threshold watches one of "
                    f"its pinned features or logged columns ({', '.join(sorted(known))})",
                )
