"""Label rows loaded into DuckDB for a training set: from a Parquet or CSV file, SDK rows, or a
pandas DataFrame or Arrow table, with their time column as naive UTC times under Lucid's time
rule (`lucid.contracts.times`)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from lucid.contracts.times import not_a_time, to_naive_utc
from lucid.engines.dialects import first_line
from lucid.engines.duckdb_types import TIME_TYPES, type_word
from lucid.engines.relations import LABEL_ROW, literal, quote
from lucid.errors import InvalidInput
from lucid.ports.offline import Labels


def load_labels(connection: duckdb.DuckDBPyConnection, labels: Labels, time_column: str) -> None:
    """The label rows as table `__lucid_labels`, numbered in order (`__lucid_row`), with
    the time column as naive UTC times under Lucid's time rule (`lucid.contracts.times`):
    a value that is not a time is refused and nothing is computed."""
    if isinstance(labels, str | Path):
        path = Path(labels)
        if not path.exists():
            raise InvalidInput("labels", f"{path} does not exist")
        _load_label_relation(
            connection, *_label_relation(connection, path, time_column), time_column
        )
        return
    if is_label_frame(labels):
        if len(labels) == 0:
            raise InvalidInput("labels", "must hold at least one row")
        connection.register("__lucid_label_frame", labels)
        kinds = _label_kinds(connection, "__lucid_label_frame", "the label table")
        relation = "__lucid_label_frame"
        _load_label_relation(connection, relation, kinds.get(time_column), time_column)
        return
    if not labels:
        raise InvalidInput("labels", "must hold at least one row")
    columns = list(labels[0])
    for number, row in enumerate(labels):
        if list(row) != columns:
            raise InvalidInput(f"labels[{number}]", f"must have the columns {columns}")
    placeholders = "(" + ", ".join("?" * (len(columns) + 1)) + ")"
    values = ", ".join([placeholders] * len(labels))
    names = ", ".join([*map(quote, columns), "__lucid_row"])
    field = f"labels.{time_column}"
    parameters = [
        value
        for number, row in enumerate(labels, start=1)
        for value in (
            *(
                to_naive_utc(row[c], field) if c == time_column else _naive_if_time(row[c])
                for c in columns
            ),
            number,
        )
    ]
    connection.execute(
        f"CREATE OR REPLACE TEMP TABLE __lucid_labels AS SELECT * FROM (VALUES {values}) "
        f"v({names})",
        parameters,
    )


def _load_label_relation(
    connection: duckdb.DuckDBPyConnection, relation: str, kind: str | None, time_column: str
) -> None:
    """A label file or table (`relation`, whose time column has DuckDB type `kind`) as
    `__lucid_labels`, its time column converted in the same pass (the given value kept
    aside until every row is checked), or refused at its first value that is not a time
    (text that does not parse, a NULL, a number)."""
    name, given = quote(time_column), "__lucid_given_time"
    converted = _utc_time_sql(name, kind) if kind is not None else None
    replace = f" REPLACE ({converted} AS {name}), {name} AS {given}" if converted else ""
    connection.execute(
        f"CREATE OR REPLACE TEMP TABLE __lucid_labels AS SELECT *{replace}, "
        f"row_number() OVER () AS {LABEL_ROW} FROM {relation}"
    )
    if kind is None:
        return  # training_set_sql names the missing column
    shown = given if converted else name
    bad = connection.execute(
        f"SELECT {shown} FROM __lucid_labels WHERE {name} IS NULL "
        f"ORDER BY {shown} IS NULL, {LABEL_ROW} LIMIT 1"
    ).fetchall()
    if bad:
        raise not_a_time(f"labels.{time_column}", bad[0][0], type_word(kind))
    if converted:
        connection.execute(f"ALTER TABLE __lucid_labels DROP COLUMN {given}")


def _label_relation(
    connection: duckdb.DuckDBPyConnection, path: Path, time_column: str
) -> tuple[str, str | None]:
    """The SQL relation reading a label file, and the DuckDB type of its time column (None
    when it has none). A CSV's time column is read as text, so that the time rule, not
    the CSV sniffer's guess from the first 20,480 rows, reads every value."""
    name = literal(str(path))
    csv = path.suffix.lower() == ".csv"
    relation = f"read_csv({name}, header = true)" if csv else f"read_parquet({name})"
    kinds = _label_kinds(connection, relation, str(path))
    if time_column not in kinds:
        return relation, None
    if not csv:
        return relation, kinds[time_column]
    types = f"{{{literal(time_column)}: 'VARCHAR'}}"
    return f"read_csv({name}, header = true, types = {types})", "VARCHAR"


def _label_kinds(
    connection: duckdb.DuckDBPyConnection, relation: str, shown: str
) -> dict[str, str]:
    """Each column of a label relation and its DuckDB type; refused when it cannot be read."""
    try:
        rows = connection.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()
    except duckdb.Error as error:
        raise InvalidInput("labels", f"{shown} cannot be read: {first_line(error)}") from None
    return {str(row[0]): str(row[1]) for row in rows}


def is_label_frame(labels: object) -> bool:
    """Whether `labels` is a table given in memory: a pandas DataFrame or an Arrow table."""
    return isinstance(labels, pa.Table) or type(labels).__module__.split(".")[0] == "pandas"


def label_frame_rows(labels: Any) -> list[dict[str, Any]]:
    """The rows of a pandas DataFrame or Arrow table of labels, as SDK rows."""
    if isinstance(labels, pa.Table):
        rows: list[dict[str, Any]] = labels.to_pylist()
        return rows
    return [{str(k): v for k, v in row.items()} for row in labels.to_dict("records")]


def _naive_if_time(value: Any) -> Any:
    return naive_utc(value) if isinstance(value, datetime) else value


def _utc_time_sql(name: str, kind: str) -> str | None:
    """SQL turning column `name` of DuckDB type `kind` into naive UTC times (NULL where a
    value is not a time); None when it already is one."""
    if kind == "TIMESTAMP":
        return None
    if kind == "VARCHAR":  # via TIMESTAMPTZ: the offset is honoured, naive text is UTC
        return f"timezone('UTC', TRY_CAST({name} AS TIMESTAMPTZ))"
    if kind.startswith(("TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ")):
        return f"timezone('UTC', {name})"
    if kind in TIME_TYPES:
        return f"CAST({name} AS TIMESTAMP)"
    return "CAST(NULL AS TIMESTAMP)"


def naive_utc(moment: datetime) -> datetime:
    """The UTC wall time of `moment` without a zone (naive times are taken as UTC)."""
    if moment.tzinfo is None:
        return moment
    offset = moment.utcoffset()
    assert offset is not None
    return (moment - offset).replace(tzinfo=None)
