"""`lucid scorecard` and `lucid scorecard --json` as a user runs them: wall time of a new process.

Opens a demo project (`--project`, the `negentropic` folder of `lucid demo`; else builds a
small one with `lucid demo --customers 400 --days 120` in a scratch folder) and runs each
command `--runs` times as a subprocess (`python -m lucid -p PROJECT scorecard`), interleaved
round by round with the floors, so that the machine's load falls on all of them alike:

- `python -c pass`: the interpreter's start;
- `python -c "import sqlalchemy"`: the start and the database toolkit a command needs when
  it measures;
- `python -c "import sqlalchemy, typer, pydantic, yaml"`: the libraries of a command that
  opens its project (the database, the command line, the settings' validation, the YAML of
  `lucid.yaml`).

`lucid scorecard` prints the report kept for its period while nothing it reads has moved
(`lucid.storage.kept_reports`), reading the database with its driver alone; `--measured` adds
a row for the command with its kept settings file deleted before each run, so that every run
of it loads the project, measures every figure and keeps them again: the cost of the first
call after a write.

Every process reads and writes compiled bytecode under a scratch `PYTHONPYCACHEPREFIX`, as an
installed package does (pip compiles it on install), whatever `PYTHONDONTWRITEBYTECODE` says;
`--no-bytecode` compiles every module in every run instead. One run of each is made first and
not counted (it writes the bytecode, warms the file cache, brings the kept skew up to date and
keeps the report). Per command it prints median and p95 wall time in milliseconds and the
median's ratio to each floor, with the load average before and after; a last line gives the
verdict: both commands' medians (not the measured row's) under `--goal` ms (300) or not. To
measure other code, run this with that code's `src` on PYTHONPATH (the subprocesses inherit
it); `--baseline SRC` measures the same two commands of the code in another `src` folder in
the same rounds (e.g. an older commit's, from `git archive`; it must open the same schema),
its rows marked "(baseline)".

    PYTHONPATH=src uv run python bench/cli.py [--project DIR] [--runs 15] [--goal 300]
        [--no-bytecode] [--baseline OLD/src] [--measured]

Measured on the default demo (2 cores, load average 0.5–1.2, 10 rounds, `--measured`):
`import sqlalchemy` 239 ms; `lucid scorecard` 213 ms (0.89×, p95 333 ms), `--json` 182 ms
(0.76×, p95 214 ms), measured with nothing kept 684 ms (2.86×). The code before the kept
report, run next on the same demo at its schema: 692 ms and 675 ms. Goal met on the median.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

LIBRARIES = "import sqlalchemy, typer, pydantic, yaml"

MEASURED = "lucid scorecard (measured)"
"""The command with nothing kept for it: every figure measured, then kept again."""


def build_demo(folder: Path) -> Path:
    """A small demo in `folder`; returns its negentropic project."""
    command = [sys.executable, "-m", "lucid", "demo", "--dir", str(folder / "demo")]
    subprocess.run([*command, "--customers", "400", "--days", "120"], check=True)
    return folder / "demo" / "negentropic"


Command = tuple[list[str], dict[str, str]]
"""A command line and its environment."""


def wall_ms(command: list[str], env: dict[str, str]) -> float:
    """Wall time of one process in milliseconds; stops the bench when it fails, or when a
    `lucid` command prints nothing."""
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    elapsed = (time.perf_counter() - started) * 1000
    if done.returncode != 0 or ("lucid" in command and not done.stdout.strip()):
        sys.exit(f"{' '.join(command)} failed (exit {done.returncode}): {done.stderr.strip()}")
    return elapsed


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def measure(
    project: Path, runs: int, env: dict[str, str], baseline: Path | None, *, measured: bool
) -> dict[str, list[float]]:
    """Wall times in ms of each floor and command, `runs` rounds, interleaved."""
    lucid = [sys.executable, "-m", "lucid", "-p", str(project), "scorecard"]
    commands: dict[str, Command] = {
        "python -c pass": ([sys.executable, "-c", "pass"], env),
        "python -c 'import sqlalchemy'": ([sys.executable, "-c", "import sqlalchemy"], env),
        f"python -c '{LIBRARIES}'": ([sys.executable, "-c", LIBRARIES], env),
        "lucid scorecard": (lucid, env),
        "lucid scorecard --json": ([*lucid, "--json"], env),
    }
    if measured:
        commands[MEASURED] = (lucid, env)
    if baseline is not None:
        old = {**env, "PYTHONPATH": str(baseline)}
        commands["lucid scorecard (baseline)"] = (lucid, old)
        commands["lucid scorecard --json (baseline)"] = ([*lucid, "--json"], old)
    for command, command_env in commands.values():
        wall_ms(command, command_env)
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, (command, command_env) in commands.items():
            if name == MEASURED:
                (project / ".lucid" / "settings.json").unlink(missing_ok=True)
            times[name].append(wall_ms(command, command_env))
    return times


def report(times: dict[str, list[float]], goal: float) -> None:
    floors = [name for name in times if not name.startswith("lucid")]
    header = f"{'':54} {'median':>8} {'p95':>8}   " + "  ".join(
        f"÷floor{i + 1}" for i in range(len(floors))
    )
    print(header)
    for name, values in times.items():
        median = statistics.median(values)
        ratios = "  ".join(f"{median / statistics.median(times[f]):7.2f}" for f in floors)
        print(f"{name:54} {median:8.1f} {p95(values):8.1f}   {ratios}")
    print("floors: " + "; ".join(f"floor{i + 1} = {name}" for i, name in enumerate(floors)))
    medians = {
        name: statistics.median(v)
        for name, v in times.items()
        if name.startswith("lucid") and not name.endswith(("(baseline)", "(measured)"))
    }
    over = [name for name, median in medians.items() if median >= goal]
    figures = ", ".join(f"{name} {median:.0f} ms" for name, median in medians.items())
    verdict = "met" if not over else "NOT met"
    print(f"verdict: goal median < {goal:.0f} ms {verdict} ({figures})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, help="a demo project (its negentropic folder)")
    parser.add_argument("--runs", type=int, default=15, help="counted runs of each command")
    parser.add_argument("--goal", type=float, default=300.0, help="the goal, median wall ms")
    parser.add_argument(
        "--no-bytecode", action="store_true", help="compile every module in every run"
    )
    parser.add_argument(
        "--baseline", type=Path, help="another code's src folder, measured in the same rounds"
    )
    parser.add_argument(
        "--measured",
        action="store_true",
        help="also time the command with its kept report dropped first (measured each run)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        project = args.project or build_demo(Path(scratch))
        env = {**os.environ, "COLUMNS": "120"}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        if args.no_bytecode:
            env["PYTHONDONTWRITEBYTECODE"] = "1"
        else:
            env["PYTHONPYCACHEPREFIX"] = str(Path(scratch) / "pycache")
        bytecode = "compiled in every run" if args.no_bytecode else "cached"
        print(f"project {project}, {args.runs} runs each, bytecode {bytecode}")
        print(f"python {sys.executable}, PYTHONPATH={os.environ.get('PYTHONPATH', '')}")
        before = load()
        times = measure(project, args.runs, env, args.baseline, measured=args.measured)
        print(f"load average before {before}, after {load()} ({os.cpu_count()} CPUs)")
        report(times, args.goal)


if __name__ == "__main__":
    main()
