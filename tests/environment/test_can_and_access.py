"""can/access details: organization policies, unknown owners, resource policies, access summaries."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from accesspath.cli import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SEED_000 = str(EXAMPLES / "seed000-ecs-endpoint-policy" / "template.yaml")
SEED_001 = str(EXAMPLES / "seed001-fargate-private-subnet" / "template.yaml")
SEED_004 = str(EXAMPLES / "seed004-logs-endpoint-policy" / "template.yaml")


def can(capsys, *argv: str) -> tuple[int, dict]:
    code = main(["can", "--format", "json", *argv])
    return code, json.loads(capsys.readouterr().out)


def test_scp_levels_apply_to_the_caller(capsys, tmp_path) -> None:
    root = tmp_path / "root.json"
    root.write_text(json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
    ou = tmp_path / "ou.json"
    ou.write_text(json.dumps([{"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Sid": "NoClusterReads", "Effect": "Deny", "Action": "ecs:List*", "Resource": "*"}]}]))
    code, report = can(capsys, SEED_000, "--region", "ap-northeast-1", "--scp", str(root), "--scp", str(ou),
                       "--from", "AdminInstance", "--", "aws", "ecs", "list-clusters")
    result = report["results"][0]
    assert code == 1 and result["decision"] == "explicitDeny" and result["decidingGate"] == "scp"
    assert result["matchedStatements"][0]["Sid"] == "NoClusterReads"
    assert result["matchedStatements"][0]["Source"] == str(ou)


def test_unknown_owner_is_said_never_guessed(capsys) -> None:
    # An S3 ARN names no account. With an identity policy alone the owner decides: allowed in the
    # caller's own account, denied in another (no bucket policy there) — so the answer is withheld.
    code, report = can(capsys, SEED_001, "--from", "web-execution-role", "--action", "ecr:BatchGetImage",
                       "--resource", "arn:aws:s3:::bucket/key")
    assert report["results"][0]["decision"] == "undetermined"
    assert "owner of 'arn:aws:s3:::bucket/key' is unknown" in report["results"][0]["message"]
    code, report = can(capsys, SEED_001, "--from", "web-execution-role", "--action", "ecr:BatchGetImage",
                       "--resource", "arn:aws:s3:::bucket/key", "--resource-account", "123456789012")
    assert report["results"][0]["decision"] == "allowed"


def test_access_lists_allowed_actions_and_limiting_gates(capsys) -> None:
    code = main(["access", SEED_004, "--region", "ap-northeast-1", "--from", "LogsInstance", "--service", "logs",
                 "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    (logs,) = report["services"]
    allowed = {(a["action"], a["resource"]) for a in logs["allowed"]}
    group = "arn:aws:logs:ap-northeast-1:123456789012:log-group:logs-test-allowed:log-stream:"
    assert ("logs:DescribeLogStreams", group) in allowed
    assert all("logs-test-denied" not in resource for _, resource in allowed)
    limits = {(g["gate"], g["decision"]): g["pairs"] for g in logs["limits"]}
    assert limits[("vpc-endpoint", "implicitDeny")] > 0
    assert code == 0


def test_can_rejects_mixed_inputs(capsys) -> None:
    assert main(["can", SEED_004, "--from", "LogsInstance", "--action", "logs:PutLogEvents", "--",
                 "aws", "logs", "describe-log-groups"]) == 2
    assert "either --action or a call" in capsys.readouterr().err
    assert main(["can", SEED_004, "--from", "LogsInstance"]) == 2
    assert "say what to decide" in capsys.readouterr().err
    with pytest.raises(SystemExit) as stopped:
        main(["simulate", "-", "--", "x"])
    assert stopped.value.code == 2 and "takes no command after '--'" in capsys.readouterr().err
