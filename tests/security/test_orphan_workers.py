"""Issue 20, item 7: killing the `lucid serve` supervisor (SIGKILL, so it cleans nothing up)
must not leave its workers serving with the port taken. The real `lucid serve --workers 2`:
after the kill every worker is gone within seconds and a new `lucid serve` on the same port
answers. The two guards are also proven one at a time, in plain processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from lucid.supervision import ORPHANED_EXIT_CODE
from tests.conftest import run_lucid
from tests.e2e.service_world import free_port

pytestmark = pytest.mark.slow

EXIT_WITHIN = 10.0
"""Seconds the workers may take to end after their supervisor is killed."""


def gone(pid: int) -> bool:
    """The process has ended: no such process, or a zombie waiting to be reaped."""
    try:
        state = Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return True
    return state in (b"Z", b"X")


def wait_until_gone(pids: list[int], seconds: float) -> list[int]:
    """The pids still running after `seconds` (empty when all ended in time)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if all(gone(pid) for pid in pids):
            return []
        time.sleep(0.1)
    return [pid for pid in pids if not gone(pid)]


def started_by(server: int, marker: bytes) -> list[int]:
    """The server's children whose command line holds `marker`."""
    children: list[int] = []
    for task in Path(f"/proc/{server}/task").iterdir():
        children += [int(pid) for pid in (task / "children").read_text().split()]
    return [pid for pid in children if marker in Path(f"/proc/{pid}/cmdline").read_bytes()]


def worker_pids(server: int) -> list[int]:
    """uvicorn's workers: the server's children started by multiprocessing spawn."""
    return started_by(server, b"spawn_main")


def answers(base: str) -> bool:
    try:
        return httpx.get(f"{base}/healthz", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


@contextmanager
def serving(
    folder: Path, port: int, workers: int, *, schedule: bool = False
) -> Iterator[subprocess.Popen[bytes]]:
    """`lucid serve` on `port` until it answers (with its scheduler when `schedule`); at the
    end, it and every process it started are ended (by their own pids) whatever the test
    did."""
    log = (folder / f"serve-{time.monotonic_ns()}.log").open("wb")
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "lucid", "--project", str(folder), "serve"),
            *("--port", str(port), "--workers", str(workers)),
            *(("--schedule", "--tick", "60") if schedule else ()),
        ],
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    started: list[int] = []
    try:
        deadline = time.monotonic() + 60
        expected = workers + (1 if schedule else 0)
        while not (answers(f"http://127.0.0.1:{port}") and len(started) == expected):
            assert process.poll() is None, Path(log.name).read_text(errors="replace")
            assert time.monotonic() < deadline, Path(log.name).read_text(errors="replace")
            started = worker_pids(process.pid) + started_by(process.pid, b"schedule")
            time.sleep(0.2)
        process.started = started  # type: ignore[attr-defined]
        yield process
    finally:
        for pid in [process.pid, *started]:
            if not gone(pid):
                os.kill(pid, signal.SIGKILL)
        process.wait(timeout=30)
        log.close()


def test_workers_end_with_a_killed_supervisor_and_the_port_serves_again(tmp_path: Path) -> None:
    folder = tmp_path / "shop"
    assert run_lucid("init", str(folder)).code == 0
    port = free_port()
    with serving(folder, port, workers=2, schedule=True) as supervisor:
        started: list[int] = supervisor.started  # type: ignore[attr-defined]
        assert len(started) == 3  # two workers and the scheduler (ticking every 60 s)
        os.kill(supervisor.pid, signal.SIGKILL)
        supervisor.wait(timeout=10)
        left = wait_until_gone(started, EXIT_WITHIN)
        assert not left, f"processes {left} outlived their supervisor by {EXIT_WITHIN} s"
        assert not answers(f"http://127.0.0.1:{port}"), "the port still answers"
    with serving(folder, port, workers=2) as again:
        assert answers(f"http://127.0.0.1:{port}")
        assert again.poll() is None


GUARDED_CHILD = textwrap.dedent(
    """
    import os, subprocess, sys
    script = (
        "import os, sys, time\\n"
        "from lucid import supervision\\n"
        "if sys.argv[1] == 'watch-only':\\n"
        "    supervision.set_parent_death_signal = lambda signum: False\\n"
        "supervision.exit_with_supervisor(os.getppid(), interval=0.1)\\n"
        "print('guarded', flush=True)\\n"
        "time.sleep(60)\\n"
    )
    child = subprocess.Popen([sys.executable, "-c", script, sys.argv[1]])
    print(child.pid, flush=True)
    child.wait()
    """
)


@pytest.mark.parametrize("guard", ["death-signal", "watch-only"])
def test_each_guard_alone_ends_an_orphaned_worker(guard: str) -> None:
    """A parent killed by SIGKILL: its guarded child ends, by the kernel's parent-death signal
    or, where there is none, by the thread watching its parent id."""
    parent = subprocess.Popen(
        [sys.executable, "-c", GUARDED_CHILD, guard], stdout=subprocess.PIPE, text=True
    )
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    try:
        assert parent.stdout.readline().strip() == "guarded"
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(timeout=10)
        assert not wait_until_gone([child], EXIT_WITHIN), f"{guard}: the child outlived it"
    finally:
        parent.stdout.close()
        if not gone(child):
            os.kill(child, signal.SIGKILL)


def test_a_worker_whose_supervisor_is_already_gone_exits_before_serving() -> None:
    script = (
        "from lucid.supervision import exit_with_supervisor\n"
        "exit_with_supervisor(1)\n"  # not its parent: the supervisor it was told of is gone
        "print('served anyway')\n"
    )
    finished = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=30
    )
    assert finished.returncode == ORPHANED_EXIT_CODE
    assert "served anyway" not in finished.stdout
