"""A worker of `lucid serve --workers 2` killed (SIGKILL) in the middle of a load: requests may
fail while it dies, but every prediction the service acknowledged (status 200 with its id) is
in the prediction log."""

from __future__ import annotations

import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from lucid.bootstrap import open_project
from lucid.storage.tables import prediction_log
from tests.e2e.service_world import build_project, served

pytestmark = pytest.mark.slow

THREADS, REQUESTS_PER_THREAD = 8, 150


def worker_pids(server: int) -> list[int]:
    """uvicorn's worker processes: the server's children started by multiprocessing spawn
    (its resource tracker is a child too, and is no worker)."""
    children: list[int] = []
    for task in Path(f"/proc/{server}/task").iterdir():
        children += [int(pid) for pid in (task / "children").read_text().split()]
    return [pid for pid in children if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()]


def test_no_acknowledged_prediction_is_lost_when_a_worker_is_killed(tmp_path: Path) -> None:
    folder = tmp_path / "shop"
    secrets = build_project(folder, monitored=False)
    headers = {"Authorization": f"Bearer {secrets['service']}"}
    acknowledged: list[str] = []
    failed: list[str] = []
    done = threading.Lock()
    with served(folder, workers=2) as (base, process):
        workers = worker_pids(process.pid)
        assert len(workers) == 2, workers

        def load(thread: int) -> None:
            with httpx.Client(base_url=base, headers=headers, timeout=10) as client:
                for number in range(REQUESTS_PER_THREAD):
                    entity = f"c{(thread * REQUESTS_PER_THREAD + number) % 200:05d}"
                    try:
                        answer = client.post("/v1/predict/churn", json={"entity_id": entity})
                    except httpx.TransportError as error:
                        with done:
                            failed.append(type(error).__name__)
                        continue
                    with done:
                        if answer.status_code == 200:
                            acknowledged.append(answer.json()["prediction_id"])
                        else:
                            failed.append(str(answer.status_code))

        with ThreadPoolExecutor(THREADS) as pool:
            futures = [pool.submit(load, thread) for thread in range(THREADS)]
            deadline = time.monotonic() + 60
            while len(acknowledged) < THREADS * REQUESTS_PER_THREAD // 4:
                assert time.monotonic() < deadline, "the load did not start"
                time.sleep(0.01)
            before_kill = len(acknowledged)
            os.kill(workers[0], signal.SIGKILL)
            for future in futures:
                future.result()
        after_kill = len(acknowledged) - before_kill
        assert (
            not Path(f"/proc/{workers[0]}").exists()
            or b"Z" in Path(f"/proc/{workers[0]}/stat").read_bytes().split(b")")[1][:3]
        )  # gone, or a zombie
    assert after_kill > 0, "nothing was served after the kill"
    with open_project(folder, environ={}) as lucid, lucid.db.transaction() as connection:
        logged = set(connection.execute(select(prediction_log.c.id)).scalars())
    missing = [prediction for prediction in acknowledged if prediction not in logged]
    assert not missing, f"{len(missing)} acknowledged predictions are not in the log"
    assert len(acknowledged) + len(failed) == THREADS * REQUESTS_PER_THREAD
    print(
        f"{len(acknowledged)} acknowledged ({after_kill} after the kill), "
        f"{len(failed)} failed: {sorted(set(failed))}"
    )
