"""Offline compute as SQL: DuckDB embedded by default; the SQL is generated in one place."""
