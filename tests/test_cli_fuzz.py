"""Fuzz the readers of every input the command line takes (issue 17, item 6).

Templates, native environment files, policies, simulate requests and decision logs: each is a
small valid input mutated (truncated, cut, spliced with hostile pieces), read by the command a
user would run. Whatever the input, the command answers (exit 0 or 1) or says in one line why
it cannot (exit 2) — an exception escaping ``main`` fails the test with the input that caused it.
Each input is held to a time and memory bound (a hang or a blowup fails too): the bounds are
generous, they catch runaway work, not slowness.
"""

from __future__ import annotations

import json
import tracemalloc
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from accesspath.cli import main

MEMORY_BOUND = 256 * 1024 * 1024
BOUNDED = settings(max_examples=15, deadline=timedelta(seconds=30), derandomize=True,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

TEMPLATE = """AWSTemplateFormatVersion: '2010-09-09'
Parameters:
  Name:
    Type: String
    Default: web
    AllowedPattern: '[a-z]+'
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      RoleName: !Sub '${Name}-task'
      AssumeRolePolicyDocument:
        Version: '2012-10-17'
        Statement:
          - Effect: Allow
            Principal: {Service: ecs-tasks.amazonaws.com}
            Action: sts:AssumeRole
      Policies:
        - PolicyName: app
          PolicyDocument:
            Version: '2012-10-17'
            Statement:
              - Effect: Allow
                Action: [s3:GetObject]
                Resource: !Sub 'arn:aws:s3:::${Name}/*'
"""

NATIVE = json.dumps({
    "accesspath-environment": 1, "account": "123456789012", "region": "us-east-1", "partition": "aws",
    "vpcs": [{"id": "vpc-1", "cidr": "10.0.0.0/16"}],
    "subnets": [{"id": "subnet-1", "vpcId": "vpc-1", "cidr": "10.0.1.0/24", "routeTableId": "rtb-1"}],
    "routeTables": [{"id": "rtb-1", "vpcId": "vpc-1", "routes": [{"destination": "0.0.0.0/0", "target": "nat",
                                                                   "targetId": "nat-1"}]}],
    "roles": [{"name": "app", "arn": "arn:aws:iam::123456789012:role/app",
               "policies": [{"id": "p", "document": {"Version": "2012-10-17", "Statement": {
                   "Effect": "Allow", "Action": "s3:*", "Resource": "*"}}}]}],
    "resources": [{"kind": "s3-bucket", "arn": "arn:aws:s3:::data"}],
    "notModelled": [{"logicalId": "Fn", "type": "AWS::Lambda::Function"}],
}, indent=1)

POLICY = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Sid": "Read", "Effect": "Allow", "Action": ["s3:Get*", "s3:List*"], "Resource": "arn:aws:s3:::b/*/*.txt",
     "Condition": {"StringLike": {"aws:PrincipalTag/team": "a*"}}}]})

REQUEST = json.dumps({"PolicyInputList": [POLICY], "ActionNames": ["s3:GetObject", "s3:PutObject"],
                      "ResourceArns": ["arn:aws:s3:::b/x/y.txt"],
                      "ContextEntries": [{"ContextKeyName": "aws:PrincipalTag/team", "ContextKeyValues": ["ab"],
                                          "ContextKeyType": "string"}]})

LOG = "\n".join(json.dumps({
    "time": "2026-11-22T06:30:00Z", "principal": "arn:aws:sts::123456789012:assumed-role/app/s",
    "caller": {"kind": "ecs-service", "id": "Web"}, "call": {"service": "s3", "operation": "GetObject"},
    "requests": [{"action": "s3:GetObject", "resource": f"arn:aws:s3:::data/{key}", "decision": "allowed",
                  "gate": None, "message": None, "path": {"kind": "nat-gateway", "endpointId": None,
                                                          "serviceName": None}, "statements": []}],
    "decision": "allowed", "status": 200}) for key in ("a", "b")) + "\n"

HOSTILE = ["\x00", "\x01", "\ud800", "\u202e", "\x1b[2J", "&a [x, *a]", "*a", "&a", "<<: {}", "!!python/object:os.system",
           "!Ref", "!GetAtt", "{", "}", "[", "]", ",", ":", '"', "'", "\\", "\\u12", "\t", "\n  ", "- ", "9" * 4400,
           "1e999999", "[" * 300, "{\"a\":" * 300, "${", "${aws:}", "*" * 50, "?" * 20, "arn:", "null", "true", "-1",
           "\ufeff", "\r\n"]


@st.composite
def mutated(draw, base: str) -> str:
    """``base`` truncated, or with a slice deleted, replaced by or spliced with a hostile piece."""
    how = draw(st.sampled_from(["truncate", "delete", "replace", "insert", "twice"]))
    i = draw(st.integers(0, len(base)))
    if how == "truncate":
        return base[:i]
    if how == "delete":
        return base[:i] + base[i + draw(st.integers(1, 40)):]
    piece = draw(st.sampled_from(HOSTILE) | st.text(max_size=8))
    if how == "twice":
        j = draw(st.integers(0, len(base)))
        i, j = sorted((i, j))
        other = draw(st.sampled_from(HOSTILE))
        return base[:i] + piece + base[i:j] + other + base[j:]
    return base[:i] + piece + base[i + (draw(st.integers(1, 10)) if how == "replace" else 0):]


def bounded_run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    tracemalloc.start()
    try:
        code = main(argv)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    err = capsys.readouterr().err
    assert peak < MEMORY_BOUND, f"{peak:,} bytes"
    assert code in (0, 1, 2), code
    if code == 2:  # one line; only the decision log's reader adds indented lines naming further bad lines
        first, *rest = err.strip("\n").splitlines()
        assert first.startswith("accesspath: error: ") and all(line.startswith("  ") for line in rest), err
    assert "Traceback" not in err
    return code, err


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    return str(path)


@settings(BOUNDED, max_examples=12)
@given(mutated(TEMPLATE))
@example(TEMPLATE)
def test_templates(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str) -> None:
    bounded_run(["env", "show", write(tmp_path, "stack.yaml", text)], capsys)


@BOUNDED
@given(mutated(NATIVE))
@example(NATIVE)
def test_native_environment_files(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str) -> None:
    bounded_run(["env", "show", write(tmp_path, "env.json", text)], capsys)


@BOUNDED
@given(mutated(POLICY))
@example(POLICY)
def test_policies(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str) -> None:
    bounded_run(["validate", write(tmp_path, "policy.json", text)], capsys)


@BOUNDED
@given(mutated(REQUEST))
@example(REQUEST)
def test_simulate_requests(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str) -> None:
    bounded_run(["simulate", write(tmp_path, "request.json", text), "--format", "text"], capsys)


@BOUNDED
@given(mutated(LOG))
@example(LOG)
def test_decision_logs(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str) -> None:
    bounded_run(["policy", "generate", "--from-log", write(tmp_path, "log.jsonl", text)], capsys)


@pytest.mark.parametrize("command, name, text", [
    (["env", "show"], "stack.yaml", TEMPLATE), (["env", "show"], "env.json", NATIVE),
    (["validate"], "policy.json", POLICY), (["simulate"], "request.json", REQUEST),
    (["policy", "generate", "--from-log"], "log.jsonl", LOG)])
def test_the_unmutated_inputs_are_read(tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str],
                                       name: str, text: str) -> None:
    # The fuzzing starts from inputs that work, so what it finds is about the mutation.
    code, err = bounded_run([*command, write(tmp_path, name, text)], capsys)
    assert code in (0, 1), err
