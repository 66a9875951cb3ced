"""Rows of a Parquet or CSV file, for the bulk exposures and outcomes of an experiment."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lucid.errors import InvalidInput


def read_rows(path: str | Path, field: str) -> list[dict[str, Any]]:
    """Every row of `path` (`.parquet` or `.csv`) as a dict; missing cells become None."""
    import pandas as pd  # type: ignore[import-untyped]

    file = Path(path)
    if not file.is_file():
        raise InvalidInput(field, f"the file {file} does not exist")
    suffix = file.suffix.lower()
    try:
        if suffix == ".parquet":
            frame = pd.read_parquet(file)
        elif suffix == ".csv":
            frame = pd.read_csv(file, dtype={"entity_id": str, "arm": str, "metric": str})
        else:
            raise InvalidInput(field, f"{file} must be a .parquet or .csv file")
    except InvalidInput:
        raise
    except Exception as error:  # the reader's own message says what is wrong with the file
        raise InvalidInput(field, f"{file} cannot be read ({error})") from None
    rows = frame.to_dict(orient="records")
    return [{str(k): _cell(v, pd.isna) for k, v in row.items()} for row in rows]


def _cell(value: Any, missing: Any) -> Any:
    if value is None or (not isinstance(value, str | bytes) and bool(missing(value))):
        return None
    if hasattr(value, "to_pydatetime"):  # pandas timestamps
        return value.to_pydatetime()
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value
