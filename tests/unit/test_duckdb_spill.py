"""DuckDB under a memory limit spills to the given folder instead of failing."""

from __future__ import annotations

from pathlib import Path

from lucid.engines.duckdb import DuckDBEngine


def test_a_sort_larger_than_the_memory_limit_spills_and_completes(tmp_path: Path) -> None:
    spill = tmp_path / "spill"
    with DuckDBEngine(tmp_path, memory_limit="32MB", threads=1, spill_directory=spill) as engine:
        [(setting,)] = engine.connection.execute(
            "SELECT current_setting('temp_directory')"
        ).fetchall()
        assert Path(setting) == spill
        assert not spill.exists()
        # 3 M rows of (BIGINT, VARCHAR) sorted: far more than 32 MB in memory
        [(count, first, last)] = engine.connection.execute(
            "SELECT count(*), min(k + r - r), max(r) - 1 FROM (SELECT k, s, "
            "row_number() OVER (ORDER BY s) AS r "
            "FROM (SELECT i AS k, md5(CAST(i AS VARCHAR)) AS s FROM range(3000000) t(i)))"
        ).fetchall()
        assert spill.is_dir()  # made on the first write; removed again when DuckDB closes
    assert (count, first, last) == (3_000_000, 0, 2_999_999)
