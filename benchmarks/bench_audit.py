"""Scale benchmark: `audit`, `report` and `env show` on the generated N-service environment.

Run:  python benchmarks/bench_audit.py                       (N = 50, 200, 500; 3 rounds)
      python benchmarks/bench_audit.py --quick               (N = 50, 200; 1 round)
      python benchmarks/bench_audit.py --baseline-src DIR    (also time another checkout's src/, e.g. the
                                                              one before a change: git worktree add DIR REV)

Each command runs as its own ``accesspath`` process (start-up included) on the template that
``benchmarks/gen_environment.py N`` writes. With ``--baseline-src`` every run is followed by the same
run on the other checkout, so a machine whose load changes slows both alike. Figures: the median
wall time, CPU time (user + system) and peak resident memory of the process, per command and N;
the growth column is the time per service relative to N=50 (1.0 is linear). JSON, then a table.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

COMMANDS: dict[str, list[str]] = {
    "audit": ["audit", "{template}", "--region", "us-east-1", "--format", "json"],
    "report": ["report", "{template}", "--region", "us-east-1", "-o", "{out}/report.html"],
    "env show": ["env", "show", "{template}", "--region", "us-east-1"],
}


def _run(argv: list[str], env: dict[str, str]) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds and peak resident MB of one process."""
    start = time.perf_counter()
    process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert process.stderr is not None
    error = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - start
    if process.returncode not in (0, 1, 3):  # findings and undetermined answers are not failures
        raise SystemExit(f"{' '.join(argv)} failed ({process.returncode}): {error.decode()[-500:]}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="N = 50 and 200, one round")
    parser.add_argument("--sizes", type=int, nargs="+", help="the values of N (default 50 200 500)")
    parser.add_argument("--rounds", type=int, help="runs per command and N (default 3, 1 with --quick)")
    parser.add_argument("--commands", nargs="+", choices=list(COMMANDS), default=list(COMMANDS))
    parser.add_argument("--baseline-src", type=Path, help="another checkout's src/ to time alongside")
    args = parser.parse_args(argv)
    sizes = args.sizes or ([50, 200] if args.quick else [50, 200, 500])
    rounds = args.rounds or (1 if args.quick else 3)
    checkouts = {"this": ROOT / "src"}
    if args.baseline_src:
        checkouts["baseline"] = args.baseline_src.resolve()
    runs: dict[tuple[str, str, int], list[tuple[float, float, float]]] = {}
    with tempfile.TemporaryDirectory() as folder:
        for count in sizes:
            template = Path(folder) / f"env{count}.yaml"
            subprocess.run([sys.executable, str(ROOT / "benchmarks" / "gen_environment.py"), str(count),
                            "-o", str(template)], check=True)
            for _ in range(rounds):
                for command in args.commands:
                    line = [part.format(template=template, out=folder) for part in COMMANDS[command]]
                    for name, src in checkouts.items():
                        env = {**os.environ, "PYTHONPATH": str(src)}
                        runs.setdefault((name, command, count), []).append(
                            _run([sys.executable, "-m", "accesspath", *line], env))
    rows = []
    for (name, command, count), measured in runs.items():
        wall = statistics.median(m[0] for m in measured)
        rows.append({"checkout": name, "command": command, "N": count, "wall_s": round(wall, 2),
                     "cpu_s": round(statistics.median(m[1] for m in measured), 2),
                     "peak_mb": round(max(m[2] for m in measured)), "runs": len(measured)})
    first = {(r["checkout"], r["command"]): r for r in rows if r["N"] == min(sizes)}
    for row in rows:
        base = first[(row["checkout"], row["command"])]
        row["growth"] = round((row["cpu_s"] / row["N"]) / (base["cpu_s"] / base["N"]), 2) if base["cpu_s"] else None
    print(json.dumps(rows, indent=2))
    print(f"\n{'checkout':9} {'command':9} {'N':>4} {'wall s':>7} {'cpu s':>7} {'peak MB':>8} {'growth':>7}")
    for row in rows:
        print(f"{row['checkout']:9} {row['command']:9} {row['N']:>4} {row['wall_s']:>7} {row['cpu_s']:>7}"
              f" {row['peak_mb']:>8} {row['growth']!s:>7}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
