"""Logging predictions and outcomes to a model's prediction log, and sealing the days ended."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lucid.contracts.value import validate_model_name
from lucid.errors import InvalidInput
from lucid.monitoring import prediction_files, predictions
from lucid.monitoring.experiment_outcomes import experiment_writer
from lucid.monitoring.predictions import OutcomeReport
from lucid.ports import UnitsOfWork
from lucid.ports.monitoring import PredictionLog

if TYPE_CHECKING:
    import pyarrow as pa

    from lucid.monitoring.prediction_seal import SealReport


@dataclass(kw_only=True)
class PredictionIntake:
    """What `Monitoring` takes in: predictions and outcomes logged to `log` (outcomes joined
    within `horizon`), experiment outcomes recorded through `uows`, ended days sealed."""

    uows: UnitsOfWork
    log: PredictionLog
    horizon: timedelta = predictions.DEFAULT_HORIZON
    clock: Callable[[], datetime]

    def __post_init__(self) -> None:
        self._sealed_on: date | None = None

    def log_predictions(
        self, model: str, version: str | int, rows: Sequence[Mapping[str, Any]] | pa.Table
    ) -> Sequence[str]:
        """Log served predictions: each row has `entity`, `served_at` (a time; naive means UTC),
        `features` (name → value), `score` (P(label = 1)), optional `arm` and `id`. An Arrow
        table (or a pandas DataFrame) is read as a file is (`log_predictions_file`)."""
        if isinstance(rows, Sequence):
            return predictions.log_predictions(self.log, model, version, rows)
        import pyarrow as pa

        table = (
            rows if isinstance(rows, pa.Table) else pa.Table.from_pandas(rows, preserve_index=False)
        )
        return self._log_chunks(model, version, table.num_rows, iter([table]))

    def log_predictions_file(self, model: str, version: str | int, path: Path) -> Sequence[str]:
        """Log the predictions of a Parquet/CSV file: columns `entity`, `served_at`, `score`,
        optional `id` and `arm`; every other column is a feature. Times without a zone are
        read as UTC."""
        rows, chunks = prediction_files.file_chunks(path)
        return self._log_chunks(model, version, rows, chunks)

    def _log_chunks(
        self, model: str, version: str | int, rows: int, chunks: Iterator[pa.Table]
    ) -> Sequence[str]:
        """A table of at least the log's `segment_rows` is validated and stored as columns,
        chunk by chunk, all or none; a smaller one as rows."""
        from lucid.monitoring import prediction_tables

        threshold = self.log.segment_rows
        if threshold is not None and rows >= threshold:
            validate_model_name(model)
            version_text = prediction_tables.version_name(version)
            return prediction_tables.log_prediction_table(self.log, model, version_text, chunks)
        shaped = [
            predictions.prediction_of_row(row) for chunk in chunks for row in chunk.to_pylist()
        ]
        return predictions.log_predictions(self.log, model, version, shaped)

    def seal(self, model: str | None = None, before: str | date | None = None) -> SealReport:
        """Move the logged rows of UTC days that have ended (before the day `before` when
        given) into columnar segments (`lucid.monitoring.prediction_seal`). A model given
        that is not registered and has nothing logged is not found."""
        from lucid.monitoring.prediction_seal import seal_predictions

        return seal_predictions(
            self.log, now=self.clock(), model=model, before=before, registered=self._registered
        )

    def _registered(self, model: str) -> bool:
        with self.uows() as uow:
            return uow.models.latest_number(model) is not None

    def seal_daily(self) -> SealReport:
        """`seal()` at this object's first call of each UTC day (the scheduler's ticks): a
        seal scans the rows served before today, and a day ends once a day. Rows logged
        later for an ended day are sealed the next day."""
        from lucid.monitoring.prediction_seal import SealReport

        today = self.clock().astimezone(UTC).date()
        if self._sealed_on == today:
            return SealReport(today.isoformat())
        report = self.seal()
        self._sealed_on = today
        return report

    def log_outcomes(
        self,
        model: str,
        rows: Sequence[Mapping[str, Any]],
        *,
        horizon: timedelta | None = None,
        actor: str = "outcomes",
    ) -> OutcomeReport:
        """Log outcomes (`label` 0/1, `observed_at`, and `prediction_id` or `entity`),
        joined by `lucid.monitoring.predictions`'s rule. A row's optional `metrics`
        (business metric name → number) become experiment outcomes for predictions served in
        an arm of the model's running experiment, in the same unit of work
        (`lucid.monitoring.experiment_outcomes`); `actor` is who logs them."""
        return predictions.log_outcomes(
            self.log,
            model,
            rows,
            horizon=self.horizon if horizon is None else horizon,
            now=self.clock(),
            write=experiment_writer(self.uows, self.log, self.clock, model, actor),
        )

    def log_outcomes_file(
        self,
        model: str,
        path: Path,
        *,
        horizon: timedelta | None = None,
        metrics: Sequence[str] = (),
        actor: str = "outcomes",
    ) -> OutcomeReport:
        """Log the outcomes of a Parquet/CSV file; the columns named in `metrics` are each
        row's business metric values (see `log_outcomes`). A file of at least the log's
        `segment_rows` outcomes without metrics is joined as columns
        (`lucid.monitoring.outcome_tables`)."""
        from lucid.monitoring.outcome_tables import log_outcome_table

        table = prediction_files.read_table(path)
        threshold = self.log.segment_rows
        if not metrics and threshold is not None and table.num_rows >= threshold:
            report = log_outcome_table(
                self.log,
                model,
                table,
                horizon=self.horizon if horizon is None else horizon,
                now=self.clock(),
            )
            if report is not None:
                return report
        rows: list[dict[str, Any]] = table.to_pylist()
        if metrics:
            missing = sorted(set(metrics) - set(rows[0] if rows else ()))
            if missing:
                raise InvalidInput("--metric", f"{path} has no column {', '.join(missing)}")
            rows = [
                {
                    **{k: v for k, v in row.items() if k not in metrics},
                    "metrics": {name: row[name] for name in metrics if row[name] is not None},
                }
                for row in rows
            ]
        return self.log_outcomes(model, rows, horizon=horizon, actor=actor)
