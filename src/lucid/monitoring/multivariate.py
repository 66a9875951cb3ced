"""Multivariate drift of a current window against its reference profile: the PCA
reconstruction error and the domain classifier (`lucid.contracts.validity.multivariate` states
what each measures and its evidence).

Both sides are read as Arrow record batches of at most `CHUNK_ROWS` rows
(`ComputeEngine.batches` over `DriftQueries.feature_rows`): the reference once, when its profile
is built; the current window once per run. What stays in memory is one batch, the running sums
of the error and bounded samples (`lucid.monitoring.row_samples`), so memory is flat in the
window's rows.

Features: every profiled column except the score and the label. Numeric ones enter the PCA
(those that vary in the reference) and the classifier; categorical ones only the classifier,
as categories (see `lucid.monitoring.domain_classifier`). All rows, not per segment.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from lucid.contracts.validity.metrics import Measurement
from lucid.contracts.validity.multivariate import (
    SAMPLE_ROWS,
    MultivariateProfile,
    ReconstructionProfile,
    ReferenceSample,
    SampleValue,
    components_kept,
    error_rise_pvalue,
)
from lucid.contracts.validity.profiles import (
    CategoricalProfile,
    ColumnProfile,
    NumericProfile,
    ReferenceProfile,
)
from lucid.monitoring.domain_classifier import classify_domains, encode
from lucid.monitoring.row_samples import RowSample, read_batches
from lucid.ports import ComputeEngine

if TYPE_CHECKING:
    import pyarrow as pa

CHUNK_ROWS = 65_536
"""Rows of one record batch read from the engine."""

PCA_ROWS = 100_000
"""Reference rows sampled for the PCA (every row of a smaller reference): half fit it, the
other half measure the reference error."""

SEED = 21
"""The seed of every sample and of the classifier."""

CLASSIFIER_MINIMUM = 20
"""Rows a side below which the classifier is not trained, whatever the policy's minimum."""

NO_DRIFT_Z = 2.3263478740408408
"""The standard normal's 99th percentile: `no_drift_rise_p99` is that many standard errors."""

RECONSTRUCTION = "reconstruction_error_rise"
DOMAIN_CLASSIFIER = "domain_classifier_auc"
MULTIVARIATE_METRICS = frozenset({RECONSTRUCTION, DOMAIN_CLASSIFIER})
"""Every multivariate metric a run can measure."""


def one_thread() -> AbstractContextManager[object]:
    """NumPy's BLAS and the classifier's OpenMP on one thread: on batches of a few features
    and samples of thousands of rows, more threads only wait for each other."""
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]  # no stubs

    limits: AbstractContextManager[object] = threadpool_limits(1)
    return limits


# --- the reference -----------------------------------------------------------------------------


def profile_multivariate(
    engine: ComputeEngine,
    table: str,
    columns: Mapping[str, ColumnProfile],
    *,
    seed: int = SEED,
    chunk_rows: int = CHUNK_ROWS,
) -> MultivariateProfile:
    """The multivariate part of the profile of `table`, whose feature `columns` are profiled
    already (their means and standard deviations standardise the PCA)."""
    kinds: dict[str, Literal["numeric", "categorical"]] = {
        c: "numeric" if isinstance(p, NumericProfile) else "categorical" for c, p in columns.items()
    }
    numeric = [c for c, kind in kinds.items() if kind == "numeric"]
    categorical = [c for c, kind in kinds.items() if kind == "categorical"]
    sample = RowSample(PCA_ROWS, seed)
    with one_thread():
        for batch in read_batches(engine, table, numeric, categorical, chunk_rows, "reference"):
            sample.add(batch)
    rows = sample.table()
    if not rows.num_rows:
        empty = ReferenceSample(kinds, {c: () for c in kinds}, 0)
        return MultivariateProfile(None, empty, seed, "the reference has no row")
    kept = rows.slice(0, SAMPLE_ROWS)
    values = {c: _cells(kept.column(c).to_pylist(), columns[c]) for c in kinds}
    reconstruction, note = _fit(rows, columns)
    return MultivariateProfile(
        reconstruction, ReferenceSample(kinds, values, kept.num_rows), seed, note
    )


def _cells(values: list[Any], column: ColumnProfile) -> tuple[SampleValue, ...]:
    """A sampled column as the profile stores it: text, or numbers to a millionth of the
    column's standard deviation (their JSON half as long; the classifier's trees split
    between sampled values thousands of times further apart)."""
    if not isinstance(column, NumericProfile):
        return tuple(None if v is None else str(v) for v in values)
    spread = column.std
    digits = 6 - math.floor(math.log10(spread)) if spread and math.isfinite(spread) else None
    return tuple(
        (float(v) if digits is None else round(float(v), digits))
        if v is not None and math.isfinite(v)
        else None
        for v in values
    )


def _fit(
    rows: pa.Table, columns: Mapping[str, ColumnProfile]
) -> tuple[ReconstructionProfile | None, str | None]:
    """The PCA fitted on the even rows of the sample, the error measured on the odd ones."""
    varying = {
        c: p
        for c, p in columns.items()
        if isinstance(p, NumericProfile) and p.usable and p.std and p.mean is not None
    }
    if len(varying) < 2:
        return None, f"{len(varying)} numeric feature varies in the reference; the PCA needs 2"
    names = tuple(varying)
    means = tuple(float(p.mean or 0.0) for p in varying.values())
    scales = tuple(float(p.std or 1.0) for p in varying.values())
    z, _ = standardised(rows, names, means, scales)
    fit, held = z[0::2], z[1::2]
    if len(held) < 2:
        return None, f"{len(z)} reference rows; the reconstruction error needs at least 4"
    eigenvalues, vectors = np.linalg.eigh(fit.T @ fit / len(fit))
    order = np.argsort(eigenvalues)[::-1]
    eigenvalues, vectors = np.clip(eigenvalues[order], 0.0, None), vectors[:, order]
    shares = eigenvalues / eigenvalues.sum()
    kept = components_kept([float(s) for s in shares])
    components = vectors[:, :kept].T
    # An eigenvector's sign is arbitrary: its largest weight is made positive, for one profile.
    signs = np.sign(components[np.arange(kept), np.abs(components).argmax(axis=1)])
    components = components * signs[:, None]
    errors = reconstruction_errors(held, components)
    if not errors.mean() > 1e-9:  # the features lie on the kept components: nothing to compare
        named = "1 component" if kept == 1 else f"{kept} components"
        return None, f"the reference's numeric features lie exactly on {named}"
    return (
        ReconstructionProfile(
            names,
            means,
            scales,
            tuple(tuple(float(w) for w in row) for row in components),
            tuple(float(s) for s in shares[:kept]),
            len(fit),
            float(errors.mean()),
            float(errors.std(ddof=1)),
            len(held),
        ),
        None,
    )


def standardised(
    rows: pa.Table | pa.RecordBatch,
    columns: Sequence[str],
    means: Sequence[float],
    scales: Sequence[float],
) -> tuple[np.ndarray, int]:
    """The rows' `columns` as standardised numbers, an unusable value imputed by the mean (0),
    and how many values were imputed."""
    matrix = np.empty((rows.num_rows, len(columns)))
    for position, column in enumerate(columns):
        values = rows.column(column).to_numpy(zero_copy_only=False)
        matrix[:, position] = np.asarray(values, dtype=float)
    matrix -= np.asarray(means)
    matrix /= np.asarray(scales)
    unusable = ~np.isfinite(matrix)
    matrix[unusable] = 0.0
    return matrix, int(unusable.sum())


def reconstruction_errors(z: np.ndarray, components: np.ndarray) -> np.ndarray:
    """Each row's Euclidean distance to its projection on the components' span."""
    residual = z - (z @ components.T) @ components
    distances: np.ndarray = np.sqrt(np.einsum("ij,ij->i", residual, residual))
    return distances


# --- the current window ------------------------------------------------------------------------


@dataclass
class _ErrorSums:
    rows: int = 0
    total: float = 0.0
    squares: float = 0.0
    imputed: int = 0

    def add(self, errors: np.ndarray, imputed: int) -> None:
        self.rows += len(errors)
        self.total += float(errors.sum())
        self.squares += float(np.dot(errors, errors))
        self.imputed += imputed

    @property
    def mean(self) -> float:
        return self.total / self.rows

    @property
    def std(self) -> float:
        if self.rows < 2:
            return 0.0
        return math.sqrt(max(self.squares - self.rows * self.mean**2, 0.0) / (self.rows - 1))


def measure_multivariate(
    engine: ComputeEngine,
    table: str,
    profile: ReferenceProfile,
    *,
    metrics: Collection[str] = MULTIVARIATE_METRICS,
    minimum_rows: int = 500,
    chunk_rows: int = CHUNK_ROWS,
    explain: bool = True,
) -> list[Measurement]:
    """The multivariate `metrics` of `table` (already registered on `engine`) in one pass over
    its rows. `explain` names the features the classifier relies on most."""
    wanted = set(metrics) & MULTIVARIATE_METRICS
    part = profile.multivariate
    if not wanted:
        return []
    if part is None:
        note = "the reference profile has no multivariate part; build the profile again"
        return [Measurement(m, None, sufficient=False, note=note) for m in sorted(wanted)]
    reconstruction = part.reconstruction if RECONSTRUCTION in wanted else None
    numeric = [c for c, k in part.sample.kinds.items() if k == "numeric"]
    categorical = [c for c, k in part.sample.kinds.items() if k == "categorical"]
    sums, sample = _ErrorSums(), RowSample(SAMPLE_ROWS, part.seed)
    chunks = largest = rows = 0
    with one_thread():
        for batch in read_batches(engine, table, numeric, categorical, chunk_rows, "current"):
            chunks, largest = chunks + 1, max(largest, batch.num_rows)
            rows += batch.num_rows
            if reconstruction is not None:
                r = reconstruction
                z, imputed = standardised(batch, r.columns, r.means, r.scales)
                sums.add(reconstruction_errors(z, np.asarray(r.components)), imputed)
            if DOMAIN_CLASSIFIER in wanted:
                sample.add(batch)
    read = {"chunks": chunks, "largest_chunk_rows": largest}
    found: list[Measurement] = []
    if RECONSTRUCTION in wanted:
        found.append(_reconstruction(part, sums, minimum_rows, read))
    if DOMAIN_CLASSIFIER in wanted:
        found.append(_classifier(part, profile, sample.table(), rows, minimum_rows, explain))
    return found


def _reconstruction(
    part: MultivariateProfile, sums: _ErrorSums, minimum_rows: int, read: Mapping[str, int]
) -> Measurement:
    r = part.reconstruction
    if r is None:
        return Measurement(RECONSTRUCTION, None, sufficient=False, note=part.note)
    reference_rows = r.fit_rows + r.error_rows
    sufficient = sums.rows >= minimum_rows and reference_rows >= minimum_rows
    notes = []
    if not sufficient:
        notes.append(
            f"fewer than {minimum_rows} rows on a side ({reference_rows} reference, "
            f"{sums.rows} current)"
        )
    details: dict[str, Any] = {
        "columns": list(r.columns),
        "components": len(r.components),
        "explained_variance": round(sum(r.explained), 6),
        "reference_error_mean": r.error_mean,
        "reference_error_std": r.error_std,
        "reference_error_rows": r.error_rows,
        "fit_rows": r.fit_rows,
        **read,
    }
    if not sums.rows:
        notes.append("the current window has no row")
        return Measurement(
            RECONSTRUCTION, None, reference_rows=reference_rows, current_rows=0,
            sufficient=False, note="; ".join(notes), details=details,
        )  # fmt: skip
    if sums.imputed:
        notes.append(f"{sums.imputed} unusable current values imputed by the reference mean")
    se = math.sqrt(r.error_std**2 / r.error_rows + sums.std**2 / sums.rows)
    details |= {
        "current_error_mean": sums.mean,
        "current_error_std": sums.std,
        "imputed_values": sums.imputed,
        "no_drift_rise_p99": NO_DRIFT_Z * se / r.error_mean,
    }
    return Measurement(
        RECONSTRUCTION,
        sums.mean / r.error_mean - 1.0,
        reference_rows=reference_rows,
        current_rows=sums.rows,
        sufficient=sufficient,
        expected_no_drift=0.0,
        note="; ".join(notes) or None,
        details=details,
        pvalue=error_rise_pvalue(
            r.error_mean, r.error_std, r.error_rows, sums.mean, sums.std, sums.rows
        ),
    )


def _classifier(
    part: MultivariateProfile,
    profile: ReferenceProfile,
    current: pa.Table,
    rows: int,
    minimum_rows: int,
    explain: bool,
) -> Measurement:
    reference = part.sample
    needed = max(min(minimum_rows, SAMPLE_ROWS), CLASSIFIER_MINIMUM)
    details: dict[str, Any] = {"reference_sample_rows": reference.rows, "current_rows": rows}
    if reference.rows < needed or current.num_rows < needed:
        return Measurement(
            DOMAIN_CLASSIFIER, None, reference_rows=reference.rows, current_rows=rows,
            sufficient=False, details=details,
            note=f"fewer than {needed} sampled rows on a side ({reference.rows} reference, "
            f"{current.num_rows} current)",
        )  # fmt: skip
    named = _categories(profile)
    encoded_reference = {
        c: encode(reference.values[c], kind, named.get(c)) for c, kind in reference.kinds.items()
    }
    encoded_current = {
        c: encode(current.column(c).to_pylist(), kind, named.get(c))
        for c, kind in reference.kinds.items()
    }
    categorical = [c for c, kind in reference.kinds.items() if kind == "categorical"]
    with one_thread():
        found = classify_domains(
            encoded_reference, encoded_current, categorical, seed=part.seed, explain=explain
        )
    details |= {
        "current_sample_rows": current.num_rows,
        "held_out_rows": {"reference": found.reference_rows, "current": found.current_rows},
        "features": [{"feature": c, "auc_drop": drop} for c, drop in found.features],
        "classifier": "gradient-boosted trees, trained on half of each sample, AUC on the other",
    }
    return Measurement(
        DOMAIN_CLASSIFIER,
        found.auc,
        reference_rows=reference.rows,
        current_rows=rows,
        expected_no_drift=0.5,
        details=details,
        pvalue=found.pvalue,
    )


def _categories(profile: ReferenceProfile) -> dict[str, list[str]]:
    return {
        c: sorted(p.categories)
        for c, p in profile.overall.columns.items()
        if isinstance(p, CategoricalProfile)
    }
