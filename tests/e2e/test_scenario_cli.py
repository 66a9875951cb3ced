"""`lucid scenario generate` in real processes: a project with the world's data, and errors."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import run_lucid


def test_generate_writes_a_project_with_every_source_and_the_shock_schedule(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "world"
    result = run_lucid(
        "scenario", "generate", str(folder), "--customers", "200", "--days", "60", "--seed", "3"
    )
    assert result.code == 0, result.stderr
    assert (folder / "lucid.yaml").exists()
    for source in ("purchases", "logins", "app_interactions", "support_tickets", "customers"):
        assert list((folder / "data" / source).glob("*.parquet")), source
        assert source in result.stdout
    truth = json.loads((folder / "world.json").read_text())
    assert [shock["kind"] for shock in truth["shocks"]] == [
        "source_outage",
        "pandemic",
        "null_values",
        "new_segment",
        "price_change",
        "regulation",
    ]
    assert [shock["day"] for shock in truth["shocks"]] == [18, 24, 30, 36, 42, 48]
    assert "pandemic-like shift" in result.stdout
    again = run_lucid("scenario", "generate", str(folder), "--days", "60")
    assert again.code == 1
    assert again.stderr.count("\n") == 1 and "already holds data" in again.stderr


def test_bad_input_is_one_sentence_naming_the_field_and_exit_1(tmp_path: Path) -> None:
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "todo.txt").write_text("keep me")
    cases = [
        (["--customers", "-5"], "customers: must be a whole number of at least 1"),
        (["--days", "0"], "days: must be a whole number of at least 1"),
        (["--seed", "-1"], "seed: must be a whole number of at least 0"),
    ]
    for options, sentence in cases:
        result = run_lucid("scenario", "generate", str(tmp_path / "new"), *options)
        assert result.code == 1
        assert result.stderr.count("\n") == 1 and sentence in result.stderr
    assert not (tmp_path / "new").exists()
    result = run_lucid("scenario", "generate", str(tmp_path / "notes"))
    assert result.code == 1
    assert "DIR:" in result.stderr and "neither a Lucid project nor empty" in result.stderr
    assert (tmp_path / "notes" / "todo.txt").read_text() == "keep me"
