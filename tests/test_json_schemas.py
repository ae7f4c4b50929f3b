"""Every command's ``--format json`` output has a JSON Schema under docs/schemas/, and the outputs of
the seeds validate against them; shared objects (path, caller, decision, statement) come from one
vocabulary (docs/schemas/vocabulary.schema.json), so they have one shape in every command."""

from __future__ import annotations

import argparse
import contextlib
import io
import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from accesspath.cli import build_parser, main

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = ROOT / "docs" / "schemas"
EXAMPLES = ROOT / "examples"
SEED_000 = str(EXAMPLES / "seed000-ecs-endpoint-policy" / "template.yaml")
SEED_001 = str(EXAMPLES / "seed001-fargate-private-subnet" / "template.yaml")
SEED_003 = [str(p) for p in sorted((EXAMPLES / "seed003-task-role-policies").glob("*.yaml"))]
SEED_004 = str(EXAMPLES / "seed004-logs-endpoint-policy" / "template.yaml")
LOGS = ROOT / "tests" / "generate" / "logs"
TOKYO = ["--region", "ap-northeast-1"]


def _registry() -> Registry:
    resources = []
    for path in SCHEMAS.glob("*.schema.json"):
        schema = json.loads(path.read_text())
        resources.append((path.name, Resource.from_contents(schema)))
        resources.append((schema["$id"], Resource.from_contents(schema)))
    return Registry().with_resources(resources)


REGISTRY = _registry()


def validator(name: str) -> Draft202012Validator:
    schema = json.loads((SCHEMAS / f"{name}.schema.json").read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, registry=REGISTRY)


def run_json(argv: list[str]) -> object:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        main(argv)
    return json.loads(out.getvalue())


def _json_commands() -> set[str]:
    """The (sub)commands that take --format json, as schema names: 'launch-check', 'policy-generate'."""
    names: set[str] = set()

    def walk(parser: argparse.ArgumentParser) -> None:
        for action in parser._actions:
            if "--format" in action.option_strings and "json" in (action.choices or ()):
                names.add(parser.prog.removeprefix("accesspath ").replace(" ", "-"))
            if isinstance(action, argparse._SubParsersAction):
                for sub in action.choices.values():
                    walk(sub)
    walk(build_parser())
    return names


def test_every_json_command_has_a_schema() -> None:
    commands = _json_commands()
    assert {"can", "access", "launch-check", "audit", "validate", "policy-generate"} <= commands
    missing = sorted(c for c in commands if not (SCHEMAS / f"{c}.schema.json").exists())
    assert missing == []


CASES = [
    ("can", ["can", "--format", "json", SEED_000, *TOKYO, "--from", "AdminInstance", "--", "aws", "ecs",
             "describe-clusters", "--clusters", "test-dev-cluster"]),
    ("can", ["can", "--format", "json", SEED_001, "--param", "EcrDkrEndpoint=false", "--from", "Service",
             "--via", "ecr.dkr", "--action", "ecr:BatchGetImage", "--explain"]),
    ("access", ["access", "--format", "json", SEED_004, *TOKYO, "--from", "LogsInstance", "--service", "logs"]),
    ("launch-check", ["launch-check", "--format", "json", SEED_001, "--service", "Service"]),
    ("launch-check", ["launch-check", "--format", "json", SEED_001, "--service", "Service",
                      "--param", "S3GatewayEndpoint=false"]),
    ("audit", ["audit", "--format", "json", *SEED_003]),
    ("validate", ["validate", "--format", "json", *SEED_003]),
    ("policy-generate", ["policy", "generate", "--format", "json", "--from-log",
                         str(LOGS / "seed004-logs-with-denied.jsonl"), SEED_004, *TOKYO]),
    ("call", ["call", "--format", "json", "--", "aws", "ecs", "describe-clusters", "--clusters", "x"]),
    ("actions", ["actions", "--format", "json", "ecs:Describe*"]),
    ("catalog-info", ["catalog", "info", "--format", "json"]),
    ("simulate", ["simulate", str(EXAMPLES / "simulate" / "seed000-ecs-endpoint.json")]),
    ("prove", ["prove", "--format", "json", SEED_000, *TOKYO, "--property", "access-not-granted",
               "--caller", "AdminInstance", "--actions", "ecs:ListClusters"]),
    ("prove", ["prove", "--format", "json", SEED_004, *TOKYO, "--property", "no-data-out", "--org", "o-exampleorgid"]),
]


@pytest.mark.parametrize("name, argv", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_output_validates_against_its_schema(name: str, argv: list[str]) -> None:
    output = run_json(argv)
    errors = sorted(validator(name).iter_errors(output), key=lambda e: list(e.path))
    assert [f"{list(e.path)}: {e.message}" for e in errors[:5]] == []


def test_diff_output_validates_against_its_schema(tmp_path: Path) -> None:
    # docs/prove.md's worked example: seed 000's endpoint policy changed from ListClusters to DescribeClusters.
    after = tmp_path / "after.yaml"
    after.write_text(Path(SEED_000).read_text(encoding="utf-8").replace(
        "Default: ecs:ListClusters", "Default: ecs:DescribeClusters"), encoding="utf-8")
    output = run_json(["diff", "--format", "json", SEED_000, *TOKYO, "--", str(after)])
    assert isinstance(output, dict) and output["status"] == "new access"
    errors = sorted(validator("diff").iter_errors(output), key=lambda e: list(e.path))
    assert [f"{list(e.path)}: {e.message}" for e in errors[:5]] == []
    witness = next(c for c in output["callers"] if c["newAccess"])["newAccess"][0]
    assert witness["path"]["kind"] == "interface-endpoint" and witness["caller"]["kind"] == "instance"


def test_the_path_has_one_shape_in_can_access_and_launch_check() -> None:
    can = run_json(CASES[0][1])
    access = run_json(CASES[2][1])
    launch = run_json(CASES[3][1])
    paths = [can["results"][0]["path"], access["services"][0]["allowed"][0]["path"],
             next(s["path"] for s in launch["steps"] if s["path"] is not None)]
    assert all(isinstance(p, dict) for p in paths)
    assert len({tuple(sorted(p)) for p in paths}) == 1


def test_validate_and_audit_write_findings_in_one_shape() -> None:
    # Issue 12 item 6: the same finding object (vocabulary.schema.json#/$defs/finding) in both commands.
    validated = run_json(["validate", "--format", "json", *SEED_003])
    audited = run_json(["audit", "--format", "json", *SEED_003])
    assert isinstance(validated, dict) and isinstance(audited, dict)
    assert validated["findings"] and audited["findings"]
    keys = {tuple(sorted(f)) for f in validated["findings"] + audited["findings"]}
    assert len(keys) == 1
    assert all(f["subject"] is None and f["evidence"] == [] for f in validated["findings"])
    assert any(f["evidence"] for f in audited["findings"])
    assert all(f["location"]["file"] for f in validated["findings"])


def test_audit_json_and_sarif_carry_the_template_errors() -> None:
    # Seed 003's SSMAccessPolicy has no Type: the audit met that error and says so in its outputs.
    report = run_json(["audit", "--format", "json", *SEED_003])
    missing = [e for e in report["templateErrors"] if e["code"] == "missing-type"]
    assert missing and missing[0]["severity"] == "error"
    assert missing[0]["location"]["file"].endswith("backend-task-role-policies.yaml")
    assert missing[0]["location"]["line"] == 83
    sarif = run_json(["audit", "--format", "sarif", *SEED_003])
    results = [r for r in sarif["runs"][0]["results"] if r["ruleId"] == "template"]
    assert any("SSMAccessPolicy" in r["message"]["text"] and r["level"] == "error" for r in results)
    located = next(r for r in results if "has no Type" in r["message"]["text"])
    assert located["locations"][0]["physicalLocation"]["region"]["startLine"] == 83
