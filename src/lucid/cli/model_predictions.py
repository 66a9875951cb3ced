"""`lucid models predict`: a file of entities scored offline, routed, checked and logged as
`POST /v1/predict` does it (`lucid.monitoring.served_predictions`), written to Parquet."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lucid.contracts.value.stages import Stage
from lucid.errors import InvalidInput
from lucid.experiments.row_files import read_rows
from lucid.monitoring.served_predictions import Asked, Scored, arm_of, score_offline
from lucid.storage.feature_registry import served_value_rows
from lucid.storage.prediction_journal import SqlPredictionJournal

if TYPE_CHECKING:
    from lucid.bootstrap import Lucid

COLUMNS = ("entity_id", "model", "version", "arm", "prediction", "score", "prediction_id")
"""The output's first columns; one column per model input follows."""

CHUNK = 1000
"""Entities read online and predicted per call."""

BATCH_ARM = "batch"
"""The arm of predictions made with `--version` by a version that does not serve production."""

_ROW = re.compile(r"rows\[(?P<row>\d+)\]\.(?P<column>.+)")


def score_file(
    lucid: Lucid, model: str, entities: Path, out: Path, *, version: int | None, actor: str
) -> str:
    """Score every row of `entities` and write `out`; the sentence saying what was done."""
    from_text = entities.suffix.lower() == ".csv"
    rows = _csv_rows(entities) if from_text else read_rows(entities, "--entities")
    asked = _asked(rows, entities)
    experiment = None
    if version is not None:
        chosen = lucid.registry.get_version(model, version)
        arm = "production" if chosen.stage is Stage.PRODUCTION else BATCH_ARM
        arms = [(arm, version)] * len(asked)
    else:
        experiment = lucid.experiments.running_for(model)
        design = lucid.experiments.design(experiment) if experiment is not None else None
        production = lucid.registry.production_number(model)
        if design is None and production is None:
            lucid.registry.get_version(model)  # the not-found sentence
        arms = [arm_of(item.entity_id, design, production) for item in asked]
    try:
        scored = score_offline(
            model,
            asked,
            arms,
            load=lambda number: lucid.registry.load_model(model, version=number),
            read=lambda ids, features, moment: lucid.features.get_online_features(
                ids, features, now=moment
            ),
            clock=lucid.clock,
            where=lambda position: f"rows[{position}]",
            chunk=CHUNK,
            from_text=from_text,
        )
    except InvalidInput as error:
        raise _on_row(error, entities) from None
    written = out.with_name(f".{out.name}.part")
    _write(written, model, scored)
    try:
        _log(lucid, scored, experiment, actor)
    except BaseException:
        written.unlink()
        raise
    written.replace(out)  # the file appears once its predictions are logged
    routed = f"the running experiment {experiment}" if experiment else "production"
    how = f"version {version}" if version is not None else routed
    return (
        f"Scored {len(asked)} entities of {entities.name} with {model} ({how}); "
        f"{len(asked)} predictions logged, written to {out}."
    )


def _csv_rows(entities: Path) -> list[dict[str, Any]]:
    """A CSV file's rows, every cell as written (each input reads its own type)."""
    import pandas as pd  # type: ignore[import-untyped]

    if not entities.is_file():
        raise InvalidInput("--entities", f"the file {entities} does not exist")
    try:
        frame = pd.read_csv(entities, dtype=str, keep_default_na=False)
    except Exception as error:  # the reader's own message says what is wrong with the file
        raise InvalidInput("--entities", f"{entities} cannot be read ({error})") from None
    return [{str(key): value for key, value in row.items()} for row in frame.to_dict("records")]


def _asked(rows: list[dict[str, Any]], entities: Path) -> list[Asked]:
    if not rows:
        raise InvalidInput("--entities", f"{entities} holds no row")
    if "entity_id" not in rows[0]:
        raise InvalidInput("--entities", f"{entities} has no entity_id column")
    asked = []
    for position, row in enumerate(rows):
        entity = row.get("entity_id")
        if isinstance(entity, bool) or not isinstance(entity, str | int) or not str(entity):
            raise InvalidInput(
                "--entities",
                f"row {position + 1} of {entities.name}, column entity_id: must be an id, "
                f"not {entity!r}",
            )
        values = {key: value for key, value in row.items() if key != "entity_id"}
        asked.append(Asked(str(entity), values))
    return asked


def _on_row(error: InvalidInput, entities: Path) -> InvalidInput:
    """A refusal of one row's value, as a sentence naming the file's row and column."""
    found = _ROW.fullmatch(error.field)
    if found is None:
        return error
    row = int(found["row"]) + 1
    return InvalidInput(
        "--entities",
        f"row {row} of {entities.name}, column {found['column']}: {error.rule}; nothing was scored",
    )


def _write(out: Path, model: str, scored: Scored) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    inputs: list[str] = []
    for answer in scored.answers:
        inputs += [name for name in answer["inputs"] if name not in inputs]
    records = [
        {
            "entity_id": answer["entity_id"],
            "model": model,
            "version": answer["version"],
            "arm": answer["arm"],
            "prediction": answer["prediction"],
            "score": answer["score"],
            "prediction_id": answer["prediction_id"],
            **{_column(name): answer["inputs"].get(name) for name in inputs},
        }
        for answer in scored.answers
    ]
    out.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(records), out)


def _column(name: str) -> str:
    """An input's column: its name, unless one of the output's own columns has it."""
    return f"input_{name}" if name in COLUMNS else name


def _log(lucid: Lucid, scored: Scored, experiment: str | None, actor: str) -> None:
    """The served values, the predictions and the exposures, in one unit of work."""
    served = [
        row for values, at in scored.served for row in served_value_rows(list(values.values()), at)
    ]
    with lucid.uows() as uow:
        if experiment is not None:
            routed = [answer for answer in scored.answers if answer["arm"] != "production"]
            lucid.experiments.expose(
                experiment,
                [{"entity_id": a["entity_id"], "arm": a["arm"]} for a in routed],
                actor=actor,
            )
        SqlPredictionJournal(lucid.db, ()).write_in(uow.connection, served, scored.predictions)
