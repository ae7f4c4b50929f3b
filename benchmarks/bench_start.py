"""Start-up benchmark: wall and CPU time of short ``accesspath`` commands, each its own process.

Run:  python benchmarks/bench_start.py                      (about 30 s: 15 rounds)
      python benchmarks/bench_start.py --quick              (about 5 s: 3 rounds)
      python benchmarks/bench_start.py --baseline-src DIR   (also time another checkout's src/, e.g. the
                                                             one before a change: git worktree add DIR REV)

Each round runs every command once, interleaved with its baselines, so a machine whose load changes
during the run slows both alike: ``python -c pass`` (the interpreter's own start, the floor no
command can go under) and, with ``--baseline-src``, the same command on the other checkout. The
commands are the ones users wait for: ``--help``; ``can`` on seed 000 with an AWS CLI line; ``can
--action`` (no AWS CLI line to read); ``launch-check`` on seed 001; ``simulate`` on the seed 000
request. Figures are medians (and the fastest run) in seconds; CPU is user + system time of the
child. Byte code is cached (written by the first, untimed round) as in an installed package, even
where PYTHONDONTWRITEBYTECODE is set. Results print as JSON, then as a table.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEED000 = "examples/seed000-ecs-endpoint-policy/template.yaml"

COMMANDS: dict[str, list[str]] = {
    "help": ["--help"],
    "can": ["can", SEED000, "--region", "ap-northeast-1", "--from", "AdminInstance", "--", "aws", "ecs",
            "list-clusters"],
    "can --action": ["can", SEED000, "--region", "ap-northeast-1", "--from", "AdminInstance",
                     "--action", "ecs:ListClusters"],
    "launch-check": ["launch-check", "examples/seed001-fargate-private-subnet/template.yaml", "--service", "Service"],
    "simulate": ["simulate", "examples/simulate/seed000-ecs-endpoint.json"],
}


def _run(argv: list[str], env: dict[str, str]) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds (user + system) and exit status of one process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode not in (0, 1, 3):  # 1 and 3 are answers (denied, undetermined), 2 is bad input
        raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.decode()[-500:]}")
    return wall, cpu, done.returncode


def _environment(src: Path | None) -> dict[str, str]:
    # Byte code is cached as in an installed package (pip compiles it at install time): with
    # PYTHONDONTWRITEBYTECODE every run would compile every module again and time the compiler.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONDONTWRITEBYTECODE")}
    if src is not None:
        env["PYTHONPATH"] = str(src)
    return env


def _summary(samples: list[tuple[float, float, int]]) -> dict[str, float]:
    walls = [s[0] for s in samples]
    return {"median_seconds": round(statistics.median(walls), 3), "fastest_seconds": round(min(walls), 3),
            "median_cpu_seconds": round(statistics.median(s[1] for s in samples), 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 rounds instead of 15")
    parser.add_argument("--rounds", type=int, default=None, help="rounds (default: 15, or 3 with --quick)")
    parser.add_argument("--baseline-src", type=Path, default=None, metavar="DIR",
                        help="another checkout's src/ directory, timed with the same commands in the same rounds")
    parser.add_argument("--only", action="append", default=[], choices=sorted(COMMANDS),
                        help="time only this command (repeatable)")
    args = parser.parse_args()
    rounds = args.rounds or (3 if args.quick else 15)
    commands = {k: v for k, v in COMMANDS.items() if not args.only or k in args.only}
    here, base = _environment(ROOT / "src"), _environment(args.baseline_src.resolve() if args.baseline_src else None)
    python = [sys.executable, "-c", "pass"]
    samples: dict[str, list[tuple[float, float, int]]] = {"python -c pass": []}
    baseline: dict[str, list[tuple[float, float, int]]] = {}
    # One untimed round writes the byte-code caches and warms the file system cache.
    for argv in commands.values():
        _run([sys.executable, "-m", "accesspath", *argv], here)
        if args.baseline_src:
            _run([sys.executable, "-m", "accesspath", *argv], base)
    for _ in range(rounds):
        samples["python -c pass"].append(_run(python, here))
        for label, argv in commands.items():
            samples.setdefault(label, []).append(_run([sys.executable, "-m", "accesspath", *argv], here))
            if args.baseline_src:
                baseline.setdefault(label, []).append(_run([sys.executable, "-m", "accesspath", *argv], base))
    report = {
        "python": sys.version.split()[0], "rounds": rounds, "load_average": [round(x, 2) for x in os.getloadavg()],
        "commands": {label: {"argv": ["accesspath", *commands[label]] if label in commands else python[1:],
                             **_summary(runs),
                             **({"baseline": _summary(baseline[label])} if label in baseline else {})}
                     for label, runs in samples.items()},
    }
    print(json.dumps(report, indent=2))
    print(f"\n{'command':<16} {'wall median':>12} {'fastest':>8} {'cpu':>6}"
          + (f" {'baseline wall':>14} {'cpu':>6}" if baseline else ""))
    for label, figures in report["commands"].items():
        line = (f"{label:<16} {figures['median_seconds']:>12.3f} {figures['fastest_seconds']:>8.3f}"
                f" {figures['median_cpu_seconds']:>6.3f}")
        if "baseline" in figures:
            line += f" {figures['baseline']['median_seconds']:>14.3f} {figures['baseline']['median_cpu_seconds']:>6.3f}"
        print(line)


if __name__ == "__main__":
    main()
