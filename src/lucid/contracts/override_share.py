"""How production promotions got past the gate: per model and period, how many rested on
evidence and how many on an approver's override, folded from the registry's events.

A production promotion is a `ModelPromoted` event with `to_stage` production; its `basis`
says `evidence` or `override` (a rollback is no promotion: `ModelRolledBack` is not counted).
An evidence-based promotion rested on Lucid-origin evidence when every record it rested on
says `origin: lucid`, on external evidence when one says `origin: external`, and on evidence
of unstated origin otherwise. The records it rested on are the ones its event names by digest
(`evidence_digests`, or `evidence_digest`), else the latest `EvidenceAttached` record of each
kind for that version before the promotion.

A pure fold over recorded events (oldest first): no I/O; the registry's tables are never read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from lucid.contracts.events import RecordedEvent, parse_time
from lucid.contracts.periods import WHOLE_HISTORY, check_period, period_label

EVERY_MODEL = "*"
"""The model label of the tally over every model."""
TALLIED_TYPES = ("EvidenceAttached", "ModelPromoted")
"""The event types the fold reads; every other event is skipped."""

_EVIDENCE, _OVERRIDE = "evidence", "override"
_LUCID, _EXTERNAL = "lucid", "external"


@dataclass(frozen=True, slots=True)
class PromotionTally:
    """One model's production promotions in one period (counts), by their basis.

    `evidence_lucid` and `evidence_external` split `by_evidence` by the origin of the evidence;
    the rest of `by_evidence` rested on evidence whose origin was not stated.
    """

    model: str
    period: str
    promotions: int = 0
    by_evidence: int = 0
    by_override: int = 0
    evidence_lucid: int = 0
    evidence_external: int = 0

    @property
    def evidence_unstated(self) -> int:
        return self.by_evidence - self.evidence_lucid - self.evidence_external

    @property
    def override_share_pct(self) -> float | None:
        """Overrides in percent of the production promotions; None with none."""
        return 100.0 * self.by_override / self.promotions if self.promotions else None

    def counted(self, basis: str, origin: str | None) -> PromotionTally:
        """This tally with one more promotion on `basis` (evidence of `origin`)."""
        evidence = basis == _EVIDENCE
        return PromotionTally(
            self.model,
            self.period,
            self.promotions + 1,
            self.by_evidence + evidence,
            self.by_override + (basis == _OVERRIDE),
            self.evidence_lucid + (evidence and origin == _LUCID),
            self.evidence_external + (evidence and origin == _EXTERNAL),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "period": self.period,
            "promotions": self.promotions,
            "by_evidence": self.by_evidence,
            "by_override": self.by_override,
            "override_share_pct": self.override_share_pct,
            "evidence_lucid": self.evidence_lucid,
            "evidence_external": self.evidence_external,
            "evidence_unstated": self.evidence_unstated,
        }


@dataclass(frozen=True, slots=True)
class OverrideShares:
    """The tallies cut by `period`: for each model (by name), one row per period with a
    production promotion (oldest first) then its whole history; and every model's whole
    history in `overall`."""

    period: str
    rows: tuple[PromotionTally, ...]
    overall: PromotionTally

    @property
    def override_share_pct(self) -> float | None:
        """Every model's overrides in percent of every production promotion; None with none."""
        return self.overall.override_share_pct

    def of(self, model: str) -> tuple[PromotionTally, ...]:
        """The rows of `model` (its periods, then its whole history); none when unknown."""
        return tuple(row for row in self.rows if row.model == model)

    def to_dict(self) -> dict[str, Any]:
        return {
            "period": self.period,
            "override_share_pct": self.override_share_pct,
            "rows": [row.to_dict() for row in self.rows],
            "overall": self.overall.to_dict(),
        }


def tally_promotions(events: Iterable[RecordedEvent], period: str = "month") -> OverrideShares:
    """The production promotions of `events` (oldest first), per model and `period`."""
    cut = check_period(period)
    latest: dict[tuple[str, int], dict[str, Mapping[str, Any]]] = {}
    by_digest: dict[str, Mapping[str, Any]] = {}
    tallies: dict[tuple[str, str], PromotionTally] = {}
    overall = PromotionTally(EVERY_MODEL, WHOLE_HISTORY)
    for event in events:
        payload = event.payload
        if event.type == "EvidenceAttached":
            evidence = payload.get("evidence")
            if isinstance(evidence, Mapping):
                version = (str(payload["name"]), int(payload["version"]))
                latest.setdefault(version, {})[str(evidence.get("kind", "business"))] = evidence
                if isinstance(evidence.get("digest"), str):
                    by_digest[evidence["digest"]] = evidence
            continue
        if event.type != "ModelPromoted" or payload.get("to_stage") != "production":
            continue
        name, basis = str(payload["name"]), str(payload["basis"])
        origin = None
        if basis == _EVIDENCE:
            rested = _rested_on(payload, latest.get((name, int(payload["version"])), {}), by_digest)
            origin = _origin(rested)
        label = period_label(parse_time(event.occurred_at), cut)
        for cell in ((name, label), (name, WHOLE_HISTORY)):
            tallies[cell] = tallies.get(cell, PromotionTally(*cell)).counted(basis, origin)
        overall = overall.counted(basis, origin)
    rows = sorted(tallies.values(), key=lambda t: (t.model, t.period == WHOLE_HISTORY, t.period))
    return OverrideShares(cut, tuple(rows), overall)


def _rested_on(
    promoted: Mapping[str, Any],
    attached: Mapping[str, Mapping[str, Any]],
    by_digest: Mapping[str, Mapping[str, Any]],
) -> list[Mapping[str, Any] | None]:
    """The evidence records a promotion rested on (None for a digest never attached)."""
    named = promoted.get("evidence_digests")
    if named is None and isinstance(promoted.get("evidence_digest"), str):
        named = [promoted["evidence_digest"]]
    if isinstance(named, list) and named:
        return [by_digest.get(str(digest)) for digest in named]
    return list(attached.values())


def _origin(rested: list[Mapping[str, Any] | None]) -> str | None:
    """`external` when any record is external, `lucid` when every one is Lucid's, else None."""
    origins = [None if record is None else record.get("origin") for record in rested]
    if _EXTERNAL in origins:
        return _EXTERNAL
    if origins and all(origin == _LUCID for origin in origins):
        return _LUCID
    return None
