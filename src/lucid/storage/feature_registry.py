"""Sources, feature definitions, approvals and served values in the metadata database: the
feature repository of a unit of work (`lucid.ports.features.FeatureRepository`).

It is built on the connection of the unit's transaction, so that a use case reads the state,
decides, writes and records its events under one lock and one commit.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Select, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from lucid.contracts.events import format_time, parse_time
from lucid.contracts.semantic.definition import FeatureDefinition
from lucid.contracts.semantic.governance import Approval, Governed, Status
from lucid.contracts.semantic.skew import LoggedValue, ServedValue, SkewSums, epoch_text
from lucid.contracts.semantic.sources import Source
from lucid.contracts.semantic.versions import FeatureRef
from lucid.storage.served_segments import (
    COLUMNS,
    scan_segments,
    segment_count,
    segment_paths,
    segment_query,
)
from lucid.storage.tables import (
    feature_approvals,
    feature_definitions,
    feature_sources,
    served_features,
    served_segments,
    skew_figures,
)

T = TypeVar("T")


def _json(value: dict[str, Any]) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


class SqlFeatureRepository:
    """The feature tables, on one transaction's connection; served values are read from
    their rows and their sealed segments under `served_root` (`lucid.storage.served_segments`)."""

    def __init__(self, connection: Connection, served_root: Path | None = None) -> None:
        self._connection = connection
        self._root = served_root  # the prediction log's folder, holding served segments

    def sources(self) -> dict[str, Source]:
        rows = self._connection.execute(select(feature_sources.c.spec)).scalars()
        sources = (Source.from_dict(json.loads(spec)) for spec in rows)
        return {source.name: source for source in sources}

    def add_source(self, source: Source, *, actor: str, at: datetime) -> None:
        self._connection.execute(
            insert(feature_sources).values(
                name=source.name,
                spec=_json(source.to_dict()),
                registered_by=actor,
                registered_at=format_time(at),
            )
        )

    def governed(self, *, name: str | None = None, concept: str | None = None) -> list[Governed]:
        """Stored definitions with their status and approvals, by name then version."""
        definitions = feature_definitions.c
        query = select(
            definitions.name,
            definitions.version,
            definitions.spec,
            definitions.status,
            definitions.proposed_by,
        ).order_by(definitions.name, definitions.major, definitions.minor, definitions.patch)
        if name is not None:
            query = query.where(definitions.name == name)
        if concept is not None:
            query = query.where(definitions.concept == concept)
        approvals = self._approvals(name)
        return [
            Governed(
                FeatureDefinition.from_dict(json.loads(row.spec)),
                Status(row.status),
                row.proposed_by,
                tuple(approvals.get((row.name, row.version), ())),
            )
            for row in self._connection.execute(query)
        ]

    def _approvals(self, name: str | None) -> dict[tuple[str, str], list[Approval]]:
        approvals: dict[tuple[str, str], list[Approval]] = {}
        query = select(
            feature_approvals.c.name,
            feature_approvals.c.version,
            feature_approvals.c.team,
            feature_approvals.c.person,
        ).order_by(feature_approvals.c.approved_at)
        if name is not None:
            query = query.where(feature_approvals.c.name == name)
        for row in self._connection.execute(query):
            approvals.setdefault((row.name, row.version), []).append(Approval(row.team, row.person))
        return approvals

    def find(self, ref: FeatureRef) -> Governed | None:
        for governed in self.governed(name=ref.name):
            if governed.definition.version == ref.version:
                return governed
        return None

    def add_definition(
        self,
        definition: FeatureDefinition,
        *,
        status: Status,
        origin: str,
        actor: str,
        at: datetime,
    ) -> None:
        stamp = format_time(at)
        self._connection.execute(
            insert(feature_definitions).values(
                name=definition.name,
                version=str(definition.version),
                major=definition.version.major,
                minor=definition.version.minor,
                patch=definition.version.patch,
                concept=definition.concept,
                status=status.value,
                origin=origin,
                spec=_json(definition.to_dict()),
                fingerprint=definition.fingerprint,
                proposed_by=actor,
                proposed_at=stamp,
                status_changed_at=stamp,
            )
        )

    def set_status(self, ref: FeatureRef, status: Status, *, at: datetime) -> None:
        self._connection.execute(
            update(feature_definitions)
            .where(feature_definitions.c.name == ref.name)
            .where(feature_definitions.c.version == str(ref.version))
            .values(status=status.value, status_changed_at=format_time(at))
        )

    def add_approval(
        self, ref: FeatureRef, approval: Approval, *, rationale: str, at: datetime
    ) -> None:
        self._connection.execute(
            insert(feature_approvals).values(
                name=ref.name,
                version=str(ref.version),
                team=approval.team,
                person=approval.person,
                approved_at=format_time(at),
                rationale=rationale,
            )
        )

    def log_served(self, values: Sequence[ServedValue], at: datetime) -> None:
        rows = served_value_rows(values, at)
        if rows:
            self._connection.execute(served_features.insert(), rows)

    def served(
        self,
        *,
        since: datetime | None = None,
        features: Sequence[str] | None = None,
        after: int = 0,
        until: int | None = None,
    ) -> list[LoggedValue]:
        since_text = None if since is None else format_time(since, "since")
        query = select(*(served_features.c[name] for name in COLUMNS)).order_by(
            served_features.c.id
        )
        if after:
            query = query.where(served_features.c.id > after)
        if until is not None:
            query = query.where(served_features.c.id <= until)
        if since_text is not None:
            query = query.where(served_features.c.served_at >= since_text)
        if features is not None:
            query = query.where(served_features.c.feature.in_(list(features)))
        rows, files = self._with_segments(
            lambda: [tuple(row) for row in self._connection.execute(query)],
            segment_query(after=after, until=until, since=since_text),
        )
        if files:
            found = scan_segments(
                files,
                select_list=", ".join(f"s.{name}" for name in COLUMNS),
                after=after,
                until=until,
                since=since_text,
                features=features,
            )
            rows = sorted([*rows, *found], key=lambda row: int(row[0]))
        return [
            LoggedValue(entity, feature, parse_time(served_at), json.loads(value), status)
            for _, served_at, entity, feature, value, _, status in rows
        ]

    def _with_segments(self, read_rows: Callable[[], T], files: Select[Any]) -> tuple[T, list[str]]:
        """What `read_rows` reads of the rows and the served segment files `files` selects,
        as of one moment: read again while a seal committed in between
        (`lucid.storage.served_segments`)."""
        while True:
            sealed = segment_count(self._connection)
            rows = read_rows()
            paths = segment_paths(self._root, self._connection, files)
            if segment_count(self._connection) == sealed:
                return rows, paths

    def served_position(self) -> int:
        return self.served_watermark()

    def kept_skew(self, tolerance: float) -> tuple[int, list[SkewSums]] | None:
        row = self._connection.execute(
            select(skew_figures.c.position, skew_figures.c.figures).where(
                skew_figures.c.tolerance == tolerance
            )
        ).first()
        if row is None:
            return None
        return int(row.position), [SkewSums.from_dict(s) for s in json.loads(row.figures)]

    def keep_skew(
        self, tolerance: float, position: int, sums: Sequence[SkewSums], at: datetime
    ) -> None:
        values = {
            "tolerance": tolerance,
            "position": position,
            "figures": json.dumps([s.to_dict() for s in sums]),
            "measured_at": format_time(at),
        }
        dialect = postgresql if self._connection.dialect.name == "postgresql" else sqlite
        upsert = dialect.insert(skew_figures).values(**values)
        self._connection.execute(
            upsert.on_conflict_do_update(index_elements=["tolerance"], set_=values)
        )

    def last_served_at(self, features: Sequence[str]) -> datetime | None:
        query = select(func.max(served_features.c.served_at)).where(
            served_features.c.feature.in_(list(features))
        )
        latest, files = self._with_segments(
            lambda: self._connection.execute(query).scalar_one(), segment_query()
        )
        if files:
            [(sealed,)] = scan_segments(files, select_list="max(s.served_at)", features=features)
            latest = max((found for found in (latest, sealed) if found is not None), default=None)
        return parse_time(latest) if latest is not None else None

    def served_count(self, features: Sequence[str]) -> int:
        query = select(func.count()).where(served_features.c.feature.in_(list(features)))
        counted, files = self._with_segments(
            lambda: int(self._connection.execute(query).scalar_one()), segment_query()
        )
        if files:
            [(sealed,)] = scan_segments(files, select_list="count(*)", features=features)
            counted += int(sealed)
        return counted

    def served_watermark(self) -> int:
        """The largest id of a served value, a row or sealed (one statement: one moment)."""
        rows = select(func.max(served_features.c.id)).scalar_subquery()
        sealed = select(func.max(served_segments.c.last_id)).scalar_subquery()
        last = self._connection.execute(
            select(func.coalesce(rows, 0), func.coalesce(sealed, 0))
        ).one()
        return int(max(last))


def served_value_rows(values: Sequence[ServedValue], at: datetime) -> list[dict[str, Any]]:
    """The `served_features` rows of values served at `at`."""
    served_at = format_time(at)
    return [
        {
            "served_at": served_at,
            "entity": value.entity,
            "feature": value.feature,
            "value": json.dumps(value.value),
            "as_of": epoch_text(value.as_of) if value.as_of is not None else None,
            "status": value.status,
        }
        for value in values
    ]
