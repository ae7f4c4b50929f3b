"""Every command line in README.md and docs/*.md is checked against the code: each parses with the CLI's
own parser (no abbreviation, no unknown option), those that need only this repository are run, and the
rest are listed here with the test that runs their kind or why they cannot run (a placeholder file).
The emulator's quick start (docs/emulator.md) runs as written, with moto and the real AWS CLI."""

from __future__ import annotations

import contextlib
import io
import os
import re
import shlex
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from accesspath.cli import build_parser, main

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

# Lines that are not run here, each with the reason; a stale entry fails the test.
NOT_RUN = {
    "accesspath serve examples/seed000-ecs-endpoint-policy/template.yaml --region ap-northeast-1 --from AdminInstance"
    " --upstream http://127.0.0.1:5000 --listen 127.0.0.1:4566 --log decisions.jsonl":
        "a server: run by test_the_emulator_quick_start_works_as_written",
    "accesspath run TEMPLATE --from TASK --upstream http://127.0.0.1:5000 -- python app.py":
        "placeholders; accesspath run is run by tests/emulator",
    "accesspath run stack.yaml --region eu-west-1 --from OrdersService --upstream http://127.0.0.1:5000 -- aws sqs"
    " send-message --queue-url https://sqs.eu-west-1.amazonaws.com/123456789012/orders --message-body hi":
        "a placeholder template; this very call is run by tests/emulator/test_emulator_transparent.py",
    "accesspath env show network.yaml roles.yaml app.yaml --region ap-northeast-1 --param EnvType=Production":
        "placeholder files of docs/environment.md; env show is run by tests/environment",
    "accesspath env export network.yaml roles.yaml app.yaml --region ap-northeast-1 -o env.json":
        "placeholder files; env export is run by tests/environment/test_native_file.py",
    "accesspath env show state.json": "a Terraform state the user has; run by the Terraform tests",
    "accesspath snapshot --profile audit --region eu-west-1 -o env.json":
        "reads a live account; snapshot is run against moto's server by its own tests",
    "accesspath audit env.json": "the environment file a snapshot wrote",
    "accesspath can env.json --from i-0123456789abcdef0 -- aws logs put-log-events ...":
        "the environment file a snapshot wrote",
    "accesspath can plan.json --from module.svc.aws_ecs_service.this --action sqs:ReceiveMessage --resource arn:...":
        "a Terraform plan the user has",
    "accesspath prove seed004-default-endpoint-policy.yaml --region ap-northeast-1 --property no-data-out"
    " --org o-exampleorgid --max-witnesses 1": "a variant file of docs/prove.md; prove is run by tests/prove",
    "accesspath diff before.yaml --region ap-northeast-1 -- after.yaml": "placeholder files; run by tests/prove",
    "accesspath diff examples/seed000-ecs-endpoint-policy/template.yaml --region ap-northeast-1 --base HEAD":
        "needs the git history of a checkout; diff --base is run by tests/prove",
    "accesspath prove examples/seed000-ecs-endpoint-policy/template.yaml --region ap-northeast-1 --property"
    " access-not-granted --caller AdminInstance --actions ecs:DescribeClusters": "the solver: run by tests/prove",
    "accesspath prove examples/seed004-logs-endpoint-policy/template.yaml --region ap-northeast-1 --property"
    " no-data-out --org o-exampleorgid": "the solver: run by tests/prove",
}
# Exit status each run line must give (0 allowed or ready, 1 denied or not ready).
EXPECTED_EXIT = {
    "accesspath can examples/seed000-ecs-endpoint-policy/template.yaml --region ap-northeast-1 --from AdminInstance"
    " --explain -- aws ecs list-clusters": 0,
    "accesspath can examples/seed000-ecs-endpoint-policy/template.yaml --region ap-northeast-1 --from AdminInstance"
    " -- aws ecs describe-clusters --clusters test-dev-cluster": 1,
    "accesspath launch-check examples/seed001-fargate-private-subnet/template.yaml --service Service"
    " --param EcrDkrEndpoint=false": 1,
}


def command_lines() -> list[str]:
    """``accesspath ...`` lines of the code blocks, continuations joined, comments and prompts removed."""
    found: list[str] = []
    for path in DOCS:
        for block in re.findall(r"```[a-z]*\n(.*?)```", path.read_text(), re.DOTALL):
            for line in block.replace("\\\n", " ").splitlines():
                line = re.sub(r"^\$ ", "", line.strip())
                for part in line.split("&&"):
                    # The shell's redirections and '&' are not part of the command.
                    words = re.split(r"\s(?:\d?>|\||&\s*$)", part.split("#", 1)[0] + " ")[0].split()
                    if words and words[0].endswith("accesspath") and not words[0].startswith('"'):
                        found.append(" ".join(["accesspath", *words[1:]]))
    return list(dict.fromkeys(found))


def test_every_line_is_run_or_listed_with_its_reason() -> None:
    lines = command_lines()
    assert len(lines) >= 10
    unlisted = [line for line in lines if line not in NOT_RUN and line not in EXPECTED_EXIT]
    assert unlisted == []
    stale = [line for line in (*NOT_RUN, *EXPECTED_EXIT) if line not in lines]
    assert stale == []


@pytest.mark.parametrize("line", command_lines())
def test_every_line_parses_with_the_cli_parser(line: str) -> None:
    words = shlex.split(line)[1:]
    if "--" in words:
        words = words[:words.index("--")]
    with contextlib.redirect_stderr(io.StringIO()) as err:
        try:
            build_parser().parse_args(words)
        except SystemExit as stopped:
            pytest.fail(f"{line}: {err.getvalue().strip()} (exit {stopped.code})")


@pytest.mark.parametrize("line", sorted(EXPECTED_EXIT))
def test_the_repository_lines_run_with_the_documented_outcome(line: str, monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = main(shlex.split(line)[1:])
    assert code == EXPECTED_EXIT[line], out.getvalue()


def _quick_start() -> str:
    text = (ROOT / "docs" / "emulator.md").read_text()
    return re.findall(r"```sh\n(.*?)```", text, re.DOTALL)[0]


def test_the_emulator_quick_start_works_as_written(tmp_path: Path) -> None:
    bin_dir = Path(sys.executable).parent
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}", "HOME": str(tmp_path)}
    for key in ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_ENDPOINT_URL"):
        env.pop(key, None)
    process = subprocess.Popen(["bash", "-c", _quick_start()], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = process.communicate(timeout=120)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
    assert '"clusterArns"' in out, err
    assert "AccessDeniedException" in err and "because no VPC endpoint policy allows" in err
    assert "ecs:DescribeClusters" in (tmp_path / "decisions.jsonl").read_text()
