"""Proof benchmark: every built-in property and a diff on every example, as whole processes.

Run:  python benchmarks/bench_prove.py           (prints JSON: seconds per example and question)

Each question runs `accesspath prove` (or `accesspath diff`) as its own process, so start-up is
included, as a user sees it. The target (issue 15): each answered in at most 10 s on a 2-core machine.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = {
    "seed000": (["examples/seed000-ecs-endpoint-policy/template.yaml"], ["--region", "ap-northeast-1"]),
    "seed001": (["examples/seed001-fargate-private-subnet/template.yaml"], []),
    "seed002": (["examples/seed002-task-role/template.yaml"], []),
    "seed003": (sorted(str(p.relative_to(ROOT)) for p in (ROOT / "examples/seed003-task-role-policies").glob("*.yaml")), []),
    "seed004": (["examples/seed004-logs-endpoint-policy/template.yaml"], ["--region", "ap-northeast-1"]),
    "ec2-launch-type": (["examples/ec2-launch-type/template.yaml"], []),
}
QUESTIONS = {
    "no-data-out": ["prove", "--property", "no-data-out", "--org", "o-exampleorgid"],
    "no-access-from-outside": ["prove", "--property", "no-access-from-outside"],
    "no-public-access": ["prove", "--property", "no-public-access"],
    "access-not-granted iam:*": ["prove", "--property", "access-not-granted", "--actions", "iam:*"],
    "diff (same state)": ["diff"],
}


def main() -> int:
    results: dict[str, dict[str, object]] = {}
    for name, (templates, options) in EXAMPLES.items():
        if not all((ROOT / t).exists() for t in templates):
            continue
        results[name] = {}
        for question, words in QUESTIONS.items():
            command = [sys.executable, "-m", "accesspath", words[0], *templates, *options, *words[1:]]
            if words[0] == "diff":
                command += ["--", *templates]
            started = time.perf_counter()
            done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
            seconds = time.perf_counter() - started
            status = done.stdout.splitlines()[0] if done.stdout else done.stderr.strip()[:120]
            results[name][question] = {"seconds": round(seconds, 2), "exit": done.returncode, "answer": status}
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
