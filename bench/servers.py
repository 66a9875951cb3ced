"""Servers the benches start on loopback: a free port, `lucid serve` on a project, and the
CPU seconds a server's processes spent (Linux /proc)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(
    folder: Path, port: int, workers: int, log: Path | None = None
) -> subprocess.Popen[bytes]:
    """`lucid serve` on `folder`'s project, once it has started (`started`); its standard
    error goes to `log` (default: `serve.log` in the folder)."""
    log = log or folder / "serve.log"
    command = ["-m", "lucid", "--project", str(folder), "serve", "--port", str(port)]
    process = subprocess.Popen(
        [sys.executable, *command, "--workers", str(workers)],
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb"),
    )
    return started(process, port, log)


def started(process: subprocess.Popen[bytes], port: int, log: Path) -> subprocess.Popen[bytes]:
    """`process` once it answers `/healthz` and its workers have settled: one worker answers
    while another may still be loading its models, which the first step would measure."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.2)
    while time.monotonic() < deadline:
        before = tree_cpu_seconds(process.pid)
        time.sleep(1.0)
        if tree_cpu_seconds(process.pid) - before < 0.05:  # cores, over that second
            return process
    process.kill()
    raise SystemExit(f"the server did not start: {log.read_text()}")


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and its descendants (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    total, stack = 0.0, [pid]
    while stack:
        current = stack.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
            for task in Path(f"/proc/{current}/task").iterdir():
                stack += [int(c) for c in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total
