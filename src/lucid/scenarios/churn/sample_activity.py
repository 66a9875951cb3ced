"""A small, seeded sample of the churn world's activity: purchases and logins with noise.

Until the full world generator exists, this gives the canonical activity definition real
events to run on: regular customers, a few bots, and test transactions that must not count.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from pathlib import Path

from lucid.engines.duckdb_access import confine, connect
from lucid.engines.duckdb_access import folder as readable_folder

START = datetime(2026, 1, 1)


def write_sample_activity(
    project_dir: Path, *, customers: int = 200, days: int = 60, seed: int = 7
) -> datetime:
    """Write `data/purchases` and `data/logins` Parquet files; returns the world's end time."""
    rng = random.Random(seed)
    end = START + timedelta(days=days)
    purchases, logins = [], []
    for number in range(customers):
        customer = f"c{number:05d}"
        is_bot = rng.random() < 0.03
        rate = rng.uniform(0.02, 0.4) * (8 if is_bot else 1)
        for day in range(days):
            moment = START + timedelta(days=day, seconds=rng.randrange(86_400))
            if rng.random() < rate / 3:
                is_test = rng.random() < 0.05
                amount = round(rng.lognormvariate(3, 0.6), 2)
                purchases.append((customer, moment, moment, amount, is_bot, is_test))
            for _ in range(rng.choices((0, 1, 2), (1 - rate, rate * 0.7, rate * 0.3))[0]):
                login = moment + timedelta(minutes=rng.randrange(600))
                logins.append((customer, login, login, is_bot))
    connection = connect()
    confine(connection, readable_folder(project_dir / "data"))
    connection.execute(
        "CREATE TABLE purchases (customer_id VARCHAR, purchased_at TIMESTAMP, "
        "ingested_at TIMESTAMP, amount DOUBLE, is_bot BOOLEAN, is_test BOOLEAN)"
    )
    connection.executemany("INSERT INTO purchases VALUES (?, ?, ?, ?, ?, ?)", purchases)
    connection.execute(
        "CREATE TABLE logins (customer_id VARCHAR, logged_in_at TIMESTAMP, "
        "ingested_at TIMESTAMP, is_bot BOOLEAN)"
    )
    connection.executemany("INSERT INTO logins VALUES (?, ?, ?, ?)", logins)
    for table in ("purchases", "logins"):
        folder = project_dir / "data" / table
        folder.mkdir(parents=True, exist_ok=True)
        connection.execute(f"COPY {table} TO '{folder / 'part-0.parquet'}' (FORMAT parquet)")
    connection.close()
    return end
