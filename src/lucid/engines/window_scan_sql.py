"""The DuckDB view of a `WindowScan`: the window's SQL rows, then its segment files read by
`read_parquet` with the served-at and version filters in the scan (so DuckDB skips row groups
and reads only the columns a query names), each column converted to the window's kind."""

from __future__ import annotations

from lucid.engines.relations import literal, quote
from lucid.ports.window_scan import ScanColumn, WindowScan, parquet_scan


def _converted(column: ScanColumn) -> str:
    source = f"s.{quote(column.source)}" if column.source is not None else "NULL"
    conversion = column.conversion
    if conversion == "double":
        value = f"CAST({source} AS DOUBLE)"
    elif conversion == "text":
        value = f"CAST({source} AS VARCHAR)"
    elif conversion == "boolean_text":
        value = f"CASE WHEN {source} THEN 'true' WHEN NOT {source} THEN 'false' END"
    elif conversion == "null_double":
        value = "CAST(NULL AS DOUBLE)"
    else:
        value = "CAST(NULL AS VARCHAR)"
    return f"{value} AS {quote(column.name)}"


def window_view_sql(window: WindowScan, rows: str, outcomes: str | None) -> str:
    """A SELECT of `window`: the rows registered as `rows`, then the segment rows (joined to
    the outcome rows registered as `outcomes` and the outcome segment files when the window
    has labels)."""
    segments = window.segments
    selected = [_converted(column) for column in window.columns]
    selected.append("CAST(s.score AS DOUBLE) AS score")
    names = [quote(column.name) for column in window.columns] + ["score"]
    source = f"{parquet_scan(segments.files)} s"
    if window.label:
        if outcomes is None or segments.outcomes is None:
            raise ValueError("a window with labels needs its outcomes")
        joined = f"SELECT prediction_id, label FROM {quote(outcomes)}"
        if segments.outcomes.files:
            sealed = ", ".join(literal(path) for path in segments.outcomes.files)
            joined += (
                " UNION ALL SELECT prediction_id, CAST(label AS BIGINT) "
                f"FROM read_parquet([{sealed}], union_by_name = true)"
            )
        selected.append("CAST(o.label AS BIGINT) AS label")
        names.append("label")
        source += f" LEFT JOIN ({joined}) o ON o.prediction_id = s.id"
    where = (
        f"s.served_at >= CAST({literal(segments.start)} AS TIMESTAMP) "
        f"AND s.served_at < CAST({literal(segments.end)} AS TIMESTAMP)"
    )
    if segments.version is not None:
        where += f" AND s.version = {literal(segments.version)}"
    return (
        f"SELECT {', '.join(names)} FROM {quote(rows)} UNION ALL "
        f"SELECT {', '.join(selected)} FROM {source} WHERE {where}"
    )
